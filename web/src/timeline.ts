import type { TimelineInterval, TimelinePoint } from './api-types.js';
import { parseTime } from './format.js';

export interface TimelineRow {
  bucket: number;
  [type: string]: number;
}

export interface TimelineSeries {
  rows: TimelineRow[];
  /** Event types, largest total first (the stacking order of the chart). */
  types: string[];
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MAX_BUCKETS = 400;
const MIN_DAYS = 14;

export function stepOf(interval: TimelineInterval): number {
  return interval === 'hour' ? HOUR : DAY;
}

/**
 * Turns sparse `{bucket, type, count}` points into one row per bucket with a count per type, filling
 * empty buckets with zeros. The grid is anchored on a bucket the server returned, so buckets that are
 * not aligned to UTC still line up. `from` is the requested start (hour view); the day view shows at
 * least the last two weeks. Everything runs up to `now`.
 */
export function buildTimeline(
  points: TimelinePoint[],
  interval: TimelineInterval,
  now: number,
  from?: number,
): TimelineSeries {
  const step = stepOf(interval);
  const totals = new Map<string, number>();
  const byBucket = new Map<number, Map<string, number>>();
  for (const point of points) {
    const bucket = parseTime(point.bucket);
    if (Number.isNaN(bucket)) continue;
    const count = Number(point.count) || 0;
    totals.set(point.type, (totals.get(point.type) ?? 0) + count);
    const counts = byBucket.get(bucket) ?? new Map<string, number>();
    counts.set(point.type, (counts.get(point.type) ?? 0) + count);
    byBucket.set(bucket, counts);
  }
  const types = [...totals.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([t]) => t);
  const present = [...byBucket.keys()].sort((a, b) => a - b);

  const anchor = present[0] ?? Math.floor(now / step) * step;
  const align = (ms: number) => anchor + Math.floor((ms - anchor) / step) * step;
  let start = align(from ?? now - (MIN_DAYS - 1) * DAY);
  if (present[0] !== undefined && present[0] < start && from === undefined) start = present[0];
  const last = present[present.length - 1];
  const end = Math.max(align(now), last ?? Number.NEGATIVE_INFINITY);

  let buckets: number[];
  if ((end - start) / step + 1 > MAX_BUCKETS) {
    buckets = present;
  } else {
    buckets = [];
    for (let bucket = start; bucket <= end; bucket += step) buckets.push(bucket);
    // Keep any returned bucket that falls off the grid (e.g. a daylight-saving shift).
    const onGrid = new Set(buckets);
    for (const bucket of present) if (!onGrid.has(bucket)) buckets.push(bucket);
    buckets.sort((a, b) => a - b);
  }

  const rows = buckets.map((bucket) => {
    const row: TimelineRow = { bucket };
    const counts = byBucket.get(bucket);
    for (const type of types) row[type] = counts?.get(type) ?? 0;
    return row;
  });
  return { rows, types };
}

export function formatBucket(bucket: number, interval: TimelineInterval): string {
  const date = new Date(bucket);
  if (interval === 'day') {
    return date.toLocaleDateString('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });
  }
  return date.toLocaleString('en-US', {
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
  });
}

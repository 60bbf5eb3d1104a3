import type { TimelineInterval, ViolationRatePoint } from '../api-types.js';
import { parseTime } from '../format.js';
import { buildTimeline } from '../timeline.js';

export interface RateCell {
  received: number;
  violating: number;
  /** Violating share in percent; null when nothing of that event arrived in the bucket. */
  rate: number | null;
}

export interface RateRow {
  bucket: number;
  cells: Record<string, RateCell>;
}

export interface EventTotals {
  received: number;
  flagged: number;
  quarantined: number;
}

export interface RateSeries {
  rows: RateRow[];
  /** Events with at least one violation in the period, most violations first: one line each. */
  events: string[];
  /** Events that arrived in the period without any violation (not drawn). */
  clean: string[];
  totals: EventTotals;
}

/** Most lines a chart stays readable with; the rest are left out (the top violations table lists them). */
export const MAX_LINES = 10;

/**
 * Turns sparse `{bucket, event, received, flagged, quarantined}` points into one row per bucket with the
 * violation rate of each event, on the same gap-free bucket grid as the events chart. A bucket in which an
 * event did not arrive has no rate (the line skips it) rather than a rate of 0.
 */
export function buildRateSeries(
  points: ViolationRatePoint[],
  interval: TimelineInterval,
  now: number,
  from?: number,
): RateSeries {
  const grid = buildTimeline(
    points.map((point) => ({ bucket: point.bucket, type: point.event, count: point.received })),
    interval,
    now,
    from,
  );
  const byBucket = new Map<number, Map<string, ViolationRatePoint>>();
  const perEvent = new Map<string, EventTotals>();
  const totals: EventTotals = { received: 0, flagged: 0, quarantined: 0 };
  for (const point of points) {
    const bucket = parseTime(point.bucket);
    if (Number.isNaN(bucket)) continue;
    const inBucket = byBucket.get(bucket) ?? new Map<string, ViolationRatePoint>();
    inBucket.set(point.event, point);
    byBucket.set(bucket, inBucket);
    const sum = perEvent.get(point.event) ?? { received: 0, flagged: 0, quarantined: 0 };
    sum.received += Number(point.received) || 0;
    sum.flagged += Number(point.flagged) || 0;
    sum.quarantined += Number(point.quarantined) || 0;
    perEvent.set(point.event, sum);
    totals.received += Number(point.received) || 0;
    totals.flagged += Number(point.flagged) || 0;
    totals.quarantined += Number(point.quarantined) || 0;
  }
  const violatingOf = (sum: EventTotals) => sum.flagged + sum.quarantined;
  const ranked = [...perEvent.entries()].sort(
    ([nameA, a], [nameB, b]) =>
      violatingOf(b) - violatingOf(a) || b.received - a.received || nameA.localeCompare(nameB),
  );
  const events = ranked
    .filter(([, sum]) => violatingOf(sum) > 0)
    .slice(0, MAX_LINES)
    .map(([name]) => name);
  const clean = ranked.filter(([, sum]) => violatingOf(sum) === 0).map(([name]) => name);

  const rows = grid.rows.map((gridRow): RateRow => {
    const cells: Record<string, RateCell> = {};
    const inBucket = byBucket.get(gridRow.bucket);
    for (const event of events) {
      const point = inBucket?.get(event);
      const received = Number(point?.received) || 0;
      const violating = (Number(point?.flagged) || 0) + (Number(point?.quarantined) || 0);
      cells[event] = {
        received,
        violating,
        rate: received > 0 ? Math.min(100, (violating / received) * 100) : null,
      };
    }
    return { bucket: gridRow.bucket, cells };
  });
  return { rows, events, clean, totals };
}

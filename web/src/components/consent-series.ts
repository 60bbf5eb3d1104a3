import type { ConsentInterval, ConsentOverview } from '../api-types.js';
import { CONSENT_PURPOSES } from '../consent-labels.js';
import { parseTime } from '../format.js';

export interface ConsentRow {
  bucket: number;
  people: number;
  /** Share of people granting each purpose, 0–100; null when nobody was known yet. */
  shares: Record<string, number | null>;
}

export interface PurposeFigure {
  purpose: string;
  granted: number;
  people: number;
  /** 0–100, or null with no people. */
  share: number | null;
  defaultDecision: string;
}

export interface ConsentSeries {
  purposes: string[];
  rows: ConsentRow[];
  /** The figures of the latest bucket. */
  latest: PurposeFigure[];
  people: number;
}

/** The overview's counts as shares per bucket, oldest first, and the latest bucket's figures. */
export function buildConsentSeries(overview: ConsentOverview): ConsentSeries {
  const purposes = overview.purposes.length > 0 ? overview.purposes : [...CONSENT_PURPOSES];
  const rows = overview.points
    .map((point) => {
      const shares: Record<string, number | null> = {};
      for (const purpose of purposes) {
        const granted = point.granted[purpose] ?? 0;
        shares[purpose] = point.people > 0 ? (granted / point.people) * 100 : null;
      }
      return { bucket: parseTime(point.bucket), people: point.people, shares };
    })
    .filter((row) => !Number.isNaN(row.bucket))
    .sort((a, b) => a.bucket - b.bucket);
  const last = [...overview.points].sort((a, b) => parseTime(a.bucket) - parseTime(b.bucket)).at(-1);
  const people = last?.people ?? 0;
  const latest = purposes.map((purpose) => {
    const granted = last?.granted[purpose] ?? 0;
    return {
      purpose,
      granted,
      people,
      share: people > 0 ? (granted / people) * 100 : null,
      defaultDecision: overview.defaults[purpose] ?? 'denied',
    };
  });
  return { purposes, rows, latest, people };
}

const DAY_MS = 86_400_000;
/** How many buckets each interval shows: a month of days, half a year of weeks. */
const BUCKETS: Record<ConsentInterval, number> = { day: 30, week: 26 };

/**
 * The period to ask for, on whole UTC days (weeks from Monday) so buckets read as dates, ending with the
 * bucket that holds `now`.
 */
export function overviewWindow(interval: ConsentInterval, now: number): { from: string; to: string } {
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  // 1970-01-01 was a Thursday: day 0 is weekday 4 (Monday = 1).
  const weekday = (Math.floor(today / DAY_MS) + 3) % 7;
  const start = interval === 'week' ? today - weekday * DAY_MS : today;
  const step = interval === 'week' ? 7 * DAY_MS : DAY_MS;
  const end = start + step;
  return {
    from: new Date(end - BUCKETS[interval] * step).toISOString(),
    to: new Date(end).toISOString(),
  };
}

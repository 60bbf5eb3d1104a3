import type { Store } from '../store/store.js';

export interface ViolationRatePoint {
  readonly bucket: string;
  readonly event: string;
  /** Every event received in the bucket: stored (flagged included) plus quarantined. */
  readonly received: number;
  readonly flagged: number;
  readonly quarantined: number;
  /** (flagged + quarantined) / received, 0 when nothing was received. */
  readonly rate: number;
}

/**
 * Violation rate per event name over time: stored events and governance outcomes, counted separately by
 * the store, joined here (one simple query each keeps them within every engine's SQL).
 */
export async function violationRates(
  store: Store,
  options: { interval: 'hour' | 'day'; from?: Date; to?: Date },
): Promise<ViolationRatePoint[]> {
  const [stored, outcomes] = await Promise.all([
    store.governance.eventTimeline(options),
    store.governance.violationTimeline(options),
  ]);
  const points = new Map<
    string,
    { bucket: string; event: string; stored: number; flagged: number; quarantined: number; replayed: number }
  >();
  const pointOf = (bucket: string, event: string) => {
    const key = `${bucket}\u0000${event}`;
    let point = points.get(key);
    if (!point) {
      point = { bucket, event, stored: 0, flagged: 0, quarantined: 0, replayed: 0 };
      points.set(key, point);
    }
    return point;
  };
  for (const row of stored) pointOf(String(row.bucket), row.event).stored += Number(row.count);
  for (const row of outcomes) {
    const point = pointOf(String(row.bucket), row.event);
    if (row.outcome === 'flagged') point.flagged += Number(row.count);
    else if (row.outcome === 'replayed') point.replayed += Number(row.count);
    else point.quarantined += Number(row.count);
  }
  return [...points.values()]
    .map((point) => {
      // A replayed event was quarantined when it arrived and is stored now: one event received, not two.
      const received = point.stored + point.quarantined - point.replayed;
      return {
        bucket: point.bucket,
        event: point.event,
        received,
        flagged: point.flagged,
        quarantined: point.quarantined,
        rate: received > 0 ? (point.flagged + point.quarantined) / received : 0,
      };
    })
    .sort((a, b) => a.bucket.localeCompare(b.bucket) || a.event.localeCompare(b.event));
}

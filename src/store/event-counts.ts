import type { NamedCount, Store } from './store.js';

export interface EventCounts {
  readonly total: number;
  readonly rejected: number;
  readonly bySource: NamedCount[];
}

/** What the store holds, as `/v1/stats` and `refinery stats` report it. */
export async function eventCounts(store: Store): Promise<EventCounts> {
  const [total, rejected, bySource] = await Promise.all([
    store.events.count(),
    store.events.countRejected(),
    store.events.countsBySource(),
  ]);
  return { total, rejected, bySource };
}

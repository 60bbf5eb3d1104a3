import type { EventRecord } from '../store/event-record.js';

export interface TailEntry {
  readonly cursor: number;
  readonly record: EventRecord;
}

/**
 * The last accepted events, kept in memory for the dashboard's live view. Entries are durable in the WAL
 * when they arrive here; the buffer only decides what is cheap to show, never what is stored.
 */
export class TailBuffer {
  private readonly entries: (TailEntry | undefined)[];
  private next = 1;

  constructor(private readonly capacity = 500) {
    this.entries = new Array<TailEntry | undefined>(capacity);
  }

  push(record: EventRecord): void {
    this.entries[this.next % this.capacity] = { cursor: this.next, record };
    this.next++;
  }

  /** Entries with a cursor above `after`, oldest first, at most `limit` (the newest ones when cut). */
  since(after: number, limit: number): TailEntry[] {
    const newest = this.next - 1;
    const from = Math.max(after + 1, newest - Math.min(limit, this.capacity) + 1, 1);
    const result: TailEntry[] = [];
    for (let cursor = from; cursor <= newest; cursor++) {
      const entry = this.entries[cursor % this.capacity];
      if (entry && entry.cursor === cursor) result.push(entry);
    }
    return result;
  }

  get cursor(): number {
    return this.next - 1;
  }
}

import { expandRequestRecord } from '../store/expand-request.js';
import type { EventRecord, RequestRecord } from '../store/wal-format.js';

export interface TailEntry {
  readonly cursor: number;
  readonly record: EventRecord;
}

interface TailRequest {
  /** Cursor of the request's first accepted event. */
  readonly first: number;
  readonly count: number;
  readonly request: RequestRecord;
  expanded?: EventRecord[];
}

/**
 * The last accepted requests, kept in memory for the dashboard's live view. They are durable in the WAL
 * when they arrive here; rows are expanded only when someone looks, so watching costs nothing on ingest.
 */
export class TailBuffer {
  private readonly requests: TailRequest[] = [];
  private next = 1;

  constructor(private readonly capacity = 500) {}

  push(request: RequestRecord, accepted: number): void {
    this.requests.push({ first: this.next, count: accepted, request });
    this.next += accepted;
    let kept = 0;
    let keepFrom = this.requests.length;
    while (keepFrom > 0 && kept < this.capacity) kept += this.requests[--keepFrom]!.count;
    if (keepFrom > 0) this.requests.splice(0, keepFrom);
  }

  /** Events with a cursor above `after`, oldest first, at most `limit` (the newest ones when cut). */
  since(after: number, limit: number): TailEntry[] {
    const result: TailEntry[] = [];
    for (let i = this.requests.length - 1; i >= 0 && result.length < limit; i--) {
      const entry = this.requests[i]!;
      if (entry.first + entry.count - 1 <= after) break;
      entry.expanded ??= expandRequestRecord(entry.request);
      for (let j = entry.expanded.length - 1; j >= 0 && result.length < limit; j--) {
        const cursor = entry.first + j;
        if (cursor > after) result.push({ cursor, record: entry.expanded[j]! });
      }
    }
    return result.reverse();
  }

  /**
   * Drops every kept request with an event of these user or anonymous ids (an erased person), so the live view
   * cannot show them after an erasure. Whole requests go: the view is a glimpse of recent traffic, and cutting
   * one event out of a request would shift the cursors of the others. Returns how many requests were dropped.
   */
  forget(ids: readonly string[]): number {
    const wanted = new Set(ids);
    const before = this.requests.length;
    for (let i = this.requests.length - 1; i >= 0; i--) {
      const entry = this.requests[i]!;
      entry.expanded ??= expandRequestRecord(entry.request);
      const mentions = entry.expanded.some(
        (event) =>
          (event.user_id !== null && wanted.has(event.user_id)) ||
          (event.anonymous_id !== null && wanted.has(event.anonymous_id)) ||
          (event.previous_id !== null && wanted.has(event.previous_id)),
      );
      if (mentions) this.requests.splice(i, 1);
    }
    return before - this.requests.length;
  }

  get cursor(): number {
    return this.next - 1;
  }
}

/**
 * The line format of the write-ahead log, shared by the collector (writer) and the store (loader).
 * One JSON object per line; `k` tells an accepted event (`e`) from a rejected one kept for inspection (`r`).
 * Column names match the public `events` view so an engine can load a segment with its own JSON reader.
 */
export interface EventRecord {
  readonly k: 'e';
  readonly message_id: string;
  readonly type: EventType;
  readonly event: string | null;
  readonly name: string | null;
  readonly category: string | null;
  readonly user_id: string | null;
  readonly anonymous_id: string | null;
  readonly group_id: string | null;
  readonly previous_id: string | null;
  /** Event time after clock-skew correction, ISO 8601 UTC. */
  readonly timestamp: string;
  /** The timestamp the client sent, before correction. */
  readonly original_timestamp: string | null;
  readonly sent_at: string | null;
  readonly received_at: string;
  readonly properties: Record<string, unknown> | null;
  readonly traits: Record<string, unknown> | null;
  readonly context: Record<string, unknown> | null;
  readonly integrations: Record<string, unknown> | null;
  /** Top-level fields outside the Segment spec (e.g. RudderStack's `channel`), kept rather than dropped. */
  readonly extra: Record<string, unknown> | null;
  readonly source: string;
  readonly ip: string | null;
  readonly user_agent: string | null;
  readonly browser: string | null;
  readonly browser_version: string | null;
  readonly os: string | null;
  readonly device_type: string | null;
}

export interface RejectRecord {
  readonly k: 'r';
  readonly received_at: string;
  readonly source: string | null;
  readonly message_id: string | null;
  readonly type: string | null;
  readonly reason_code: string;
  readonly reason: string;
  readonly field: string | null;
  /** The rejected event as received, cut to a bounded size; the full body is never needed to explain a reject. */
  readonly payload: string;
}

export type WalRecord = EventRecord | RejectRecord;

export const EVENT_TYPES = ['track', 'identify', 'page', 'screen', 'group', 'alias'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

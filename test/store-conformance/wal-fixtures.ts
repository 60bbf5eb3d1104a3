import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type EventType,
  type RejectRecord,
  type RequestRecord,
  SPEC_KEYS,
  type WalRecord,
} from '../../src/store/wal-format.js';

let counter = 0;

/** A Segment track message with sensible defaults. */
export function message(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  counter++;
  return {
    type: 'track',
    messageId: `m-${counter}`,
    event: 'Order Completed',
    userId: 'u1',
    timestamp: '2026-03-02T10:00:00.000Z',
    properties: { total: 9.5, items: [{ sku: 'croissant', qty: 2 }], note: 'crème brûlée ☕' },
    context: { library: { name: 'test' }, ip: '203.0.113.7' },
    ...overrides,
  };
}

/** A WAL request line carrying `messages` as a batch (or as one message when `implied_type` is set). */
export function requestLine(
  messages: readonly unknown[],
  overrides: Partial<Omit<RequestRecord, 'k' | 'body'>> & { batchFields?: Record<string, unknown> } = {},
): RequestRecord {
  counter++;
  const { batchFields, ...rest } = overrides;
  const implied = (rest.implied_type ?? null) as EventType | null;
  return {
    k: 'q',
    rid: `req-${counter}`,
    received_at: '2026-03-02T10:00:01.000Z',
    source: 'web',
    implied_type: implied,
    ua: null,
    ip_of: messages.map(() => '203.0.113.0'),
    agent_of: messages.map(() => null),
    agents: [],
    skip: [],
    // What the collector records: which messages carry fields outside the spec.
    extra_of: messages.flatMap((m, i) =>
      m && typeof m === 'object' && Object.keys(m).some((key) => !SPEC_KEYS.has(key)) ? [i] : [],
    ),
    ...rest,
    body: implied ? messages[0] : { batch: messages, ...batchFields },
  };
}

/** One line per message, each on its own request: the simplest way to control received_at per event. */
export function eventLines(...overrides: Record<string, unknown>[]): RequestRecord[] {
  return overrides.map(({ received_at, source, ...fields }) =>
    requestLine([message(fields)], {
      ...(typeof received_at === 'string' ? { received_at } : {}),
      ...(typeof source === 'string' ? { source } : {}),
    }),
  );
}

export function rejectRecord(overrides: Partial<RejectRecord> = {}): RejectRecord {
  return {
    k: 'r',
    received_at: '2026-03-02T10:00:01.000Z',
    source: 'web',
    message_id: 'bad-1',
    type: 'track',
    reason_code: 'REFINERY_ERR_MISSING_FIELD',
    reason: 'batch[0].event is required for a track call.',
    field: 'batch[0].event',
    payload: '{"type":"track"}',
    ...overrides,
  };
}

export function writeSegment(dir: string, name: string, records: readonly WalRecord[]): string {
  const file = join(dir, name);
  writeFileSync(file, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
  return file;
}

/** One request line holding one message, described with the stored column names (`message_id`, `received_at`, …). */
export function eventRecord(columns: Record<string, unknown> = {}): RequestRecord {
  const { message_id, received_at, source, ...fields } = columns;
  return eventLines({
    ...fields,
    ...(message_id !== undefined ? { messageId: message_id } : {}),
    ...(received_at !== undefined ? { received_at } : {}),
    ...(source !== undefined ? { source } : {}),
  })[0]!;
}

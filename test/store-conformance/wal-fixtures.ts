import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EventRecord, RejectRecord, WalRecord } from '../../src/store/event-record.js';

let counter = 0;

export function eventRecord(overrides: Partial<EventRecord> = {}): EventRecord {
  counter++;
  return {
    k: 'e',
    message_id: `m-${counter}`,
    type: 'track',
    event: 'Order Completed',
    name: null,
    category: null,
    user_id: 'u1',
    anonymous_id: null,
    group_id: null,
    previous_id: null,
    timestamp: '2026-03-02T10:00:00.000Z',
    original_timestamp: '2026-03-02T10:00:00.000Z',
    sent_at: null,
    received_at: '2026-03-02T10:00:01.000Z',
    properties: { total: 9.5, items: [{ sku: 'croissant', qty: 2 }], note: 'crème brûlée ☕' },
    traits: null,
    context: { library: { name: 'test' } },
    integrations: null,
    extra: null,
    source: 'web',
    ip: '203.0.113.0',
    user_agent: null,
    browser: null,
    browser_version: null,
    os: null,
    device_type: null,
    ...overrides,
  };
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

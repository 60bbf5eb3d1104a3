import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DuckDbStore } from '../store/duckdb/duckdb-store.js';
import type { QuarantineRecord } from '../store/wal-format.js';
import { ContractSet } from './contract-set.js';
import {
  QUARANTINE_STREAM,
  type QuarantineDecisionContext,
  recoverQuarantineDecisions,
  replayQuarantined,
} from './quarantine.js';

let dir: string;
let store: DuckDbStore;
let context: QuarantineDecisionContext;

function held(id: string): QuarantineRecord {
  return {
    k: 'x',
    id,
    received_at: '2026-03-01T10:00:00.000Z',
    source: 'web',
    type: 'track',
    event: 'Order Completed',
    contract: 'shop',
    contract_version: '1.0.0',
    violations: [{ path: 'properties.order_id', rule: 'required', message: 'is required' }],
    payload: { type: 'track', event: 'Order Completed', userId: 'u1', messageId: id, properties: {} },
    ip: null,
    ua: null,
    agent: null,
  };
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'refinery-quarantine-'));
  store = await DuckDbStore.open({ path: join(dir, 'refinery.duckdb') });
  await store.migrate();
  const file = join(dir, 'seed.ndjson');
  writeFileSync(file, `${[held('a'), held('b')].map((line) => JSON.stringify(line)).join('\n')}\n`);
  await store.events.loadBatch({ stream: 'collector', sequence: 1, file, dedupeWindowHours: 24 });
  context = { store, workDir: join(dir, 'data'), dedupeWindowHours: 24, by: 'test' };
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('quarantine decisions', () => {
  it('finishes a decision an interrupted run left on disk, once, before the next one', async () => {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(context.workDir, { recursive: true });
    const status = { k: 's', ids: ['a'], status: 'discarded', at: '2026-03-02T10:00:00.000Z', by: 'cli' };
    writeFileSync(join(context.workDir, 'quarantine-decision-1.ndjson'), `${JSON.stringify(status)}\n`);
    expect(await recoverQuarantineDecisions(context)).toBe(1);
    expect(readdirSync(context.workDir)).toEqual([]);
    expect(await store.events.lastLoadedSequence(QUARANTINE_STREAM)).toBe(1);
    const [a] = await store.governance.listQuarantined({ ids: ['a'] }, { limit: 1 });
    expect(a?.status).toBe('discarded');
    expect(await recoverQuarantineDecisions(context)).toBe(0);
  });

  it('refuses a corrected payload that is not a valid message, and keeps the held id for a valid one', async () => {
    const contracts = ContractSet.empty();
    const report = await replayQuarantined(context, contracts, {
      filter: { ids: ['a', 'b'] },
      fixes: new Map([
        ['a', { type: 'track', event: 'Order Completed', properties: { order_id: '1' } }],
        [
          'b',
          {
            type: 'track',
            event: 'Order Completed',
            userId: 'u1',
            messageId: 'other',
            properties: { order_id: '2' },
          },
        ],
      ]),
    });
    expect(report.replayed).toBe(1);
    expect(report.stillFailing).toEqual([
      { id: 'a', violations: [expect.objectContaining({ rule: 'segment-spec', path: 'userId' })] },
    ]);
    const stored = await store.readOnlyQuery('SELECT message_id FROM events', {
      timeoutMs: 5000,
      maxRows: 10,
    });
    expect(stored.rows).toEqual([{ message_id: 'b' }]);
  });
});

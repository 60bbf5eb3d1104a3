import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expandRequestRecord } from '../../src/store/expand-request.js';
import type { Store } from '../../src/store/store.js';
import { normaliseRow, parityLines } from './parity-lines.js';
import { eventRecord, message, rejectRecord, requestLine, writeSegment } from './wal-fixtures.js';

export interface StoreHarness {
  readonly store: Store;
  close(): Promise<void>;
}

/** The documented columns of the public `events` view, in order. */
export const EVENTS_VIEW_COLUMNS = [
  'message_id',
  'type',
  'event',
  'name',
  'category',
  'user_id',
  'anonymous_id',
  'group_id',
  'previous_id',
  'timestamp',
  'original_timestamp',
  'sent_at',
  'received_at',
  'properties',
  'traits',
  'context',
  'integrations',
  'extra',
  'source',
  'ip',
  'user_agent',
  'browser',
  'browser_version',
  'os',
  'device_type',
  'person_id',
  // The person's consent per purpose (null: no decision), from identity resolution; see docs/consent.md.
  'consent_analytics',
  'consent_personalisation',
  'consent_advertising',
  'consent_sale_sharing',
];

const QUERY = { timeoutMs: 10_000, maxRows: 1000 };

/**
 * The behaviour every store engine must show, with the same assertions for each. An engine's test file
 * calls this with a function that opens a fresh, migrated store.
 */
/**
 * Behaviour an engine cannot have, each with its reason. A gap is still tested: the suite asserts the
 * engine refuses the case cleanly instead of answering wrongly.
 */
export interface KnownGaps {
  /** Common table expressions (`WITH t AS (SELECT …)`). */
  readonly tableExpressions?: string;
}

export interface EngineFacts {
  /** A read-only query that runs for seconds on this engine, to prove the time limit stops it. */
  readonly slowQuery: string;
  readonly gaps?: KnownGaps;
}

/** What ClickHouse 18.16 (single server or cluster) needs from the suite. */
export const CLICKHOUSE_FACTS: EngineFacts = {
  // ClickHouse checks its time limit between blocks, at whole seconds: sleep(3) overruns a 1 s limit.
  slowQuery: 'SELECT sleep(3) AS slept',
  gaps: { tableExpressions: 'ClickHouse 18.16 has no WITH name AS (subquery)' },
};

export function describeStoreConformance(
  engine: string,
  openFresh: () => Promise<StoreHarness>,
  facts: EngineFacts,
): void {
  const gaps = facts.gaps ?? {};
  describe(`store conformance: ${engine}`, () => {
    let harness: StoreHarness;
    let store: Store;
    let dir: string;

    beforeEach(async () => {
      harness = await openFresh();
      store = harness.store;
      dir = mkdtempSync(join(tmpdir(), 'refinery-conformance-'));
    });
    afterEach(async () => {
      await harness.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('applies migrations once: a second run applies nothing', async () => {
      expect(await store.migrate()).toEqual([]);
    });

    it('exposes the documented events view columns', async () => {
      const result = await store.readOnlyQuery('SELECT * FROM events LIMIT 0', QUERY);
      expect(result.columns.map((c) => c.name)).toEqual(EVENTS_VIEW_COLUMNS);
    });

    it('loads a WAL segment with events and rejects and records how far it got', async () => {
      const file = writeSegment(dir, 'a.ndjson', [
        eventRecord({ message_id: 'e1' }),
        rejectRecord(),
        eventRecord({ message_id: 'e2' }),
      ]);
      const report = await store.events.loadBatch({ stream: 's1', sequence: 1, file, dedupeWindowHours: 24 });
      expect(report).toEqual({ sequence: 1, inserted: 2, duplicates: 0, rejected: 1, alreadyLoaded: false });
      expect(await store.events.lastLoadedSequence('s1')).toBe(1);
      expect(await store.events.lastLoadedSequence('other')).toBe(0);
      expect(await store.events.count()).toBe(2);
      expect(await store.events.countRejected()).toBe(1);
    });

    it('loads a replayed segment only once', async () => {
      const file = writeSegment(dir, 'a.ndjson', [eventRecord(), eventRecord()]);
      await store.events.loadBatch({ stream: 's1', sequence: 5, file, dedupeWindowHours: 24 });
      const replay = await store.events.loadBatch({ stream: 's1', sequence: 5, file, dedupeWindowHours: 24 });
      expect(replay.alreadyLoaded).toBe(true);
      const older = await store.events.loadBatch({ stream: 's1', sequence: 4, file, dedupeWindowHours: 24 });
      expect(older.alreadyLoaded).toBe(true);
      expect(await store.events.count()).toBe(2);
    });

    it('drops retried message ids within a batch and across batches inside the window', async () => {
      const a = writeSegment(dir, 'a.ndjson', [
        eventRecord({ message_id: 'dup' }),
        eventRecord({ message_id: 'dup' }),
      ]);
      expect(
        (await store.events.loadBatch({ stream: 's', sequence: 1, file: a, dedupeWindowHours: 24 })).inserted,
      ).toBe(1);
      const b = writeSegment(dir, 'b.ndjson', [
        eventRecord({ message_id: 'dup', received_at: '2026-03-02T20:00:00.000Z' }),
        eventRecord({ message_id: 'fresh', received_at: '2026-03-02T20:00:00.000Z' }),
      ]);
      const report = await store.events.loadBatch({
        stream: 's',
        sequence: 2,
        file: b,
        dedupeWindowHours: 24,
      });
      expect(report).toMatchObject({ inserted: 1, duplicates: 1 });
      const late = writeSegment(dir, 'c.ndjson', [
        eventRecord({ message_id: 'dup', received_at: '2026-03-05T10:00:00.000Z' }),
      ]);
      expect(
        (await store.events.loadBatch({ stream: 's', sequence: 3, file: late, dedupeWindowHours: 24 }))
          .inserted,
      ).toBe(1);
      const forever = writeSegment(dir, 'd.ndjson', [
        eventRecord({ message_id: 'dup', received_at: '2026-09-05T10:00:00.000Z' }),
      ]);
      expect(
        (await store.events.loadBatch({ stream: 's', sequence: 4, file: forever, dedupeWindowHours: 0 }))
          .inserted,
      ).toBe(0);
    });

    it('keeps JSON properties, unicode and timestamps intact', async () => {
      const record = eventRecord({ message_id: 'json-1' });
      await store.events.loadBatch({
        stream: 's',
        sequence: 1,
        file: writeSegment(dir, 'a.ndjson', [record]),
        dedupeWindowHours: 24,
      });
      const result = await store.readOnlyQuery(
        "SELECT properties, timestamp, received_at FROM events WHERE message_id = 'json-1'",
        QUERY,
      );
      const row = result.rows[0]!;
      expect(JSON.parse(String(row.properties))).toEqual(
        (record.body as { batch: { properties: unknown }[] }).batch[0]!.properties,
      );
      expect(row.timestamp).toBe('2026-03-02T10:00:00.000Z');
      expect(row.received_at).toBe('2026-03-02T10:00:01.000Z');
    });

    it('expands request lines into exactly the rows of the reference expansion', async () => {
      const lines = parityLines();
      await store.events.loadBatch({
        stream: 's',
        sequence: 1,
        file: writeSegment(dir, 'p.ndjson', lines),
        dedupeWindowHours: 24,
      });
      const expected = lines.flatMap((line) => expandRequestRecord(line));
      const result = await store.readOnlyQuery('SELECT * FROM events ORDER BY message_id', {
        timeoutMs: 10_000,
        maxRows: 1000,
      });
      // person_id comes from identity resolution, not from the request line; nothing was resolved here.
      expect(result.rows.every((row) => row.person_id === null)).toBe(true);
      const actual = result.rows.map(
        ({
          person_id: _person,
          consent_analytics: _analytics,
          consent_personalisation: _personalisation,
          consent_advertising: _advertising,
          consent_sale_sharing: _sale,
          ...row
        }) => normaliseRow(row),
      );
      const reference = [...expected]
        .sort((a, b) => (a.message_id < b.message_id ? -1 : 1))
        .map((row) => normaliseRow(row));
      expect(actual).toEqual(reference);
      expect(actual).toHaveLength(11);
      const traits = actual.filter(
        (row) => String(row.message_id).startsWith('p-') && String(row.message_id).includes('context-traits'),
      );
      expect(traits.map((row) => row.traits)).toEqual([{ email: 'r@example.com' }, null]);
    });

    it('answers the dashboard aggregates', async () => {
      const file = writeSegment(dir, 'a.ndjson', [
        eventRecord({ timestamp: '2026-03-01T09:00:00.000Z' }),
        eventRecord({ timestamp: '2026-03-01T10:30:00.000Z', event: 'Product Viewed' }),
        eventRecord({
          timestamp: '2026-03-02T10:00:00.000Z',
          type: 'page',
          event: null,
          name: 'Home',
          source: 'backend',
        }),
      ]);
      await store.events.loadBatch({ stream: 's', sequence: 1, file, dedupeWindowHours: 24 });
      expect(await store.events.timeline({ interval: 'day' })).toEqual([
        { bucket: '2026-03-01T00:00:00.000Z', type: 'track', count: 2 },
        { bucket: '2026-03-02T00:00:00.000Z', type: 'page', count: 1 },
      ]);
      expect(
        await store.events.timeline({ interval: 'hour', from: new Date('2026-03-01T10:00:00Z') }),
      ).toEqual([
        { bucket: '2026-03-01T10:00:00.000Z', type: 'track', count: 1 },
        { bucket: '2026-03-02T10:00:00.000Z', type: 'page', count: 1 },
      ]);
      expect(await store.events.countsByType()).toEqual([
        { name: 'track', count: 2 },
        { name: 'page', count: 1 },
      ]);
      expect(await store.events.topEventNames(10)).toEqual([
        { name: 'Order Completed', count: 1 },
        { name: 'Product Viewed', count: 1 },
        { name: 'page: Home', count: 1 },
      ]);
      expect(await store.events.countsBySource()).toEqual([
        { name: 'web', count: 2 },
        { name: 'backend', count: 1 },
      ]);
      const recent = await store.events.recent({ limit: 2 });
      expect(recent).toHaveLength(2);
      expect(recent[0]).toMatchObject({ type: expect.any(String), loadSeq: 1 });
      expect(await store.events.recent({ limit: 10, afterLoadSeq: 1 })).toEqual([]);
    });

    it('expires events and rejects received before the cutoffs and keeps the rest', async () => {
      const file = writeSegment(dir, 'a.ndjson', [
        eventRecord({ message_id: 'old', received_at: '2026-01-01T00:00:00.000Z' }),
        eventRecord({ message_id: 'new', received_at: '2026-03-01T00:00:00.000Z' }),
        rejectRecord({ message_id: 'old-reject', received_at: '2026-01-01T00:00:00.000Z' }),
        rejectRecord({ message_id: 'new-reject', received_at: '2026-03-01T00:00:00.000Z' }),
      ]);
      await store.events.loadBatch({ stream: 's', sequence: 1, file, dedupeWindowHours: 24 });
      const kept = await store.expire({ rejectsBefore: new Date('2026-02-01T00:00:00Z') });
      expect(kept).toMatchObject({ events: 0, rejectedEvents: 1 });
      expect(await store.events.count()).toBe(2);
      const report = await store.expire({ eventsBefore: new Date('2026-02-01T00:00:00Z') });
      expect(report).toMatchObject({ events: 1, rejectedEvents: 0 });
      const rows = await store.readOnlyQuery('SELECT message_id FROM events', QUERY);
      expect(rows.rows).toEqual([{ message_id: 'new' }]);
      expect(await store.events.countRejected()).toBe(1);
    });

    it('expires events per call type and per track event name, each under its most specific rule', async () => {
      const old = '2026-01-01T00:00:00.000Z';
      const file = writeSegment(dir, 'rules.ndjson', [
        eventRecord({
          message_id: 'page-old',
          received_at: old,
          type: 'page',
          name: 'Home',
          event: undefined,
        }),
        eventRecord({ message_id: 'order-old', received_at: old, event: 'Order Completed' }),
        eventRecord({ message_id: 'view-old', received_at: old, event: 'Product Viewed' }),
        eventRecord({
          message_id: 'view-new',
          received_at: '2026-03-01T00:00:00.000Z',
          event: 'Product Viewed',
        }),
        eventRecord({ message_id: 'other-old', received_at: old, event: 'Signed Up' }),
        eventRecord({ message_id: 'identify-old', received_at: old, type: 'identify', event: undefined }),
      ]);
      await store.events.loadBatch({ stream: 's', sequence: 1, file, dedupeWindowHours: 24 });
      const cutoff = new Date('2026-02-01T00:00:00Z');
      const report = await store.expire({
        // Default: everything older than the cutoff …
        eventsBefore: cutoff,
        eventRules: [
          // … but orders are kept forever, pages go by the same cutoff, identify calls are kept forever.
          { type: 'track', event: 'Order Completed' },
          { type: 'page', before: cutoff },
          { type: 'identify' },
          { type: 'track', event: 'Product Viewed', before: cutoff },
        ],
      });
      expect(report.events).toBe(3);
      const rows = await store.readOnlyQuery('SELECT message_id FROM events ORDER BY message_id', QUERY);
      expect(rows.rows.map((r) => r.message_id)).toEqual(['identify-old', 'order-old', 'view-new']);
    });

    it('stores keys by hash, finds, lists and revokes them', async () => {
      const row = {
        id: 'k1',
        kind: 'write' as const,
        name: 'web',
        source: 'web',
        hash: 'h'.repeat(64),
        prefix: 'rk_write_abc',
        createdAt: '2026-03-01T00:00:00.000Z',
      };
      await store.keys.insert(row);
      expect(await store.keys.findByHash(row.hash)).toEqual({ ...row, revokedAt: null });
      expect(await store.keys.findByHash('nope')).toBeUndefined();
      expect(await store.keys.revoke('k1', new Date('2026-03-02T00:00:00Z'))).toBe(true);
      expect(await store.keys.revoke('k1', new Date())).toBe(false);
      expect((await store.keys.list())[0]!.revokedAt).toBe('2026-03-02T00:00:00.000Z');
    });

    it('reads and overwrites metadata', async () => {
      expect(await store.metadata.get('x')).toBeUndefined();
      await store.metadata.set('x', '1');
      await store.metadata.set('x', '2');
      expect(await store.metadata.get('x')).toBe('2');
    });

    it('runs read-only SELECTs with subqueries over the public views', async () => {
      await loadMessages(store, dir, 3);
      const result = await store.readOnlyQuery(
        'SELECT t.type, t.n FROM (SELECT type, count(*) AS n FROM events GROUP BY type) t ORDER BY t.type',
        QUERY,
      );
      expect(result.truncated).toBe(false);
      expect(result.rows).toEqual([{ type: 'track', n: 3 }]);
    });

    const cte = 'WITH t AS (SELECT type, count(*) AS n FROM events GROUP BY type) SELECT * FROM t';
    if (gaps.tableExpressions) {
      it(`refuses common table expressions cleanly (known gap: ${gaps.tableExpressions})`, async () => {
        await expect(store.readOnlyQuery(cte, QUERY)).rejects.toMatchObject({
          code: 'REFINERY_ERR_QUERY_FAILED',
        });
      });
    } else {
      it('runs common table expressions over the public views', async () => {
        await loadMessages(store, dir, 2);
        expect((await store.readOnlyQuery(cte, QUERY)).rows).toEqual([{ type: 'track', n: 2 }]);
      });
    }

    it.each([
      ['INSERT INTO events VALUES (1)', 'REFINERY_ERR_QUERY_NOT_READ_ONLY'],
      ['DROP TABLE event_log', 'REFINERY_ERR_QUERY_NOT_READ_ONLY'],
      ["COPY events TO '/tmp/out.csv'", 'REFINERY_ERR_QUERY_NOT_READ_ONLY'],
      ["ATTACH '/tmp/x.db' AS x", 'REFINERY_ERR_QUERY_NOT_READ_ONLY'],
      ['INSTALL httpfs', 'REFINERY_ERR_QUERY_NOT_READ_ONLY'],
      ['SET threads = 1', 'REFINERY_ERR_QUERY_NOT_READ_ONLY'],
      ['SELECT 1; DELETE FROM events', 'REFINERY_ERR_QUERY_NOT_READ_ONLY'],
      ["SELECT * FROM read_csv('/etc/passwd')", 'REFINERY_ERR_QUERY_FORBIDDEN_FUNCTION'],
      ["SELECT * FROM '/etc/passwd'", 'REFINERY_ERR_QUERY_FORBIDDEN_FUNCTION'],
      ["SELECT * FROM read_text('/etc/hostname')", 'REFINERY_ERR_QUERY_FORBIDDEN_FUNCTION'],
      ["SELECT getenv('HOME')", 'REFINERY_ERR_QUERY_FORBIDDEN_FUNCTION'],
      ['SELECT * FROM api_keys', 'REFINERY_ERR_QUERY_FORBIDDEN_FUNCTION'],
      ['SELECT * FROM event_log', 'REFINERY_ERR_QUERY_FORBIDDEN_FUNCTION'],
      [
        "SELECT * FROM events WHERE message_id IN (SELECT * FROM glob('/*'))",
        'REFINERY_ERR_QUERY_FORBIDDEN_FUNCTION',
      ],
      ['SELECT * FROM duckdb_settings()', 'REFINERY_ERR_QUERY_FORBIDDEN_FUNCTION'],
    ])('refuses %s', async (sql, code) => {
      await expect(store.readOnlyQuery(sql, QUERY)).rejects.toMatchObject({ code });
    });

    it('cuts answers at maxRows and says so', async () => {
      await loadMessages(store, dir, 150);
      const result = await store.readOnlyQuery('SELECT message_id FROM events', {
        timeoutMs: 10_000,
        maxRows: 100,
      });
      expect(result.rows).toHaveLength(100);
      expect(result.truncated).toBe(true);
    });

    it('stops a query that runs past its time limit', async () => {
      await expect(
        store.readOnlyQuery(facts.slowQuery, { timeoutMs: 200, maxRows: 10 }),
      ).rejects.toMatchObject({
        code: 'REFINERY_ERR_QUERY_TIMEOUT',
      });
      const after = await store.readOnlyQuery('SELECT 1 AS one', QUERY);
      expect(after.rows).toEqual([{ one: 1 }]);
    });
  });
}

/** Loads `count` track messages in one request line as segment 1 of stream "fill". */
async function loadMessages(store: Store, dir: string, count: number): Promise<void> {
  const messages = Array.from({ length: count }, () => message());
  const line = requestLine(messages, { ip_of: messages.map(() => null), agent_of: messages.map(() => null) });
  await store.events.loadBatch({
    stream: 'fill',
    sequence: 1,
    file: writeSegment(dir, 'fill.ndjson', [line]),
    dedupeWindowHours: 24,
  });
}

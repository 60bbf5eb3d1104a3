import { beforeEach, describe, expect, it } from 'vitest';
import type { QuarantinedEventRow, QuarantineFilter, Store } from '../../src/store/store.js';
import type { WalRecord } from '../../src/store/wal-format.js';
import {
  flagRecord,
  governedRequest,
  quarantineRecord,
  statusRecord,
  violation,
} from './governance-fixtures.js';
import { useSegmentStore } from './segment-store.js';
import type { StoreHarness } from './store-conformance.js';
import { eventRecord, message } from './wal-fixtures.js';

/** The documented columns of the public `quarantined_events` view, in order (no payload: it may hold personal data). */
export const QUARANTINED_EVENTS_COLUMNS = [
  'id',
  'received_at',
  'source',
  'type',
  'event',
  'contract',
  'contract_version',
  'violations',
  'status',
  'status_at',
  'status_by',
];

/** The documented columns of the public `contract_violations` view, in order. */
export const CONTRACT_VIOLATIONS_COLUMNS = [
  'message_id',
  'received_at',
  'source',
  'type',
  'event',
  'contract',
  'outcome',
  'path',
  'rule',
  'message',
  'value',
];

const QUERY = { timeoutMs: 10_000, maxRows: 1000 };
const RECEIVED = '2026-03-02T10:00:01.000Z';
const AGENT = { browser: 'Firefox', browser_version: '124.0', os: 'Linux', device_type: 'desktop' };

// JSON columns come back as text from one engine and may come back parsed from another.
const parsed = (value: unknown): unknown => (typeof value === 'string' ? JSON.parse(value) : value);

/**
 * What every engine must do with contract verdicts: hold quarantined events (with their payload) out of
 * `events`, record the violations of held and flagged events, apply replay/discard decisions, all exactly
 * once under reloads and retries, and answer the governance reads and public views the same way.
 */
export function describeGovernanceConformance(engine: string, open: () => Promise<StoreHarness>): void {
  describe(`governance conformance: ${engine}`, () => {
    let store: Store;
    const segments = useSegmentStore(open, 'refinery-governance-', 'gov', (opened) => {
      store = opened;
    });
    const { segment, loadFile: load } = segments;
    const ids = async (filter: QuarantineFilter, page: { limit: number; offset?: number } = { limit: 100 }) =>
      (await store.governance.listQuarantined(filter, page)).map((row) => row.id);
    const query = async (sql: string) => (await store.readOnlyQuery(sql, QUERY)).rows;

    /** One request: a passing event, one flagged in warn mode, one held by an enforced contract. */
    const mixedRequest = () => {
      const ok = message({ messageId: 'ok-1' });
      const warned = message({ messageId: 'warn-1', event: 'Product Viewed', properties: { price: 'abc' } });
      const held = message({ messageId: 'held-1', properties: { total: -1, note: 'crème brûlée ☕' } });
      const lines = governedRequest(
        [ok, warned, held],
        {
          1: {
            outcome: 'flag',
            contract: 'catalog',
            contract_version: '2.1.0',
            violations: [
              violation({
                path: 'properties.price',
                rule: 'type',
                message: 'must be a number',
                value: 'abc',
              }),
            ],
          },
          2: {
            outcome: 'quarantine',
            violations: [
              violation(),
              { path: 'properties.currency', rule: 'required', message: 'is required' },
            ],
          },
        },
        { ua: 'Mozilla/5.0 (X11; Linux x86_64; rv:124.0) Gecko/20100101 Firefox/124.0', agent: AGENT },
      );
      return { held, lines };
    };

    it('loads the passing events, holds quarantined ones with their payload and records violations of both outcomes', async () => {
      const { held, lines } = mixedRequest();
      const report = await load(segment(lines), 1);
      expect(report).toEqual({ sequence: 1, inserted: 2, duplicates: 0, rejected: 0, alreadyLoaded: false });
      expect(
        (await query('SELECT message_id FROM events ORDER BY message_id')).map((r) => r.message_id),
      ).toEqual(['ok-1', 'warn-1']);

      const expected: QuarantinedEventRow = {
        id: 'held-1',
        receivedAt: RECEIVED,
        source: 'web',
        type: 'track',
        event: 'Order Completed',
        contract: 'orders',
        contractVersion: '1.0.0',
        violations: [
          { path: 'properties.total', rule: 'minimum', message: 'must be at least 0', value: '-1' },
          { path: 'properties.currency', rule: 'required', message: 'is required' },
        ],
        status: 'held',
        statusAt: null,
        statusBy: null,
      };
      const [plain] = await store.governance.listQuarantined({}, { limit: 10 });
      expect(plain).toEqual(expected);
      expect(plain?.payload).toBeUndefined();
      expect(await store.governance.listQuarantined({}, { limit: 10, withPayload: true })).toEqual([
        {
          ...expected,
          payload: held,
          ip: '203.0.113.0',
          userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:124.0) Gecko/20100101 Firefox/124.0',
          agent: AGENT,
        },
      ]);

      const violations = await query(
        'SELECT message_id, outcome, contract, event, path, rule, message, value, received_at FROM contract_violations ORDER BY message_id, path',
      );
      expect(violations).toEqual([
        {
          message_id: 'held-1',
          outcome: 'quarantined',
          contract: 'orders',
          event: 'Order Completed',
          path: 'properties.currency',
          rule: 'required',
          message: 'is required',
          value: null,
          received_at: RECEIVED,
        },
        {
          message_id: 'held-1',
          outcome: 'quarantined',
          contract: 'orders',
          event: 'Order Completed',
          path: 'properties.total',
          rule: 'minimum',
          message: 'must be at least 0',
          value: '-1',
          received_at: RECEIVED,
        },
        {
          message_id: 'warn-1',
          outcome: 'flagged',
          contract: 'catalog',
          event: 'Product Viewed',
          path: 'properties.price',
          rule: 'type',
          message: 'must be a number',
          value: 'abc',
          received_at: RECEIVED,
        },
      ]);
    });

    it('gives a quarantined message without a messageId the id its stored event would have had', async () => {
      const anonymous = message();
      delete anonymous.messageId;
      const lines = governedRequest([anonymous], { 0: { outcome: 'quarantine', violations: [violation()] } });
      await load(segment(lines), 1);
      const [row] = await store.governance.listQuarantined({}, { limit: 10, withPayload: true });
      expect(row?.id).toMatch(/^req-\d+-0$/);
      expect(row?.payload).toEqual(anonymous);
      expect(await store.events.count()).toBe(0);
    });

    it('keeps one quarantine row and one set of violations per event across reloads and retries', async () => {
      const { lines } = mixedRequest();
      // The client retried the request five seconds later: the same messages again, within one segment.
      const again = lines.map((line) =>
        line.k === 'q'
          ? { ...line, rid: `${line.rid}-retry`, received_at: '2026-03-02T10:00:06.000Z' }
          : line.k === 'x' || line.k === 'f'
            ? { ...line, received_at: '2026-03-02T10:00:06.000Z' }
            : line,
      );
      const file = segment([...lines, ...again]);
      expect(await load(file, 1)).toMatchObject({ inserted: 2, alreadyLoaded: false });
      expect(await load(file, 1)).toMatchObject({ alreadyLoaded: true });
      // The same lines again under a new sequence, as after a crash before the position was written.
      expect(await load(file, 2)).toMatchObject({ inserted: 0, alreadyLoaded: false });
      // A retry that reached a later segment.
      const later = lines
        .filter((line) => line.k === 'x' || line.k === 'f')
        .map((line) => ({ ...line, received_at: '2026-03-02T11:00:00.000Z' }));
      expect(await load(segment(later), 3)).toMatchObject({ inserted: 0, alreadyLoaded: false });

      expect(await store.events.count()).toBe(2);
      const rows = await store.governance.listQuarantined({}, { limit: 10 });
      expect(rows.map((row) => [row.id, row.receivedAt, row.status])).toEqual([['held-1', RECEIVED, 'held']]);
      expect(await store.governance.countQuarantined({})).toEqual([{ status: 'held', count: 1 }]);
      expect(await query('SELECT count(*) AS n FROM quarantined_events')).toEqual([{ n: 1 }]);
      // The first copy is kept.
      expect(
        await query(
          'SELECT outcome, count(*) AS n, min(received_at) AS first, max(received_at) AS last FROM contract_violations GROUP BY outcome ORDER BY outcome',
        ),
      ).toEqual([
        { outcome: 'flagged', n: 1, first: RECEIVED, last: RECEIVED },
        { outcome: 'quarantined', n: 2, first: RECEIVED, last: RECEIVED },
      ]);
    });

    it('marks quarantined events replayed or discarded, exactly once, and a later retry does not hold them again', async () => {
      const heldLines = ['held-a', 'held-b', 'held-c'].map((id, i) =>
        quarantineRecord({ id, received_at: `2026-03-02T10:0${i}:00.000Z` }),
      );
      await load(segment(heldLines), 1);
      // A replay stores the held event and records the decisions in the same segment.
      const replay = segment([
        eventRecord({
          message_id: 'held-a',
          received_at: '2026-03-03T09:00:00.000Z',
          properties: { total: 1 },
        }),
        statusRecord(['held-a'], 'replayed', '2026-03-03T09:00:00.000Z', 'admin'),
        statusRecord(['held-b', 'never-held'], 'discarded', '2026-03-03T09:05:00.000Z', 'cli'),
      ]);
      expect(await load(replay, 2)).toMatchObject({ inserted: 1, duplicates: 0, alreadyLoaded: false });

      const decisions = async () =>
        (await store.governance.listQuarantined({}, { limit: 10 })).map((row) => ({
          id: row.id,
          status: row.status,
          statusAt: row.statusAt,
          statusBy: row.statusBy,
          receivedAt: row.receivedAt,
        }));
      const expected = [
        {
          id: 'held-c',
          status: 'held',
          statusAt: null,
          statusBy: null,
          receivedAt: '2026-03-02T10:02:00.000Z',
        },
        {
          id: 'held-b',
          status: 'discarded',
          statusAt: '2026-03-03T09:05:00.000Z',
          statusBy: 'cli',
          receivedAt: '2026-03-02T10:01:00.000Z',
        },
        {
          id: 'held-a',
          status: 'replayed',
          statusAt: '2026-03-03T09:00:00.000Z',
          statusBy: 'admin',
          receivedAt: '2026-03-02T10:00:00.000Z',
        },
      ];
      expect(await decisions()).toEqual(expected);
      expect((await query('SELECT message_id FROM events')).map((r) => r.message_id)).toEqual(['held-a']);

      // The replay segment loaded again under a new sequence (a crash before its position was written).
      expect(await load(replay, 3)).toMatchObject({ inserted: 0, alreadyLoaded: false });
      // The client retried all three later; the contract still holds them.
      const retries = ['held-a', 'held-b', 'held-c'].map((id) =>
        quarantineRecord({ id, received_at: '2026-03-04T08:00:00.000Z' }),
      );
      await load(segment(retries), 4);

      expect(await decisions()).toEqual(expected);
      expect(await store.events.count()).toBe(1);
      expect(await store.governance.countQuarantined({})).toEqual([
        { status: 'discarded', count: 1 },
        { status: 'held', count: 1 },
        { status: 'replayed', count: 1 },
      ]);
      expect(await ids({ status: 'replayed' })).toEqual(['held-a']);
      // Filtering on the status sees only each event's latest decision, never a superseded version.
      expect(await ids({ status: 'held' })).toEqual(['held-c']);
      // A decision applies only to held events: a replayed event cannot later be discarded.
      await load(
        segment([statusRecord(['held-a', 'held-c'], 'discarded', '2026-03-05T09:00:00.000Z', 'cli')]),
        5,
      );
      expect(await ids({ status: 'replayed' })).toEqual(['held-a']);
      expect(await ids({ status: 'discarded' })).toEqual(['held-c', 'held-b']);
      expect(await ids({ status: 'held' })).toEqual([]);
      expect(await query('SELECT count(*) AS n FROM quarantined_events')).toEqual([{ n: 3 }]);
      expect(await query('SELECT count(*) AS n FROM contract_violations')).toEqual([{ n: 3 }]);
    });

    it('expires decided quarantine rows and old flags, and never an event still held', async () => {
      const { lines } = mixedRequest();
      await load(segment(lines), 1);
      await load(
        segment([
          quarantineRecord({ id: 'held-2', received_at: '2026-03-02T11:00:00.000Z' }),
          quarantineRecord({ id: 'held-3', received_at: '2026-03-02T12:00:00.000Z' }),
        ]),
        2,
      );
      await load(
        segment([
          statusRecord(['held-2'], 'discarded', '2026-03-03T09:00:00.000Z'),
          statusRecord(['held-3'], 'discarded', '2026-03-10T09:00:00.000Z'),
        ]),
        3,
      );
      const report = await store.expire({
        eventsBefore: new Date('2026-03-04T00:00:00.000Z'),
        rejectsBefore: new Date('2026-03-05T00:00:00.000Z'),
      });
      expect(report).toMatchObject({ events: 2, decidedQuarantine: 1, violations: 2 });
      expect((await ids({})).sort()).toEqual(['held-1', 'held-3']);
      expect(await ids({ status: 'held' })).toEqual(['held-1']);
      const left = await query(
        'SELECT message_id, outcome FROM contract_violations ORDER BY message_id, path',
      );
      expect(left.map((r) => `${r.message_id}:${r.outcome}`)).toEqual([
        'held-1:quarantined',
        'held-1:quarantined',
        'held-3:quarantined',
      ]);
    });

    describe('with events held under several contracts', () => {
      beforeEach(async () => {
        await load(
          segment([
            quarantineRecord({
              id: 'q1',
              received_at: '2026-03-01T08:00:00.000Z',
              violations: [
                violation({ path: 'properties.currency', rule: 'required', message: 'is required' }),
              ],
            }),
            quarantineRecord({ id: 'q2', received_at: '2026-03-01T09:00:00.000Z' }),
            quarantineRecord({
              id: 'q3',
              received_at: '2026-03-02T09:00:00.000Z',
              source: 'backend',
              type: 'page',
              event: 'Checkout',
              contract: 'pages',
              contract_version: '3.0.0',
              violations: [violation({ path: 'properties.step', rule: 'validValues', value: 'seven' })],
            }),
            quarantineRecord({
              id: 'q4',
              received_at: '2026-03-02T09:00:00.000Z',
              event: 'Signed Up',
              contract: null,
              contract_version: null,
              violations: [
                { path: 'event', rule: 'undeclared', message: 'event "Signed Up" is not declared' },
              ],
            }),
            quarantineRecord({
              id: 'q5',
              received_at: '2026-03-03T12:00:00.000Z',
              type: 'identify',
              event: null,
              contract: 'people',
              violations: [
                violation({ path: 'traits.email', rule: 'required', message: 'is required' }),
                violation({
                  path: 'traits.phone',
                  rule: 'format',
                  message: 'must be a phone number',
                  value: '***',
                }),
              ],
            }),
            // Flagged (stored) events are not quarantined, whatever their rule.
            flagRecord({
              id: 'f1',
              violations: [
                violation({ path: 'properties.currency', rule: 'required', message: 'is required' }),
              ],
            }),
            statusRecord(['q2'], 'discarded', '2026-03-04T00:00:00.000Z'),
          ]),
          1,
        );
      });

      it('lists newest received first, then by id, and pages through them', async () => {
        expect(await ids({})).toEqual(['q5', 'q3', 'q4', 'q2', 'q1']);
        expect(await ids({}, { limit: 2 })).toEqual(['q5', 'q3']);
        expect(await ids({}, { limit: 2, offset: 2 })).toEqual(['q4', 'q2']);
        expect(await ids({}, { limit: 2, offset: 4 })).toEqual(['q1']);
        expect(await ids({}, { limit: 2, offset: 6 })).toEqual([]);
      });

      it('filters by status, contract, event, type, rule, source, time and ids', async () => {
        expect(await ids({ status: 'held' })).toEqual(['q5', 'q3', 'q4', 'q1']);
        expect(await ids({ status: 'discarded' })).toEqual(['q2']);
        expect(await ids({ status: 'replayed' })).toEqual([]);
        expect(await ids({ contract: 'orders' })).toEqual(['q2', 'q1']);
        expect(await ids({ event: 'Order Completed' })).toEqual(['q2', 'q1']);
        expect(await ids({ event: 'Checkout' })).toEqual(['q3']);
        expect(await ids({ type: 'page' })).toEqual(['q3']);
        expect(await ids({ type: 'identify' })).toEqual(['q5']);
        expect(await ids({ rule: 'required' })).toEqual(['q5', 'q1']);
        expect(await ids({ rule: 'undeclared' })).toEqual(['q4']);
        expect(await ids({ rule: 'pattern' })).toEqual([]);
        expect(await ids({ source: 'backend' })).toEqual(['q3']);
        // `from` is inclusive, `to` exclusive.
        expect(await ids({ from: new Date('2026-03-02T09:00:00Z') })).toEqual(['q5', 'q3', 'q4']);
        expect(await ids({ to: new Date('2026-03-02T09:00:00Z') })).toEqual(['q2', 'q1']);
        expect(
          await ids({ from: new Date('2026-03-01T09:00:00Z'), to: new Date('2026-03-03T00:00:00Z') }),
        ).toEqual(['q3', 'q4', 'q2']);
        expect(await ids({ ids: ['q1', 'q4', 'nope'] })).toEqual(['q4', 'q1']);
        expect(await ids({ ids: [] })).toEqual([]);
        expect(await ids({ contract: 'orders', status: 'held' })).toEqual(['q1']);
        expect(await ids({ rule: 'required', type: 'track', status: 'held' })).toEqual(['q1']);
        const [q3] = await store.governance.listQuarantined({ ids: ['q3'] }, { limit: 1 });
        expect(q3).toMatchObject({
          source: 'backend',
          type: 'page',
          event: 'Checkout',
          contractVersion: '3.0.0',
        });
      });

      it('counts quarantined events per status under a filter', async () => {
        expect(await store.governance.countQuarantined({})).toEqual([
          { status: 'discarded', count: 1 },
          { status: 'held', count: 4 },
        ]);
        expect(await store.governance.countQuarantined({ contract: 'orders' })).toEqual([
          { status: 'discarded', count: 1 },
          { status: 'held', count: 1 },
        ]);
        expect(await store.governance.countQuarantined({ rule: 'required' })).toEqual([
          { status: 'held', count: 2 },
        ]);
        expect(await store.governance.countQuarantined({ status: 'replayed' })).toEqual([]);
      });
    });

    it('answers the violation and event timelines and the most frequent violations', async () => {
      const total = violation();
      const records: WalRecord[] = [
        // Stored: bucketed by when they arrived (e1's own timestamp is a day earlier).
        eventRecord({
          message_id: 'e1',
          received_at: '2026-03-01T10:15:00.000Z',
          timestamp: '2026-02-28T23:00:00.000Z',
        }),
        eventRecord({ message_id: 'e2', received_at: '2026-03-01T10:45:00.000Z' }),
        flagRecord({ id: 'e2', received_at: '2026-03-01T10:45:00.000Z', violations: [total] }),
        eventRecord({
          message_id: 'e3',
          received_at: '2026-03-01T11:05:00.000Z',
          type: 'page',
          event: null,
          name: 'Home',
        }),
        flagRecord({
          id: 'e3',
          received_at: '2026-03-01T11:05:00.000Z',
          type: 'page',
          event: 'Home',
          contract: 'site',
          violations: [violation({ path: 'properties.path', rule: 'required', message: 'is required' })],
        }),
        eventRecord({
          message_id: 'e4',
          received_at: '2026-03-02T08:00:00.000Z',
          type: 'identify',
          event: null,
        }),
        eventRecord({ message_id: 'e5', received_at: '2026-03-02T08:30:00.000Z', type: 'page', event: null }),
        // Held.
        quarantineRecord({
          id: 'h1',
          received_at: '2026-03-01T10:20:00.000Z',
          violations: [
            total,
            violation({ path: 'properties.currency', rule: 'required', message: 'is required' }),
          ],
        }),
        quarantineRecord({ id: 'h2', received_at: '2026-03-01T10:50:00.000Z', violations: [total] }),
        quarantineRecord({
          id: 'h3',
          received_at: '2026-03-02T08:10:00.000Z',
          type: 'screen',
          event: 'Settings',
          contract: 'app',
          violations: [violation({ path: 'properties.theme', rule: 'validValues', value: 'neon' })],
        }),
        quarantineRecord({
          id: 'h4',
          received_at: '2026-03-02T08:20:00.000Z',
          type: 'identify',
          event: null,
          contract: 'people',
          violations: [violation({ path: 'traits.email', rule: 'required', message: 'is required' })],
        }),
        quarantineRecord({
          id: 'h5',
          received_at: '2026-03-02T09:00:00.000Z',
          type: 'page',
          event: null,
          contract: null,
          contract_version: null,
          violations: [{ path: 'type', rule: 'undeclared', message: 'page calls is not declared' }],
        }),
      ];
      await load(segment(records), 1);

      expect(await store.governance.violationTimeline({ interval: 'hour' })).toEqual([
        { bucket: '2026-03-01T10:00:00.000Z', event: 'Order Completed', outcome: 'flagged', count: 1 },
        { bucket: '2026-03-01T10:00:00.000Z', event: 'Order Completed', outcome: 'quarantined', count: 2 },
        { bucket: '2026-03-01T11:00:00.000Z', event: 'page: Home', outcome: 'flagged', count: 1 },
        { bucket: '2026-03-02T08:00:00.000Z', event: 'identify', outcome: 'quarantined', count: 1 },
        { bucket: '2026-03-02T08:00:00.000Z', event: 'screen: Settings', outcome: 'quarantined', count: 1 },
        { bucket: '2026-03-02T09:00:00.000Z', event: 'page: (unnamed)', outcome: 'quarantined', count: 1 },
      ]);
      expect(
        await store.governance.violationTimeline({ interval: 'day', from: new Date('2026-03-02T00:00:00Z') }),
      ).toEqual([
        { bucket: '2026-03-02T00:00:00.000Z', event: 'identify', outcome: 'quarantined', count: 1 },
        { bucket: '2026-03-02T00:00:00.000Z', event: 'page: (unnamed)', outcome: 'quarantined', count: 1 },
        { bucket: '2026-03-02T00:00:00.000Z', event: 'screen: Settings', outcome: 'quarantined', count: 1 },
      ]);
      expect(
        await store.governance.violationTimeline({ interval: 'day', to: new Date('2026-03-02T00:00:00Z') }),
      ).toEqual([
        { bucket: '2026-03-01T00:00:00.000Z', event: 'Order Completed', outcome: 'flagged', count: 1 },
        { bucket: '2026-03-01T00:00:00.000Z', event: 'Order Completed', outcome: 'quarantined', count: 2 },
        { bucket: '2026-03-01T00:00:00.000Z', event: 'page: Home', outcome: 'flagged', count: 1 },
      ]);

      expect(await store.governance.eventTimeline({ interval: 'day' })).toEqual([
        { bucket: '2026-03-01T00:00:00.000Z', event: 'Order Completed', count: 2 },
        { bucket: '2026-03-01T00:00:00.000Z', event: 'page: Home', count: 1 },
        { bucket: '2026-03-02T00:00:00.000Z', event: 'identify', count: 1 },
        { bucket: '2026-03-02T00:00:00.000Z', event: 'page: (unnamed)', count: 1 },
      ]);
      expect(
        await store.governance.eventTimeline({
          interval: 'hour',
          from: new Date('2026-03-01T10:30:00Z'),
          to: new Date('2026-03-02T08:00:00Z'),
        }),
      ).toEqual([
        { bucket: '2026-03-01T10:00:00.000Z', event: 'Order Completed', count: 1 },
        { bucket: '2026-03-01T11:00:00.000Z', event: 'page: Home', count: 1 },
      ]);

      const top = [
        {
          contract: 'orders',
          event: 'Order Completed',
          path: 'properties.total',
          rule: 'minimum',
          count: 3,
          lastSeen: '2026-03-01T10:50:00.000Z',
        },
        {
          contract: null,
          event: 'page: (unnamed)',
          path: 'type',
          rule: 'undeclared',
          count: 1,
          lastSeen: '2026-03-02T09:00:00.000Z',
        },
        {
          contract: 'people',
          event: 'identify',
          path: 'traits.email',
          rule: 'required',
          count: 1,
          lastSeen: '2026-03-02T08:20:00.000Z',
        },
        {
          contract: 'app',
          event: 'screen: Settings',
          path: 'properties.theme',
          rule: 'validValues',
          count: 1,
          lastSeen: '2026-03-02T08:10:00.000Z',
        },
        {
          contract: 'site',
          event: 'page: Home',
          path: 'properties.path',
          rule: 'required',
          count: 1,
          lastSeen: '2026-03-01T11:05:00.000Z',
        },
        {
          contract: 'orders',
          event: 'Order Completed',
          path: 'properties.currency',
          rule: 'required',
          count: 1,
          lastSeen: '2026-03-01T10:20:00.000Z',
        },
      ];
      expect(await store.governance.topViolations({ limit: 10 })).toEqual(top);
      expect(await store.governance.topViolations({ limit: 2 })).toEqual(top.slice(0, 2));
      expect(
        await store.governance.topViolations({ limit: 10, from: new Date('2026-03-02T00:00:00Z') }),
      ).toEqual(top.slice(1, 4));
    });

    it('exposes quarantined_events and contract_violations with the documented columns', async () => {
      expect(
        (await store.readOnlyQuery('SELECT * FROM quarantined_events LIMIT 0', QUERY)).columns.map(
          (c) => c.name,
        ),
      ).toEqual(QUARANTINED_EVENTS_COLUMNS);
      expect(
        (await store.readOnlyQuery('SELECT * FROM contract_violations LIMIT 0', QUERY)).columns.map(
          (c) => c.name,
        ),
      ).toEqual(CONTRACT_VIOLATIONS_COLUMNS);

      const { lines } = mixedRequest();
      await load(segment(lines), 1);
      await load(segment([statusRecord(['held-1'], 'discarded', '2026-03-03T09:00:00.000Z', 'cli')]), 2);

      const events = await query('SELECT * FROM quarantined_events');
      expect(events.map((row) => ({ ...row, violations: parsed(row.violations) }))).toEqual([
        {
          id: 'held-1',
          received_at: RECEIVED,
          source: 'web',
          type: 'track',
          event: 'Order Completed',
          contract: 'orders',
          contract_version: '1.0.0',
          violations: [
            { path: 'properties.total', rule: 'minimum', message: 'must be at least 0', value: '-1' },
            { path: 'properties.currency', rule: 'required', message: 'is required' },
          ],
          status: 'discarded',
          status_at: '2026-03-03T09:00:00.000Z',
          status_by: 'cli',
        },
      ]);
      expect(await query("SELECT * FROM contract_violations WHERE outcome = 'flagged'")).toEqual([
        {
          message_id: 'warn-1',
          received_at: RECEIVED,
          source: 'web',
          type: 'track',
          event: 'Product Viewed',
          contract: 'catalog',
          outcome: 'flagged',
          path: 'properties.price',
          rule: 'type',
          message: 'must be a number',
          value: 'abc',
        },
      ]);
      // The two relations join on the event's id, as a user's SQL would.
      expect(
        await query(
          `SELECT q.id, q.status, count(*) AS n FROM quarantined_events q
           JOIN contract_violations v ON v.message_id = q.id
           GROUP BY q.id, q.status`,
        ),
      ).toEqual([{ id: 'held-1', status: 'discarded', n: 2 }]);
    });
  });
}

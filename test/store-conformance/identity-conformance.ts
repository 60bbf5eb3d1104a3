import { describe, expect, it } from 'vitest';
import { IdentityResolution } from '../../src/identity/identity-resolution.js';
import { DEFAULT_IDENTITY_RULES, validateIdentityRules } from '../../src/identity/identity-rules.js';
import type { IdentityChanges } from '../../src/store/identity-types.js';
import type { Store } from '../../src/store/store.js';
import type { IdentityObservationRecord } from '../../src/store/wal-format.js';
import { useSegmentStore } from './segment-store.js';
import type { StoreHarness } from './store-conformance.js';
import { eventRecord } from './wal-fixtures.js';

export const PERSONS_COLUMNS = ['person_id', 'first_seen_at', 'identifier_count'];
export const IDENTITIES_COLUMNS = ['person_id', 'identifier_type', 'identifier_value'];
export const IDENTITY_MERGES_COLUMNS = [
  'merged_person_id',
  'person_id',
  'via_type',
  'via_value',
  'at',
  'message_id',
];
export const IDENTITY_REFUSALS_COLUMNS = [
  'reason',
  'identifier_type',
  'identifier_value',
  'held_by',
  'person_id',
  'limit_type',
  'limit_value',
  'would_hold',
  'count',
  'first_at',
  'first_message_id',
  'last_at',
  'last_message_id',
];

const QUERY = { timeoutMs: 10_000, maxRows: 1000 };

function observation(id: string, at: string, ...ids: string[]): IdentityObservationRecord {
  return { k: 'i', id, at, ids };
}

/**
 * What every engine must do for identity resolution: keep the observations the collector wrote, exactly once
 * per loaded segment and in order; persist the graph's changes so a restart continues where it stopped; and map
 * every event to its person at query time, so a later merge applies to earlier events.
 */
export function describeIdentityConformance(engine: string, open: () => Promise<StoreHarness>): void {
  describe(`identity conformance: ${engine}`, () => {
    let store: Store;
    const segments = useSegmentStore(open, 'refinery-identity-', 'web', (opened) => {
      store = opened;
    });
    const { load } = segments;
    const query = async (sql: string) => (await store.readOnlyQuery(sql, QUERY)).rows;
    const resolution = () => new IdentityResolution(store, DEFAULT_IDENTITY_RULES);

    it('keeps observations per stream in load order, once per segment, and reads them after cursors', async () => {
      const first = [
        observation('m1', '2026-03-02T10:00:00.000Z', 'user_id:u1', 'anonymous_id:a1'),
        observation('m2', '2026-03-02T10:01:00.000Z', 'anonymous_id:a2'),
      ];
      await load(first, 1);
      // A replayed segment (crash after load, before the WAL file went) must not add its lines again.
      await load(first, 1);
      await load([observation('m3', '2026-03-02T10:02:00.000Z', 'user_id:u3')], 1, 'app');
      await load([observation('m4', '2026-03-02T10:03:00.000Z', 'email:ab12')], 2);

      const all = await store.identity.observationsAfter(new Map(), 100);
      expect(all.map((row) => [row.stream, row.loadSeq, row.messageId])).toEqual([
        ['app', 1, 'm3'],
        ['web', 1, 'm1'],
        ['web', 1, 'm2'],
        ['web', 2, 'm4'],
      ]);
      expect(all[1]).toEqual({
        stream: 'web',
        loadSeq: 1,
        messageId: 'm1',
        at: '2026-03-02T10:00:00.000Z',
        identifiers: [
          { type: 'user_id', value: 'u1' },
          { type: 'anonymous_id', value: 'a1' },
        ],
      });
      const after = await store.identity.observationsAfter(new Map([['web', 1]]), 100);
      expect(after.map((row) => row.messageId)).toEqual(['m3', 'm4']);
      expect((await store.identity.observationsAfter(new Map(), 2)).length).toBe(2);
    });

    it('round-trips the graph it is given: persons, links, merges, refusals, cursors and version', async () => {
      const changes: IdentityChanges = {
        version: 3,
        persons: [
          {
            personId: 'p_1',
            seq: 0,
            firstSeenAt: '2026-03-01T09:00:00.000Z',
            mergedInto: null,
            identifiers: [
              { type: 'user_id', value: 'u1' },
              { type: 'anonymous_id', value: 'a1' },
              { type: 'anonymous_id', value: 'a2' },
            ],
          },
          {
            personId: 'p_2',
            seq: 1,
            firstSeenAt: '2026-03-01T10:00:00.000Z',
            mergedInto: 'p_1',
            identifiers: [],
          },
        ],
        merges: [
          {
            from: 'p_2',
            into: 'p_1',
            via: { type: 'anonymous_id', value: 'a2' },
            at: '2026-03-02T10:00:00.000Z',
            messageId: 'm9',
          },
        ],
        refusals: [
          {
            reason: 'limit',
            identifier: { type: 'user_id', value: 'u9' },
            heldBy: 'p_9',
            personId: 'p_1',
            limitType: 'user_id',
            limit: 1,
            wouldHold: 2,
            count: 4,
            firstAt: '2026-03-02T11:00:00.000Z',
            firstMessageId: 'm10',
            lastAt: '2026-03-02T12:00:00.000Z',
            lastMessageId: null,
          },
        ],
        cursors: new Map([
          ['web', 7],
          ['app', 2],
        ]),
      };
      await store.identity.saveChanges(changes);
      const graph = await store.identity.readGraph();
      expect(graph.version).toBe(3);
      expect([...graph.cursors].sort()).toEqual([
        ['app', 2],
        ['web', 7],
      ]);
      expect(graph.persons.map((p) => ({ ...p, identifiers: [...p.identifiers].sort(byKey) }))).toEqual(
        changes.persons.map((p) => ({ ...p, identifiers: [...p.identifiers].sort(byKey) })),
      );
      expect(graph.merges).toEqual(changes.merges);
      expect(graph.refusals).toEqual(changes.refusals);

      // A later version replaces a person's row and its links, and a recounted refusal replaces the old count.
      await store.identity.saveChanges({
        version: 4,
        persons: [{ ...changes.persons[0]!, identifiers: [{ type: 'user_id', value: 'u1' }] }],
        merges: [],
        refusals: [{ ...changes.refusals[0]!, count: 5, lastMessageId: 'm11' }],
        cursors: new Map([['web', 8]]),
      });
      const next = await store.identity.readGraph();
      expect(next.version).toBe(4);
      expect(next.persons.find((p) => p.personId === 'p_1')?.identifiers).toEqual([
        { type: 'user_id', value: 'u1' },
      ]);
      expect(next.refusals.map((r) => [r.count, r.lastMessageId])).toEqual([[5, 'm11']]);
      expect(next.cursors.get('web')).toBe(8);
      expect(next.cursors.get('app')).toBe(2);
      expect(await store.identity.personOf({ type: 'anonymous_id', value: 'a2' })).toBeUndefined();
      expect(await store.identity.personOf({ type: 'user_id', value: 'u1' })).toBe('p_1');
    });

    it('maps every event to its person, and a later merge to the earlier events too', async () => {
      await load(
        [
          eventRecord({
            message_id: 'e1',
            userId: null,
            anonymousId: 'visitor-1',
            type: 'page',
            name: 'Home',
          }),
          observation('e1', '2026-03-02T10:00:00.000Z', 'anonymous_id:visitor-1'),
          eventRecord({ message_id: 'e2', userId: 'alice', anonymousId: 'phone-1' }),
          observation('e2', '2026-03-02T10:01:00.000Z', 'user_id:alice', 'anonymous_id:phone-1'),
          eventRecord({ message_id: 'e3', userId: 'bob', anonymousId: null }),
          observation('e3', '2026-03-02T10:02:00.000Z', 'user_id:bob'),
        ],
        1,
      );
      const first = await resolution().run();
      expect(first).toMatchObject({ observations: 3, personsChanged: 3, merges: 0 });
      const before = await personByMessage();
      expect(new Set(Object.values(before)).size).toBe(3);
      expect(Object.values(before).every((id) => /^p_[0-9a-f]{16}$/.test(String(id)))).toBe(true);

      // Alice logs in on the laptop she browsed anonymously: the visitor's earlier page view becomes hers.
      await load(
        [
          eventRecord({ message_id: 'e4', userId: 'alice', anonymousId: 'visitor-1', type: 'identify' }),
          observation('e4', '2026-03-02T11:00:00.000Z', 'user_id:alice', 'anonymous_id:visitor-1'),
        ],
        2,
      );
      // A fresh resolution restores the graph from the store, as a restarted server would.
      const second = await resolution().run();
      expect(second).toMatchObject({ observations: 1, merges: 1 });
      const after = await personByMessage();
      expect(after.e1).toBe(after.e2);
      expect(after.e4).toBe(after.e2);
      expect(after.e3).not.toBe(after.e2);
      const survivor = String(after.e2);
      const mergedAway = [before.e1, before.e2].find((id) => id !== survivor)!;
      expect((await store.identity.person(String(mergedAway)))?.personId).toBe(survivor);
      expect((await store.identity.person(survivor))?.identifiers).toEqual(
        expect.arrayContaining([
          { type: 'user_id', value: 'alice' },
          { type: 'anonymous_id', value: 'phone-1' },
          { type: 'anonymous_id', value: 'visitor-1' },
        ]),
      );
      expect(await store.identity.personsHolding([{ type: 'anonymous_id', value: 'visitor-1' }])).toEqual([
        survivor,
      ]);
      expect(await store.identity.summary()).toEqual({ persons: 2, identifiers: 4, merges: 1, refusals: 0 });
      expect(await query('SELECT count(*) AS n FROM persons')).toEqual([{ n: 2 }]);
      expect(await query('SELECT merged_person_id, person_id, via_type FROM identity_merges')).toEqual([
        { merged_person_id: mergedAway, person_id: survivor, via_type: expect.any(String) },
      ]);
      // Nothing new: a run observes nothing and changes nothing.
      expect(await resolution().run()).toEqual({
        observations: 0,
        personsChanged: 0,
        merges: 0,
        refusals: 0,
      });
    });

    it('refuses a merge that breaks a limit, logs it, and keeps the two people apart', async () => {
      await load(
        [
          observation('s1', '2026-03-02T10:00:00.000Z', 'user_id:carol', 'anonymous_id:kiosk'),
          observation('s2', '2026-03-02T10:05:00.000Z', 'user_id:dave', 'anonymous_id:kiosk'),
          observation('s3', '2026-03-02T10:06:00.000Z', 'user_id:dave', 'anonymous_id:kiosk'),
        ],
        1,
      );
      const report = await resolution().run();
      expect(report.refusals).toBe(1);
      const carol = await store.identity.personOf({ type: 'user_id', value: 'carol' });
      const dave = await store.identity.personOf({ type: 'user_id', value: 'dave' });
      expect(carol).toBeDefined();
      expect(dave).toBeDefined();
      expect(dave).not.toBe(carol);
      const [refusal] = await store.identity.recentRefusals(10);
      expect(refusal).toMatchObject({
        reason: 'limit',
        identifier: { type: 'anonymous_id', value: 'kiosk' },
        heldBy: carol,
        personId: dave,
        count: 2,
        firstMessageId: 's2',
        lastMessageId: 's3',
      });
      expect(await query('SELECT reason, identifier_value, count FROM identity_refusals')).toEqual([
        { reason: 'limit', identifier_value: 'kiosk', count: 2 },
      ]);
    });

    it('follows the configured rules: with link: false an email never joins two people', async () => {
      const rules = validateIdentityRules({
        identifiers: {
          user_id: { priority: 1, limit: 1 },
          email: { priority: 2, limit: 5, link: false },
          anonymous_id: { priority: 3, limit: 100 },
        },
      });
      await load(
        [
          observation('r1', '2026-03-02T10:00:00.000Z', 'user_id:erin', 'email:0af1'),
          observation('r2', '2026-03-02T10:01:00.000Z', 'user_id:frank', 'email:0af1'),
        ],
        1,
      );
      await new IdentityResolution(store, rules).run();
      const erin = await store.identity.personOf({ type: 'user_id', value: 'erin' });
      const frank = await store.identity.personOf({ type: 'user_id', value: 'frank' });
      expect(frank).not.toBe(erin);
      expect(await store.identity.personOf({ type: 'email', value: '0af1' })).toBe(erin);
    });

    it('exposes the documented identity views', async () => {
      for (const [view, columns] of [
        ['persons', PERSONS_COLUMNS],
        ['identities', IDENTITIES_COLUMNS],
        ['identity_merges', IDENTITY_MERGES_COLUMNS],
        ['identity_refusals', IDENTITY_REFUSALS_COLUMNS],
      ] as const) {
        const result = await store.readOnlyQuery(`SELECT * FROM ${view} LIMIT 0`, QUERY);
        expect(
          result.columns.map((c) => c.name),
          view,
        ).toEqual(columns);
      }
    });

    async function personByMessage(): Promise<Record<string, unknown>> {
      const rows = await query('SELECT message_id, person_id FROM events ORDER BY message_id');
      return Object.fromEntries(rows.map((row) => [row.message_id, row.person_id]));
    }
  });
}

function byKey(a: { type: string; value: string }, b: { type: string; value: string }): number {
  const left = `${a.type}:${a.value}`;
  const right = `${b.type}:${b.value}`;
  return left < right ? -1 : left > right ? 1 : 0;
}

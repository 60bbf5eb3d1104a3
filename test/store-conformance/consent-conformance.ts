import { describe, expect, it } from 'vitest';
import { IdentityResolution } from '../../src/identity/identity-resolution.js';
import { DEFAULT_IDENTITY_RULES } from '../../src/identity/identity-rules.js';
import { DEFAULT_CONSENT_DEFAULTS } from '../../src/privacy/consent-purposes.js';
import { consentOverview } from '../../src/privacy/consent-reader.js';
import type { Store } from '../../src/store/store.js';
import type { ConsentLineObservation, ConsentRecord, WalRecord } from '../../src/store/wal-format.js';
import { useSegmentStore } from './segment-store.js';
import type { StoreHarness } from './store-conformance.js';
import { eventRecord } from './wal-fixtures.js';

export const CONSENTS_COLUMNS = [
  'person_id',
  'identifier_type',
  'identifier_value',
  'purpose',
  'granted',
  'source',
  'category',
  'at',
  'received_at',
  'message_id',
];

const QUERY = { timeoutMs: 10_000, maxRows: 1000 };

function decision(
  purpose: string,
  granted: boolean,
  at: string,
  source = 'context.consent',
  category: string | null = purpose,
): ConsentLineObservation {
  return { purpose, granted, source, category, at };
}

function consentLine(
  id: string,
  ids: string[],
  consent: ConsentLineObservation[],
  unknown?: string[],
): ConsentRecord {
  return {
    k: 'c',
    id,
    received_at: '2026-03-02T12:00:00.000Z',
    ids,
    consent,
    ...(unknown ? { unknown } : {}),
  };
}

const observation = (id: string, at: string, ...ids: string[]): WalRecord => ({ k: 'i', id, at, ids });

/**
 * What every engine must do for consent: keep the history exactly once per loaded segment, give identity
 * resolution what changed after its cursors, carry per-person flags on `events`, and show each purpose view only
 * what the flags (or the defaults) allow — rebuilt when the defaults change.
 */
export function describeConsentConformance(engine: string, open: () => Promise<StoreHarness>): void {
  describe(`consent conformance: ${engine}`, () => {
    let store: Store;
    const segments = useSegmentStore(open, 'refinery-consent-', 'web', (opened) => {
      store = opened;
    });
    const { load } = segments;
    const query = async (sql: string) => (await store.readOnlyQuery(sql, QUERY)).rows;
    const resolve = () => new IdentityResolution(store, DEFAULT_IDENTITY_RULES).run();
    const who = async (relation: string) =>
      (
        await query(`SELECT DISTINCT coalesce(user_id, anonymous_id) AS who FROM ${relation} ORDER BY who`)
      ).map((row) => row.who);

    it('keeps each consent line once per segment and gives what changed after cursors', async () => {
      const first = [
        consentLine(
          'm1',
          ['user_id:u1', 'anonymous_id:a1'],
          [decision('analytics', false, '2026-03-02T10:00:00.000Z')],
          ['C0009'],
        ),
      ];
      await load(first, 1);
      // A replayed segment (crash after load, before the WAL file went) adds nothing.
      await load(first, 1);
      await load(
        [
          consentLine(
            'm2',
            ['user_id:u2'],
            [decision('sale_sharing', false, '2026-03-02T10:01:00.000Z', 'gpc', null)],
          ),
        ],
        2,
      );
      const all = await store.consent.changedAfter(new Map());
      expect(all.identifiers.sort()).toEqual(['anonymous_id:a1', 'user_id:u1', 'user_id:u2']);
      expect(all.cursors).toEqual(new Map([['web', 2]]));
      const later = await store.consent.changedAfter(new Map([['web', 1]]));
      expect(later.identifiers).toEqual(['user_id:u2']);
      expect((await store.consent.changedAfter(new Map([['web', 2]]))).identifiers).toEqual([]);

      expect(await store.consent.historyOf(['user_id:u1', 'user_id:u2'])).toEqual([
        {
          identifier: 'user_id:u1',
          purpose: 'analytics',
          granted: false,
          source: 'context.consent',
          category: 'analytics',
          at: '2026-03-02T10:00:00.000Z',
          messageId: 'm1',
        },
        {
          identifier: 'user_id:u2',
          purpose: 'sale_sharing',
          granted: false,
          source: 'gpc',
          category: null,
          at: '2026-03-02T10:01:00.000Z',
          messageId: 'm2',
        },
      ]);
      expect((await store.consent.identifiersWithHistory()).sort()).toEqual([
        'anonymous_id:a1',
        'user_id:u1',
        'user_id:u2',
      ]);
      const consents = await store.readOnlyQuery(
        'SELECT * FROM consents ORDER BY message_id, identifier_type',
        QUERY,
      );
      expect(consents.columns.map((column) => column.name)).toEqual(CONSENTS_COLUMNS);
      expect(
        consents.rows.map((row) => [row.message_id, row.identifier_type, row.identifier_value, row.purpose]),
      ).toEqual([
        ['m1', 'anonymous_id', 'a1', 'analytics'],
        ['m1', 'user_id', 'u1', 'analytics'],
        ['m2', 'user_id', 'u2', 'sale_sharing'],
      ]);
    });

    it('filters every purpose view by the person flags resolution saved, merges combining histories', async () => {
      await load(
        [
          eventRecord({ message_id: 'e1', userId: 'ann', anonymousId: 'a-ann' }),
          observation('e1', '2026-03-02T10:00:00.000Z', 'user_id:ann', 'anonymous_id:a-ann'),
          eventRecord({ message_id: 'e2', userId: 'ben', anonymousId: null }),
          observation('e2', '2026-03-02T10:00:00.000Z', 'user_id:ben'),
          eventRecord({ message_id: 'e3', userId: 'cat', anonymousId: 'a-cat' }),
          observation('e3', '2026-03-02T10:00:00.000Z', 'user_id:cat', 'anonymous_id:a-cat'),
          eventRecord({ message_id: 'e4', userId: null, anonymousId: 'a-cat-2' }),
          observation('e4', '2026-03-02T10:00:00.000Z', 'anonymous_id:a-cat-2'),
          // Ann refuses analytics; Ben's browser sends GPC; Cat's second device accepts advertising.
          consentLine(
            'e1',
            ['user_id:ann', 'anonymous_id:a-ann'],
            [decision('analytics', false, '2026-03-02T10:00:00.000Z')],
          ),
          consentLine(
            'e2',
            ['user_id:ben'],
            [decision('sale_sharing', false, '2026-03-02T10:00:00.000Z', 'gpc', null)],
          ),
          consentLine(
            'e4',
            ['anonymous_id:a-cat-2'],
            [decision('advertising', true, '2026-03-02T10:00:00.000Z')],
          ),
        ],
        1,
      );
      await resolve();
      // Cat's second device is someone else until she logs in there; sale/sharing is opt-in by default.
      expect(await who('events_for_analytics')).toEqual(['a-cat-2', 'ben', 'cat']);
      expect(await who('events_for_personalisation')).toEqual(['a-cat-2', 'ann', 'ben', 'cat']);
      expect(await who('events_for_advertising')).toEqual(['a-cat-2']);
      expect(await who('events_for_sale_sharing')).toEqual([]);

      // Ann changes her mind later (a later decision wins); Cat logs in on her second device: one person,
      // whose history includes the second device's acceptance.
      await load(
        [
          consentLine(
            'k1',
            ['user_id:ann'],
            [decision('analytics', true, '2026-03-03T10:00:00.000Z', 'api', null)],
          ),
          eventRecord({ message_id: 'e5', userId: 'cat', anonymousId: 'a-cat-2', type: 'identify' }),
          observation('e5', '2026-03-03T11:00:00.000Z', 'user_id:cat', 'anonymous_id:a-cat-2'),
        ],
        2,
      );
      await resolve();
      expect(await who('events_for_analytics')).toEqual(['a-cat-2', 'ann', 'ben', 'cat']);
      expect(await who('events_for_advertising')).toEqual(['a-cat-2', 'cat']);
      const flags = await query(
        `SELECT DISTINCT user_id, consent_analytics, consent_advertising, consent_sale_sharing FROM events
         WHERE user_id IN ('ben', 'cat') ORDER BY user_id, consent_advertising`,
      );
      const truth = (value: unknown) => (value === null ? null : value === true || value === 1);
      expect(
        flags.map((row) => [
          row.user_id,
          truth(row.consent_analytics),
          truth(row.consent_advertising),
          truth(row.consent_sale_sharing),
        ]),
      ).toEqual([
        ['ben', null, null, false],
        ['cat', null, true, null],
      ]);
      // A purpose-scoped query reads its own view and nothing else.
      const reader = store.consent.forPurpose('advertising');
      expect((await reader.query(`SELECT count(*) AS n FROM ${reader.relation}`, QUERY)).rows).toEqual([
        { n: 3 },
      ]);
      await expect(reader.query('SELECT count(*) AS n FROM events', QUERY)).rejects.toMatchObject({
        code: 'REFINERY_ERR_QUERY_FORBIDDEN_FUNCTION',
      });
      await expect(
        reader.query('SELECT count(*) AS n FROM events_for_analytics', QUERY),
      ).rejects.toMatchObject({ code: 'REFINERY_ERR_QUERY_FORBIDDEN_FUNCTION' });
    });

    it('rebuilds the purpose views when the defaults change, and only then', async () => {
      await load(
        [
          eventRecord({ message_id: 'e1', userId: 'dan', anonymousId: null }),
          observation('e1', '2026-03-02T10:00:00.000Z', 'user_id:dan'),
        ],
        1,
      );
      await resolve();
      expect(await store.consent.applyDefaults(DEFAULT_CONSENT_DEFAULTS)).toBe(false);
      expect(await who('events_for_advertising')).toEqual([]);
      const strict = { ...DEFAULT_CONSENT_DEFAULTS, analytics: 'denied', advertising: 'granted' } as const;
      expect(await store.consent.applyDefaults(strict)).toBe(true);
      expect(await store.consent.applyDefaults(strict)).toBe(false);
      expect(await who('events_for_advertising')).toEqual(['dan']);
      expect(await who('events_for_analytics')).toEqual([]);
      expect(await store.consent.applyDefaults(DEFAULT_CONSENT_DEFAULTS)).toBe(true);
      expect(await who('events_for_analytics')).toEqual(['dan']);
    });

    it('counts people and grants per purpose per day from the history and the defaults', async () => {
      await load(
        [
          observation('o1', '2026-03-01T09:00:00.000Z', 'user_id:eve'),
          observation('o2', '2026-03-02T09:00:00.000Z', 'user_id:fay'),
          // Eve refuses personalisation on day 2 and accepts it again on day 3; Fay's decision on day 1
          // predates her first visit and counts from then.
          consentLine(
            'c1',
            ['user_id:eve'],
            [decision('personalisation', false, '2026-03-02T12:00:00.000Z')],
          ),
          consentLine('c2', ['user_id:eve'], [decision('personalisation', true, '2026-03-03T12:00:00.000Z')]),
          consentLine(
            'c3',
            ['user_id:fay'],
            [decision('advertising', true, '2026-03-01T08:00:00.000Z', 'api', null)],
          ),
          // The same moment from two sources: the API outranks the banner.
          consentLine('c4', ['user_id:fay'], [decision('analytics', true, '2026-03-03T08:00:00.000Z')]),
          consentLine(
            'c5',
            ['user_id:fay'],
            [decision('analytics', false, '2026-03-03T08:00:00.000Z', 'api', null)],
          ),
        ],
        1,
      );
      await resolve();
      const overview = await consentOverview(store, DEFAULT_CONSENT_DEFAULTS, {
        interval: 'day',
        from: new Date('2026-03-01T00:00:00.000Z'),
        to: new Date('2026-03-04T00:00:00.000Z'),
      });
      expect(overview.points).toEqual([
        {
          bucket: '2026-03-01T00:00:00.000Z',
          people: 1,
          granted: { analytics: 1, personalisation: 1, advertising: 0, sale_sharing: 0 },
        },
        {
          bucket: '2026-03-02T00:00:00.000Z',
          people: 2,
          granted: { analytics: 2, personalisation: 1, advertising: 1, sale_sharing: 0 },
        },
        {
          bucket: '2026-03-03T00:00:00.000Z',
          people: 2,
          granted: { analytics: 1, personalisation: 2, advertising: 1, sale_sharing: 0 },
        },
      ]);
      // Starting later, what happened before the range is the starting point.
      const later = await consentOverview(store, DEFAULT_CONSENT_DEFAULTS, {
        interval: 'day',
        from: new Date('2026-03-03T00:00:00.000Z'),
        to: new Date('2026-03-04T00:00:00.000Z'),
      });
      expect(later.points.map((point) => point.granted)).toEqual([overview.points[2]!.granted]);
    });
  });
}

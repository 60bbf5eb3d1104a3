import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/access/api-keys.js';
import { CONSENT_PURPOSES, type ConsentPurpose } from '../../src/privacy/consent-purposes.js';
import { hasClickHouse } from '../helpers/clickhouse-server.js';
import { basicAuth, startTestWorkspace, type TestWorkspace } from '../helpers/test-workspace.js';

const engines = hasClickHouse ? (['duckdb', 'clickhouse'] as const) : (['duckdb'] as const);
if (!hasClickHouse) {
  console.warn('consent API: clickhouse-server is not installed, running on DuckDB only');
}

// Advertising stays opt-in (the built-in default); sale/sharing is opt-out here, so a GPC signal shows.
const YAML = `consent:
  default:
    sale_sharing: granted`;

/** Who each stored event belongs to, by the ids the test people use. */
const PERSON_OF: Record<string, string> = {
  ada: 'ada',
  alice: 'alice',
  'a-1': 'alice',
  gina: 'gina',
  pat: 'pat',
  mia: 'mia',
  'm-1': 'mia',
  'm-2': 'mia',
};

/** Who may be seen for each purpose at the end (see the hand count in the overview test). */
const VISIBLE: Record<ConsentPurpose, string[]> = {
  analytics: ['ada', 'gina', 'pat'],
  personalisation: ['ada', 'alice', 'gina', 'mia'],
  advertising: ['alice', 'mia'],
  sale_sharing: ['ada', 'alice', 'mia', 'pat'],
};

describe.each(engines)('consent over the API on %s', (engine) => {
  let workspace: TestWorkspace;

  beforeAll(async () => {
    workspace = await startTestWorkspace({ engine, yamlExtra: YAML });
    // Ada decides nothing: every default applies to her.
    await send([track({ userId: 'ada' }, '2026-03-01T10:00:00.000Z')]);
    // Alice refuses analytics and accepts marketing in her shop's banner, which also sends a category
    // the mapping does not know.
    await send([
      track({ userId: 'alice', anonymousId: 'a-1' }, '2026-03-01T11:00:00.000Z', {
        analytics: false,
        marketing: true,
        C0009: true,
      }),
      // The banner stamps the same choice on her next event: nothing changes.
      track({ userId: 'alice', anonymousId: 'a-1' }, '2026-03-01T11:05:00.000Z', {
        analytics: false,
        marketing: true,
        C0009: true,
      }),
    ]);
    // Gina's browser sends Global Privacy Control: no sale or sharing of her data.
    await send([track({ userId: 'gina' }, '2026-03-02T09:00:00.000Z')], { 'sec-gpc': '1' });
    await send([track({ userId: 'pat' }, '2026-03-02T10:00:00.000Z')]);
    // Mia accepts advertising while anonymous, then refuses analytics once signed in on another device;
    // identifying on the first device merges the two, histories and all.
    await send([track({ anonymousId: 'm-1' }, '2026-03-03T09:00:00.000Z', { advertising: true })]);
    await send([
      track({ userId: 'mia', anonymousId: 'm-2' }, '2026-03-03T10:00:00.000Z', { analytics: false }),
    ]);
    await send([
      { type: 'identify', userId: 'mia', anonymousId: 'm-1', timestamp: '2026-03-03T11:00:00.000Z' },
    ]);
    // Pat objects to personalisation through the privacy officer (the consent API).
    const recorded = await workspace.server.app.inject({
      method: 'POST',
      url: '/v1/consent',
      headers: { authorization: `Bearer ${workspace.adminKey}`, 'content-type': 'application/json' },
      payload: { userId: 'pat', purposes: { personalisation: false }, at: '2026-03-03T08:00:00.000Z' },
    });
    expect(recorded.statusCode).toBe(202);
    expect(recorded.json()).toEqual({ recorded: 1 });
    await workspace.drain();
  }, 180_000);
  afterAll(async () => {
    await workspace?.close();
  });

  function track(
    ids: { userId?: string; anonymousId?: string },
    timestamp: string,
    categoryPreferences?: Record<string, boolean>,
  ): Record<string, unknown> {
    return {
      type: 'track',
      event: 'Product Viewed',
      ...ids,
      timestamp,
      ...(categoryPreferences ? { context: { consent: { categoryPreferences } } } : {}),
    };
  }

  async function send(batch: Record<string, unknown>[], headers: Record<string, string> = {}): Promise<void> {
    const response = await workspace.server.app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: {
        authorization: basicAuth(workspace.writeKey),
        'content-type': 'application/json',
        ...headers,
      },
      payload: JSON.stringify({ batch }),
    });
    expect(response.statusCode).toBe(200);
  }

  const people = (rows: Record<string, unknown>[]) =>
    [...new Set(rows.map((row) => PERSON_OF[String(row.who)] ?? `unknown ${String(row.who)}`))].sort();

  it('shows every purpose only the events of people whose consent or the default allows it, through the access layer', async () => {
    for (const purpose of CONSENT_PURPOSES) {
      const reader = workspace.server.store.consent.forPurpose(purpose);
      const result = await reader.query(
        `SELECT DISTINCT coalesce(user_id, anonymous_id) AS who FROM ${reader.relation}`,
        { timeoutMs: 30_000, maxRows: 1000 },
      );
      expect(people(result.rows), purpose).toEqual(VISIBLE[purpose]);
    }
  });

  it('gives the same answer to a purpose-scoped POST /v1/query, and refuses any other relation in it', async () => {
    const query = (sql: string, purpose: string) =>
      workspace.server.app.inject({
        method: 'POST',
        url: '/v1/query',
        headers: { authorization: `Bearer ${workspace.adminKey}`, 'content-type': 'application/json' },
        payload: { sql, purpose },
      });
    for (const purpose of CONSENT_PURPOSES) {
      const response = await query(
        `SELECT DISTINCT coalesce(user_id, anonymous_id) AS who FROM events_for_${purpose}`,
        purpose,
      );
      expect(response.statusCode).toBe(200);
      expect(people(response.json().rows), purpose).toEqual(VISIBLE[purpose]);
    }
    for (const sql of [
      'SELECT * FROM events',
      'SELECT * FROM events_for_personalisation',
      'SELECT * FROM consents',
      'WITH e AS (SELECT * FROM events) SELECT * FROM e',
    ]) {
      const refused = await query(sql, 'analytics');
      expect(refused.statusCode, sql).toBe(400);
      expect(refused.json().code).toBe('REFINERY_ERR_QUERY_FORBIDDEN_FUNCTION');
    }
    expect((await query('SELECT 1', 'marketing')).json().code).toBe('REFINERY_ERR_INVALID_FIELD');
  });

  it("carries each person's flags on the events view", async () => {
    const rows = await workspace.rows<Record<string, unknown>>(
      `SELECT DISTINCT coalesce(user_id, anonymous_id) AS who, consent_analytics, consent_personalisation,
              consent_advertising, consent_sale_sharing
       FROM events WHERE coalesce(user_id, anonymous_id) IN ('ada', 'gina', 'pat', 'm-1')`,
    );
    const flags = (who: string) => {
      const row = rows.find((each) => each.who === who)!;
      return CONSENT_PURPOSES.map((purpose) => {
        const value = row[`consent_${purpose}`];
        return value === null ? null : value === true || value === 1;
      });
    };
    expect(flags('ada')).toEqual([null, null, null, null]);
    expect(flags('gina')).toEqual([null, null, null, false]);
    expect(flags('pat')).toEqual([null, false, null, null]);
    // The merged person's flags come from both histories.
    expect(flags('m-1')).toEqual([false, null, true, null]);
  });

  it('shows one person their standing and the history of all their ids, merged ones included', async () => {
    const response = await workspace.server.app.inject({
      method: 'GET',
      url: '/v1/consent/user_id:mia',
      headers: { authorization: `Bearer ${workspace.adminKey}` },
    });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.personId).toMatch(/^p_/);
    expect(body.state).toEqual([
      { purpose: 'analytics', granted: false, since: '2026-03-03T10:00:00.000Z', source: 'context.consent' },
      { purpose: 'personalisation', granted: true, since: null, source: 'default' },
      { purpose: 'advertising', granted: true, since: '2026-03-03T09:00:00.000Z', source: 'context.consent' },
      { purpose: 'sale_sharing', granted: true, since: null, source: 'default' },
    ]);
    expect(body.history).toEqual([
      {
        purpose: 'advertising',
        granted: true,
        source: 'context.consent',
        category: 'advertising',
        at: '2026-03-03T09:00:00.000Z',
      },
      {
        purpose: 'analytics',
        granted: false,
        source: 'context.consent',
        category: 'analytics',
        at: '2026-03-03T10:00:00.000Z',
      },
    ]);
    const gina = (
      await workspace.server.app.inject({
        method: 'GET',
        url: '/v1/consent/gina',
        headers: { authorization: `Bearer ${workspace.adminKey}` },
      })
    ).json();
    expect(gina.history).toEqual([
      {
        purpose: 'sale_sharing',
        granted: false,
        source: 'gpc',
        category: null,
        at: '2026-03-02T09:00:00.000Z',
      },
    ]);
  });

  it('counts people and grants per purpose at the end of every day, as counted by hand', async () => {
    const analyst = (await createApiKey(workspace.server.store, { kind: 'analyst' })).key;
    const response = await workspace.server.app.inject({
      method: 'GET',
      url: '/v1/consent/overview?interval=day&from=2026-03-01T00:00:00.000Z&to=2026-03-04T00:00:00.000Z',
      headers: { authorization: `Bearer ${analyst}` },
    });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.interval).toBe('day');
    expect(body.from).toBe('2026-03-01T00:00:00.000Z');
    expect(body.to).toBe('2026-03-04T00:00:00.000Z');
    expect(body.purposes).toEqual([...CONSENT_PURPOSES]);
    expect(body.defaults).toEqual({
      analytics: 'granted',
      personalisation: 'granted',
      advertising: 'denied',
      sale_sharing: 'granted',
    });
    expect(body.points).toEqual([
      // Ada and Alice; Alice refused analytics and accepted advertising.
      {
        bucket: '2026-03-01T00:00:00.000Z',
        people: 2,
        granted: { analytics: 1, personalisation: 2, advertising: 1, sale_sharing: 2 },
      },
      // Gina (GPC: no sale/sharing) and Pat arrive.
      {
        bucket: '2026-03-02T00:00:00.000Z',
        people: 4,
        granted: { analytics: 3, personalisation: 4, advertising: 1, sale_sharing: 3 },
      },
      // Pat objects to personalisation; Mia (one person after the merge) accepts ads, refuses analytics.
      {
        bucket: '2026-03-03T00:00:00.000Z',
        people: 5,
        granted: { analytics: 3, personalisation: 4, advertising: 2, sale_sharing: 4 },
      },
    ]);
    // Sent on two events, recorded once: the unchanged repeat was not written again.
    expect(body.unknownCategories).toEqual([{ category: 'C0009', count: 1 }]);
  });

  it('asks for the right permission on each consent route and checks what is sent', async () => {
    const reader = (await createApiKey(workspace.server.store, { kind: 'read' })).key;
    const call = (method: 'GET' | 'POST', url: string, key: string, payload?: unknown) =>
      workspace.server.app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        ...(payload ? { payload: payload as Record<string, unknown> } : {}),
      });
    expect((await call('GET', '/v1/consent/overview', reader)).statusCode).toBe(200);
    expect((await call('GET', '/v1/consent/ada', reader)).statusCode).toBe(403);
    expect((await call('POST', '/v1/consent', reader, { userId: 'ada', purposes: {} })).statusCode).toBe(403);
    const invalid = await call('POST', '/v1/consent', workspace.adminKey, {
      userId: 'ada',
      purposes: { marketing: false },
    });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json()).toMatchObject({ code: 'REFINERY_ERR_INVALID_FIELD', field: 'purposes.marketing' });
    const nobody = await call('POST', '/v1/consent', workspace.adminKey, { purposes: { analytics: true } });
    expect(nobody.json()).toMatchObject({ code: 'REFINERY_ERR_MISSING_FIELD', field: 'userId' });
    expect((await call('GET', '/v1/consent/nobody-here', workspace.adminKey)).statusCode).toBe(404);
    expect((await call('GET', '/v1/consent/overview?interval=hour', reader)).statusCode).toBe(400);
  });
});

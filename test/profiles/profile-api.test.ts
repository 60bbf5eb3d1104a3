import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/access/api-keys.js';
import { hasClickHouse } from '../helpers/clickhouse-server.js';
import { basicAuth, startTestWorkspace, type TestWorkspace } from '../helpers/test-workspace.js';

const engines = hasClickHouse ? (['duckdb', 'clickhouse'] as const) : (['duckdb'] as const);
if (!hasClickHouse) {
  console.warn(
    'profile API: clickhouse-server is not installed, running on DuckDB only (bash .ci/run installs it)',
  );
}

describe.each(engines)('profiles over the API on %s', (engine) => {
  let workspace: TestWorkspace;
  let analystKey: string;

  beforeAll(async () => {
    workspace = await startTestWorkspace({ engine });
    analystKey = (await createApiKey(workspace.server.store, { kind: 'analyst' })).key;
    // Ada browses anonymously on her laptop, then signs up; later she orders from her phone.
    await send([
      { type: 'page', anonymousId: 'laptop-1', name: 'Home', timestamp: '2026-03-01T09:00:00.000Z' },
      {
        type: 'track',
        anonymousId: 'laptop-1',
        event: 'Product Viewed',
        properties: { product_id: 'sourdough' },
        timestamp: '2026-03-01T09:01:00.000Z',
      },
      {
        type: 'identify',
        userId: 'ada',
        anonymousId: 'laptop-1',
        traits: { email: 'Ada@Example.com', name: 'Ada Lovelace', plan: 'basic' },
        timestamp: '2026-03-01T09:02:00.000Z',
      },
      {
        type: 'identify',
        userId: 'ada',
        anonymousId: 'phone-1',
        traits: { plan: 'premium' },
        timestamp: '2026-03-05T18:00:00.000Z',
      },
      order('ada', 'phone-1', 'o-1', '2026-03-05T18:05:00.000Z', 12.5, [
        { product_id: 'sourdough', category: 'bread', price: 4.5, quantity: 2 },
        { product_id: 'eclair', category: 'pastry', price: 3.5, quantity: 1 },
      ]),
      order('ada', 'phone-1', 'o-2', '2026-03-07T08:00:00.000Z', 9, [
        { product_id: 'rye', category: 'bread', price: 4.5, quantity: 2 },
      ]),
      // Someone else, with a user id of their own, on a different device.
      {
        type: 'identify',
        userId: 'bob',
        anonymousId: 'tablet-9',
        traits: { plan: 'premium' },
        timestamp: '2026-03-02T10:00:00.000Z',
      },
    ]);
    await workspace.drain();
  }, 120_000);
  afterAll(async () => {
    await workspace?.close();
  });

  async function send(batch: Record<string, unknown>[]): Promise<void> {
    const response = await workspace.server.app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: { authorization: basicAuth(workspace.writeKey), 'content-type': 'application/json' },
      payload: JSON.stringify({ batch }),
    });
    expect(response.statusCode).toBe(200);
  }

  const get = (url: string, key = workspace.adminKey) =>
    workspace.server.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } });

  it('shows one profile for every id a person used, with the events of all of them', async () => {
    const byUserId = (await get('/v1/profiles/user_id:ada')).json();
    const byLaptop = (await get('/v1/profiles/anonymous_id:laptop-1')).json();
    const byEmail = (await get(`/v1/profiles/${encodeURIComponent('email: ada@example.COM')}`)).json();
    expect(byLaptop.personId).toBe(byUserId.personId);
    expect(byEmail.personId).toBe(byUserId.personId);
    expect((await get(`/v1/profiles/${byUserId.personId}`)).json().personId).toBe(byUserId.personId);
    expect(byUserId.identities).toEqual(
      expect.arrayContaining([
        { type: 'user_id', value: 'ada' },
        { type: 'anonymous_id', value: 'laptop-1' },
        { type: 'anonymous_id', value: 'phone-1' },
        { type: 'email', value: workspace.server.privacy.identifiers.email('ada@example.com') },
      ]),
    );
    // The anonymous page view before sign-up is hers too: 2 anonymous + 2 identify + 2 orders.
    expect(byUserId.eventCount).toBe(6);
    expect(byUserId.firstSeen).toBe('2026-03-01T09:00:00.000Z');
    expect(byUserId.lastSeen).toBe('2026-03-07T08:00:00.000Z');
    expect(byUserId.recentEvents[0]).toMatchObject({ type: 'track', name: 'Order Completed' });
    expect(byUserId.recentEvents.at(-1)).toMatchObject({ type: 'page', name: 'Home' });
  });

  it('keeps the latest value of each trait and computes order traits', async () => {
    const profile = (await get('/v1/profiles/ada')).json();
    expect(profile.traits).toEqual({ email: 'Ada@Example.com', name: 'Ada Lovelace', plan: 'premium' });
    expect(profile.computed).toEqual({
      orderCount: 2,
      revenue: 21.5,
      averageOrderValue: 10.75,
      lastOrderAt: '2026-03-07T08:00:00.000Z',
      favouriteCategory: 'bread',
    });
  });

  it('hides personal fields from an analyst, and refuses a search by one', async () => {
    const response = await get('/v1/profiles/ada', analystKey);
    expect(response.statusCode).toBe(200);
    const profile = response.json();
    expect(profile.traits).toEqual({ email: '[hidden]', name: '[hidden]', plan: 'premium' });
    expect(profile.hidden).toEqual(['email', 'name']);
    expect(JSON.stringify(profile)).not.toContain('Lovelace');
    const search = await get('/v1/profiles?trait=email&value=ada%40example.com', analystKey);
    expect(search.statusCode).toBe(403);
    expect(search.json().code).toBe('REFINERY_ERR_FORBIDDEN');
  });

  it('finds people by a trait value, and by email through its hash', async () => {
    const premium = (await get('/v1/profiles?trait=plan&value=premium')).json();
    const ada = (await get('/v1/profiles/ada')).json().personId;
    const bob = (await get('/v1/profiles/bob')).json().personId;
    expect(premium.items.map((p: { personId: string }) => p.personId).sort()).toEqual([ada, bob].sort());
    const byEmail = (await get('/v1/profiles?trait=email&value=ADA%40example.com')).json();
    expect(byEmail.items.map((p: { personId: string }) => p.personId)).toEqual([ada]);
    const nobody = (await get('/v1/profiles?trait=plan&value=gold')).json();
    expect(nobody.items).toEqual([]);
  });

  it('records every read of personal fields in the audit log, and not the masked reads', async () => {
    const personId = (await get('/v1/profiles/ada')).json().personId;
    await get('/v1/profiles/ada', analystKey);
    const entries = (await get(`/v1/audit?action=personal_data.read&target=${personId}`)).json().entries;
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.every((entry: { actor: { kind?: string } }) => entry.actor.kind === 'admin')).toBe(true);
    expect(JSON.stringify(entries)).not.toContain('Lovelace');
    const verification = (await get('/v1/audit/verify')).json();
    expect(verification).toMatchObject({ ok: true });
    expect(verification.entries).toBeGreaterThanOrEqual(entries.length);
  });

  it('answers 404 with a stable code for an unknown person, and 400 for a bad search', async () => {
    const unknown = await get('/v1/profiles/user_id:nobody');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ code: 'REFINERY_ERR_PROFILE_NOT_FOUND', field: 'id' });
    const bad = await get('/v1/profiles?trait=a%20b&value=x');
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ field: 'trait' });
  });
});

function order(
  userId: string,
  anonymousId: string,
  orderId: string,
  timestamp: string,
  revenue: number,
  products: Record<string, unknown>[],
): Record<string, unknown> {
  return {
    type: 'track',
    userId,
    anonymousId,
    event: 'Order Completed',
    properties: { order_id: orderId, revenue, currency: 'EUR', products },
    timestamp,
  };
}

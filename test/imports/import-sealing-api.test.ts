import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/access/api-keys.js';
import { decryptField } from '../../src/privacy/vault/field-envelope.js';
import { hasClickHouse } from '../helpers/clickhouse-server.js';
import { storedTableText } from '../helpers/stored-text.js';
import { basicAuth, startTestWorkspace, type TestWorkspace } from '../helpers/test-workspace.js';

/*
 * Files imported over the API (POST /v1/imports) have their personal values sealed with the workspace's keys,
 * as collected events do: SQL and an analyst see the sealed or hidden form, an admin's profile and the person's
 * access bundle open them, no table holds them in clear, and an erasure shreds the key they were sealed with.
 */

const engines = hasClickHouse ? (['duckdb', 'clickhouse'] as const) : (['duckdb'] as const);
if (!hasClickHouse)
  console.warn('import sealing API: clickhouse-server is not installed, running on DuckDB only');

const CUSTOMERS = [
  'customer_id,email,first_name,last_name,phone,city,address,loyalty',
  'c-ada,ada.api.sealed@example.org,Adelheid,Sealmore,+44 20 7946 0101,Controlton,3 Quiet Close,tier-marker-81c4',
  'c-bob,bob.api.sealed@example.org,Bobrick,Hidewell,+44 20 7946 0102,Controlton,4 Still Street,tier-marker-81c4',
  'c-cyd,cyd.api.sealed@example.org,Cydney,Keepwell,,Controlton,,tier-marker-81c4',
  '',
].join('\n');

const ORDERS = [
  'order_id,ordered_at,customer_id,email,product_id,quantity,unit_price',
  'o-1,2025-01-02T10:00:00Z,c-ada,ada.api.sealed@example.org,p1,1,2.00',
  'o-2,2025-01-03T10:00:00Z,,guest.api.sealed@example.org,p2,1,3.00',
  '',
].join('\n');

const CLEAR_VALUES = [
  'ada.api.sealed@example.org',
  'bob.api.sealed@example.org',
  'guest.api.sealed@example.org',
  'Adelheid',
  'Sealmore',
  'Hidewell',
  '+44 20 7946 0101',
  '3 Quiet Close',
  'cyd.api.sealed@example.org',
  'Cydney',
];
const CONTROLS = ['Controlton', 'tier-marker-81c4'];

describe.each(engines)('imported personal values over the API on %s', (engine) => {
  let ws: TestWorkspace;
  let analystKey: string;
  let privacyKey: string;
  let sealedAda: string;
  let sealedBob: string;

  const request = (method: 'GET' | 'POST', url: string, key: string, body?: unknown) =>
    ws.server.app.inject({
      method,
      url,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });

  const upload = (target: string, fileName: string, text: string) =>
    ws.server.app.inject({
      method: 'POST',
      url: `/v1/imports?as=${target}&fileName=${fileName}`,
      headers: { authorization: `Bearer ${ws.adminKey}`, 'content-type': 'application/octet-stream' },
      payload: text,
    });

  beforeAll(async () => {
    ws = await startTestWorkspace({ engine });
    analystKey = (await createApiKey(ws.server.store, { kind: 'analyst' })).key;
    privacyKey = (await createApiKey(ws.server.store, { kind: 'privacy', name: 'dpo' })).key;
    // Ada is also a visitor the collector knows, so she is a person of the identity graph.
    const sent = await ws.server.app.inject({
      method: 'POST',
      url: '/v1/identify',
      headers: { authorization: basicAuth(ws.writeKey), 'content-type': 'application/json' },
      payload: JSON.stringify({ userId: 'c-ada', traits: { plan: 'basic' } }),
    });
    expect(sent.statusCode).toBe(200);
    await ws.drain();
    for (const [target, name, text] of [
      ['customers', 'customers.csv', CUSTOMERS],
      ['orders', 'orders.csv', ORDERS],
    ] as const) {
      const imported = await upload(target, name, text);
      expect(imported.statusCode, imported.body).toBe(200);
      expect(imported.json()).toMatchObject({ rejected: 0 });
    }
  }, 180_000);
  afterAll(async () => {
    await ws?.close();
  });

  it('shows SQL, even to an admin key, the sealed form of every personal column', async () => {
    const answer = await request('POST', '/v1/query', ws.adminKey, {
      sql: 'SELECT customer_id, email, phone, first_name, name, city FROM customers ORDER BY customer_id',
    });
    expect(answer.statusCode, answer.body).toBe(200);
    const rows = answer.json().rows as Record<string, string>[];
    expect(rows.map((row) => row.customer_id)).toEqual(['c-ada', 'c-bob', 'c-cyd']);
    for (const row of rows) {
      for (const column of ['email', 'first_name', 'name']) expect(row[column]).toMatch(/^rfy1:/);
      if (row.customer_id !== 'c-cyd') expect(row.phone).toMatch(/^rfy1:/);
      expect(row.city).toBe('Controlton');
    }
    sealedAda = rows[0]!.email!;
    sealedBob = rows[1]!.email!;
    const orders = await request('POST', '/v1/query', ws.adminKey, {
      sql: 'SELECT order_id, email FROM orders ORDER BY order_id',
    });
    for (const row of orders.json().rows as { email: string }[]) expect(row.email).toMatch(/^rfy1:/);
    // What an erasure by email finds the imported rows by, the email itself being sealed.
    const hash = ws.server.privacy.identifiers.email('ADA.api.sealed@example.org')!;
    expect(await ws.server.store.imports.customerIdsOfEmails([hash])).toEqual(['c-ada']);
  });

  it('opens the imported customer record in the profile for an admin key, and hides it from an analyst', async () => {
    const admin = await request('GET', '/v1/profiles/c-ada', ws.adminKey);
    expect(admin.statusCode, admin.body).toBe(200);
    expect(admin.json().customers).toEqual([
      expect.objectContaining({
        customer_id: 'c-ada',
        email: 'ada.api.sealed@example.org',
        name: 'Adelheid Sealmore',
        phone: '+44 20 7946 0101',
        city: 'Controlton',
        extra: { address: '3 Quiet Close', loyalty: 'tier-marker-81c4' },
      }),
    ]);
    const analyst = await request('GET', '/v1/profiles/c-ada', analystKey);
    expect(analyst.json().customers).toEqual([
      expect.objectContaining({ email: '[hidden]', name: '[hidden]', city: 'Controlton' }),
    ]);
    expect(analyst.body).not.toContain('rfy1:');
    for (const value of CLEAR_VALUES) expect(analyst.body).not.toContain(value);
  });

  it("opens the person's imported records in her access bundle, JSON and CSV", async () => {
    const created = await request('POST', '/v1/privacy/requests', privacyKey, {
      kind: 'access',
      userId: 'c-ada',
    });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().request.id as string;
    const bundle = (await request('GET', `/v1/privacy/requests/${id}/bundle`, privacyKey)).json();
    expect(bundle.customers).toEqual([
      expect.objectContaining({ customer_id: 'c-ada', email: 'ada.api.sealed@example.org' }),
    ]);
    expect(bundle.orders).toEqual([
      expect.objectContaining({ order_id: 'o-1', email: 'ada.api.sealed@example.org' }),
    ]);
    const csv = await request(
      'GET',
      `/v1/privacy/requests/${id}/bundle?format=csv&part=customers`,
      privacyKey,
    );
    expect(csv.body).toContain('ada.api.sealed@example.org');
    expect(csv.body).not.toContain('bob.api.sealed');
  });

  it('erases the person: her sealed values no longer open, another person’s still do', async () => {
    const erased = await request('POST', '/v1/privacy/requests', privacyKey, {
      kind: 'erase',
      userId: 'c-ada',
    });
    expect(erased.statusCode, erased.body).toBe(201);
    const vault = ws.server.privacy.vault;
    await vault.refresh();
    expect(decryptField(sealedAda, vault, 'traits.email')).toMatchObject({ status: 'shredded' });
    expect(decryptField(sealedBob, vault, 'traits.email')).toEqual({
      status: 'ok',
      value: 'bob.api.sealed@example.org',
    });
  });

  it('erases a customer known only from an import by their email: the row goes and the key is shredded', async () => {
    const erased = await request('POST', '/v1/privacy/requests', privacyKey, {
      kind: 'erase',
      email: 'Bob.API.Sealed@example.org',
    });
    expect(erased.statusCode, erased.body).toBe(201);
    await ws.server.privacy.vault.refresh();
    expect(decryptField(sealedBob, ws.server.privacy.vault, 'traits.email')).toMatchObject({
      status: 'shredded',
    });
    const left = await request('POST', '/v1/query', ws.adminKey, {
      sql: 'SELECT customer_id FROM customers',
    });
    expect(left.json().rows).toEqual([{ customer_id: 'c-cyd' }]);
  });

  it('keeps no clear personal value in any table of the store (a non-personal value is there)', async () => {
    const everything = await storedTableText(ws);
    for (const control of CONTROLS) expect(everything).toContain(control);
    for (const value of CLEAR_VALUES) expect(everything, value).not.toContain(value);
  });
});

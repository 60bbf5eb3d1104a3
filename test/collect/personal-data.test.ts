import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/access/api-keys.js';
import { storedTableText, textUnder } from '../helpers/stored-text.js';
import { basicAuth, startTestWorkspace, type TestWorkspace } from '../helpers/test-workspace.js';

// Personal fields are sealed per person before anything is written: the write-ahead log, quarantine, reject
// excerpts, violation excerpts and event rows hold envelopes or nothing, never the clear value.
const IDENTIFY_CONTRACT = `apiVersion: v3.1.0
kind: DataContract
id: people
version: 1.0.0
status: active
name: People
customProperties:
  - property: refinery.mode
    value: enforce
schema:
  - name: identify
    physicalType: identify
    properties:
      - name: email
        logicalType: string
        logicalTypeOptions:
          format: email
`;

const CLEAR_VALUES = [
  'ada.lovelace@example.org',
  'Ada Lovelace',
  'batch.person@example.org',
  'order.contact@example.org',
  'held.person@example',
  'rejected.person@example.org',
  'Gone Person',
];
// Not personal: must be found where the personal values are not, or the search could not see anything.
const CONTROL = 'plan-marker-7f3a';

let ws: TestWorkspace;
let analystKey: string;
let walBeforeLoad = '';

function post(url: string, body: unknown) {
  return ws.server.app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json', authorization: basicAuth(ws.writeKey) },
    payload: JSON.stringify(body),
  });
}

function get(url: string, key: string) {
  return ws.server.app.inject({ method: 'GET', url, headers: { authorization: basicAuth(key) } });
}

beforeAll(async () => {
  ws = await startTestWorkspace({
    // The loader waits, so the write-ahead log can be read as the collector wrote it.
    yamlExtra: 'collect:\n  loaderIntervalMs: 3600000\ncontracts:\n  reloadIntervalMs: 0',
    contracts: { 'people.odcs.yaml': IDENTIFY_CONTRACT },
  });
  analystKey = (await createApiKey(ws.server.store, { kind: 'analyst' })).key;
  await ws.server.privacy.suppression.suppress([{ type: 'user_id', value: 'gone' }]);

  const answers = await Promise.all([
    post('/v1/identify', {
      userId: 'ada',
      traits: { email: 'ada.lovelace@example.org', name: 'Ada Lovelace', plan: CONTROL },
    }),
    post('/v1/batch', {
      context: { traits: { email: 'batch.person@example.org' } },
      batch: [
        { type: 'page', anonymousId: 'anon-b', name: 'Home' },
        { type: 'track', anonymousId: 'anon-b', event: 'Basket Viewed' },
      ],
    }),
    post('/v1/track', {
      userId: 'ada',
      event: 'Order Completed',
      properties: { order_id: 'o-1', total: 12, email: 'order.contact@example.org' },
      context: { consent: { categoryPreferences: { Advertising: true } } },
    }),
    post('/v1/identify', { userId: 'held', messageId: 'held-1', traits: { email: 'held.person@example' } }),
    post('/v1/batch', {
      batch: [
        {
          type: 'identify',
          userId: 'rej',
          timestamp: 'not a time',
          traits: { email: 'rejected.person@example.org' },
        },
        { type: 'track', userId: 'ada', event: 'Kept Beside A Reject' },
      ],
    }),
    post('/v1/identify', { userId: 'gone', traits: { name: 'Gone Person', plan: 'x' } }),
  ]);
  for (const answer of answers) expect(answer.statusCode).toBe(200);
  walBeforeLoad = textUnder(ws.server.paths.wal);
  await ws.drain();
});

afterAll(async () => {
  await ws?.close();
});

describe('personal data at ingest', () => {
  it('writes no clear personal value to the write-ahead log (a non-personal value is there)', () => {
    expect(walBeforeLoad).toContain(CONTROL);
    for (const value of CLEAR_VALUES) expect(walBeforeLoad).not.toContain(value);
    expect(walBeforeLoad).toContain('rfy1:');
  });

  it('drops a suppressed (erased) person silently: success for the client, nothing kept', async () => {
    const answer = await post('/v1/identify', { userId: 'gone', traits: { plan: 'again' } });
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toMatchObject({ success: true, accepted: 0, rejected: [] });
    await ws.drain();
    expect(await ws.rows("SELECT user_id FROM events WHERE user_id = 'gone'")).toEqual([]);
    expect(walBeforeLoad).not.toContain('"gone"');
  });

  it('opens sealed traits and properties in the profile for an admin, and hides them from an analyst', async () => {
    const admin = await get('/v1/profiles/ada?events=10', ws.adminKey);
    expect(admin.statusCode).toBe(200);
    const profile = admin.json();
    expect(profile.traits).toMatchObject({
      email: 'ada.lovelace@example.org',
      name: 'Ada Lovelace',
      plan: CONTROL,
    });
    const order = profile.recentEvents.find((event: { name: string }) => event.name === 'Order Completed');
    expect(order.properties.email).toBe('order.contact@example.org');
    expect(profile.computed.orderCount).toBe(1);
    // The profile's consent standing: a banner's yes to advertising, defaults for the rest.
    expect(profile.consents).toContainEqual(
      expect.objectContaining({ purpose: 'advertising', granted: true, source: 'context.consent' }),
    );
    expect(profile.consents).toContainEqual({
      purpose: 'sale_sharing',
      granted: false,
      since: null,
      source: 'default',
    });

    const analyst = (await get('/v1/profiles/ada?events=10', analystKey)).json();
    expect(analyst.traits.email).toBe('[hidden]');
    expect(JSON.stringify(analyst)).not.toContain('rfy1:');
    expect(JSON.stringify(analyst)).not.toContain('ada.lovelace');
  });

  it('seals a batch-level context per message, and still links the person by the email hash', async () => {
    const byEmail = await get(
      `/v1/profiles/${encodeURIComponent('email:batch.person@example.org')}`,
      ws.adminKey,
    );
    expect(byEmail.statusCode).toBe(200);
    expect(byEmail.json().identities).toContainEqual({ type: 'anonymous_id', value: 'anon-b' });
    expect(byEmail.json().traits.email).toBe('batch.person@example.org');
  });

  it('holds a quarantined payload sealed, opens it for an admin, and masks the violation excerpt', async () => {
    const listed = await get('/v1/quarantine?limit=10', ws.adminKey);
    const held = listed.json().items.find((item: { id: string }) => item.id === 'held-1');
    expect(JSON.stringify(held.violations)).not.toContain('held.person');
    const detail = await get('/v1/quarantine/held-1', ws.adminKey);
    expect(detail.statusCode).toBe(200);
    expect(detail.json().payload.traits.email).toBe('held.person@example');
  });

  it('keeps a redacted excerpt of a rejected message', async () => {
    const rows = await ws.rows<{ payload: string }>('SELECT payload FROM rejected_events');
    const reject = rows.find((row) => row.payload.includes('"rej"'));
    expect(reject?.payload).toContain('[redacted]');
    expect(reject?.payload).not.toContain('rejected.person');
  });

  it('leaves no clear personal value in any table of the database (a non-personal value is there)', async () => {
    const everything = await storedTableText(ws);
    expect(everything).toContain(CONTROL);
    for (const value of CLEAR_VALUES) expect(everything).not.toContain(value);
  });
});

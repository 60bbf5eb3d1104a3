import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storedTableText, textUnder } from '../helpers/stored-text.js';
import { basicAuth, startTestWorkspace, type TestWorkspace } from '../helpers/test-workspace.js';

// What is checked is what is stored. JavaScript keeps the last of two duplicate keys and DuckDB the first, and
// JavaScript reads 12345678901234567890 as 12345678901234567000: stored as received, such bodies put in the
// store what the vault, the suppression list, the contracts and the identity graph never saw. Each body here
// is sent as text; the stored row must equal JSON.parse of that text.
const ORDERS_CONTRACT = `apiVersion: v3.1.0
kind: DataContract
id: orders
version: 1.0.0
status: active
customProperties:
  - property: refinery.mode
    value: enforce
schema:
  - name: order_completed
    physicalType: track
    physicalName: Order Completed
    properties:
      - name: total
        logicalType: number
        required: true
        logicalTypeOptions:
          minimum: 0
`;

const BODIES = {
  twiceTraits:
    '{"userId":"twice","messageId":"twice-traits","traits":{"email":"twice.person@example.org","name":"Twice Person"},"traits":{"plan":"basic"}}',
  everywhere:
    '{"userId":"row-a","event":"First","messageId":"dup-row","properties":{"n":1,"nested":{"x":1,"x":2},"n":2},' +
    '"context":{"locale":"fr"},"context":{"locale":"de","page":{"path":"/a","path":"/b"}},"event":"Second","userId":"row-b"}',
  bigId: '{"userId":12345678901234567890,"event":"Big Id","messageId":"big-id"}',
  floatId: '{"anonymousId":1e3,"event":"Float Id","messageId":"float-id"}',
  erasedLast: '{"userId":"other","userId":"gone","event":"Erased Last","messageId":"erased-last"}',
  erasedFirst: '{"userId":"gone","userId":"other","event":"Erased First","messageId":"erased-first"}',
  violationLast:
    '{"userId":"buyer","event":"Order Completed","messageId":"violation-last","properties":{"total":5},"properties":{"total":-5}}',
  violationFirst:
    '{"userId":"buyer","event":"Order Completed","messageId":"violation-first","properties":{"total":-5},"properties":{"total":5}}',
  graph: '{"anonymousId":"anon-g","userId":"graph-a","userId":"graph-b","messageId":"dup-graph"}',
  withWriteKey: '{"userId":"k","event":"Keyed","messageId":"keyed","writeKey":"__WRITE_KEY__"}',
} as const;

const CLEAR_VALUES = ['twice.person@example.org', 'Twice Person'];

let ws: TestWorkspace;
let walBeforeLoad = '';
const answers: Record<string, { statusCode: number; json(): Record<string, unknown> }> = {};

function post(url: string, text: string) {
  return ws.server.app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json', authorization: basicAuth(ws.writeKey) },
    payload: text,
  });
}

function admin(url: string) {
  return ws.server.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${ws.adminKey}` } });
}

async function storedRow(messageId: string) {
  interface Row {
    user_id: string | null;
    anonymous_id: string | null;
    event: string | null;
    properties: unknown;
    traits: unknown;
    context: unknown;
    person_id: string | null;
  }
  const rows = await ws.rows<Row>(
    `SELECT user_id, anonymous_id, event, properties, traits, context, person_id FROM events WHERE message_id = '${messageId}'`,
  );
  expect(rows).toHaveLength(1);
  const row = rows[0]!;
  const json = (value: unknown) => (typeof value === 'string' ? JSON.parse(value) : value);
  return { ...row, properties: json(row.properties), traits: json(row.traits), context: json(row.context) };
}

beforeAll(async () => {
  ws = await startTestWorkspace({
    // The loader waits, so the write-ahead log can be read as the collector wrote it.
    yamlExtra: 'collect:\n  loaderIntervalMs: 3600000\ncontracts:\n  reloadIntervalMs: 0',
    contracts: { 'orders.odcs.yaml': ORDERS_CONTRACT },
  });
  await ws.server.privacy.suppression.suppress([{ type: 'user_id', value: 'gone' }]);
  const routes: Record<keyof typeof BODIES, string> = {
    twiceTraits: '/v1/identify',
    everywhere: '/v1/track',
    bigId: '/v1/track',
    floatId: '/v1/track',
    erasedLast: '/v1/track',
    erasedFirst: '/v1/track',
    violationLast: '/v1/track',
    violationFirst: '/v1/track',
    graph: '/v1/identify',
    withWriteKey: '/v1/track',
  };
  for (const [name, text] of Object.entries(BODIES)) {
    const answer = await post(
      routes[name as keyof typeof BODIES],
      text.replace('__WRITE_KEY__', ws.writeKey),
    );
    expect(answer.statusCode, name).toBe(200);
    answers[name] = answer;
  }
  walBeforeLoad = textUnder(ws.server.paths.wal);
  await ws.drain();
});

afterAll(async () => {
  await ws?.close();
});

describe('what is checked is what is stored', () => {
  it('stores the traits JavaScript parsed when traits appear twice, with no clear email in the log', async () => {
    const row = await storedRow('twice-traits');
    expect(row.traits).toEqual(JSON.parse(BODIES.twiceTraits).traits);
    for (const value of CLEAR_VALUES) expect(walBeforeLoad).not.toContain(value);
  });

  it('stores the row JavaScript parsed when keys repeat at every level', async () => {
    const parsed = JSON.parse(BODIES.everywhere);
    const row = await storedRow('dup-row');
    expect(row).toMatchObject({
      user_id: parsed.userId,
      event: parsed.event,
      properties: parsed.properties,
      context: parsed.context,
    });
  });

  it('stores a numeric id as the number JavaScript read, not as the digits sent', async () => {
    const row = await storedRow('big-id');
    expect(row.user_id).toBe(String(JSON.parse(BODIES.bigId).userId));
    // Read as a float by DuckDB, 1e3 would become "1000.0"; the checks saw 1000.
    expect((await storedRow('float-id')).anonymous_id).toBe(String(JSON.parse(BODIES.floatId).anonymousId));
  });

  it('stores the userId the suppression list checked, whichever of two userIds names an erased person', async () => {
    // Last: the erased id is the one checked, so the message is dropped.
    expect(answers.erasedLast!.json()).toMatchObject({ accepted: 0, rejected: [] });
    expect(await ws.rows("SELECT message_id FROM events WHERE message_id = 'erased-last'")).toEqual([]);
    // First: "other" is checked, so "other" is stored and the erased id is nowhere.
    const row = await storedRow('erased-first');
    expect(row.user_id).toBe('other');
    expect(await ws.rows("SELECT message_id FROM events WHERE user_id = 'gone'")).toEqual([]);
    expect(walBeforeLoad).not.toContain('"gone"');
  });

  it('holds the value an enforced contract refused, and stores only the value it passed', async () => {
    expect(answers.violationLast!.json().quarantined).toHaveLength(1);
    expect(await ws.rows("SELECT message_id FROM events WHERE message_id = 'violation-last'")).toEqual([]);
    const held = await admin('/v1/quarantine/violation-last');
    expect(held.statusCode).toBe(200);
    expect(held.json().payload.properties).toEqual(JSON.parse(BODIES.violationLast).properties);

    expect(answers.violationFirst!.json()).toMatchObject({ accepted: 1, quarantined: [] });
    const row = await storedRow('violation-first');
    expect(row.properties).toEqual({ total: 5 });
  });

  it('links in the identity graph the userId the row holds', async () => {
    const row = await storedRow('dup-graph');
    expect(row.user_id).toBe('graph-b');
    const profile = await admin('/v1/profiles/graph-b');
    expect(profile.statusCode).toBe(200);
    expect(profile.json().identities).toEqual(
      expect.arrayContaining([
        { type: 'user_id', value: 'graph-b' },
        { type: 'anonymous_id', value: 'anon-g' },
      ]),
    );
    expect(row.person_id).toBe(profile.json().personId);
    expect((await admin('/v1/profiles/graph-a')).statusCode).toBe(404);
  });

  it('keeps no write key sent in a body in the log', () => {
    expect(walBeforeLoad).toContain('keyed');
    expect(walBeforeLoad).not.toContain(ws.writeKey);
  });

  it('leaves no clear personal value of a repeated key in any table (a non-personal value is there)', async () => {
    const everything = await storedTableText(ws);
    expect(everything).toContain('basic');
    for (const value of CLEAR_VALUES) expect(everything).not.toContain(value);
  });
});

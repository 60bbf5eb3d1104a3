import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isWellFormed } from '../../src/collect/well-formed-unicode.js';
import { startServer } from '../../src/runtime/server-runtime.js';
import { basicAuth, startTestWorkspace, type TestWorkspace } from '../helpers/test-workspace.js';

// A lone surrogate (`\ud800` with no pair) is no character: DuckDB's JSON reader refuses the escape, so one in
// the write-ahead log stopped loading for good. Each place one can hide is refused with its field path, the
// messages beside it are stored, and a probe sent afterwards is stored too.
const WARN_CONTRACT = `apiVersion: v3.1.0
kind: DataContract
id: coded
version: 1.0.0
status: active
customProperties:
  - property: refinery.mode
    value: warn
schema:
  - name: coded
    physicalType: track
    physicalName: Coded
    properties:
      - name: code
        logicalType: string
        logicalTypeOptions:
          pattern: "^[a-z]+$"
`;

// Written as JSON text: `\\ud800` in this file is the six characters of the escape in the body.
const LONE = '\\ud800';
const EMOJI = '\u{1F600}';

let ws: TestWorkspace;
let probes = 0;

beforeAll(async () => {
  ws = await startTestWorkspace({
    yamlExtra: 'contracts:\n  reloadIntervalMs: 0',
    contracts: { 'coded.odcs.yaml': WARN_CONTRACT },
  });
});
afterAll(async () => {
  await ws?.close();
});

function post(url: string, text: string, key = ws.writeKey) {
  return ws.server.app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json', authorization: basicAuth(key) },
    payload: text,
  });
}

/** Sends a valid event after the hostile one; it must be stored once the log is loaded. */
async function sendProbe(): Promise<string> {
  const id = `probe-${++probes}`;
  const answer = await post('/v1/track', JSON.stringify({ userId: 'probe', event: 'Probe', messageId: id }));
  expect(answer.statusCode).toBe(200);
  return id;
}

async function expectStored(ids: readonly string[]) {
  await ws.drain();
  const list = ids.map((id) => `'${id}'`).join(', ');
  const rows = await ws.rows<{ message_id: string }>(
    `SELECT message_id FROM events WHERE message_id IN (${list}) ORDER BY message_id`,
  );
  expect(rows.map((row) => row.message_id)).toEqual([...ids].sort());
}

const SINGLE_PLACES: [string, string, string, string][] = [
  ['the event name', '/v1/track', `{"userId":"u","event":"a${LONE}b"}`, 'body.event'],
  [
    'a property key',
    '/v1/track',
    `{"userId":"u","event":"e","properties":{"k${LONE}":1}}`,
    'body.properties.k\uFFFD',
  ],
  [
    'a property value',
    '/v1/track',
    `{"userId":"u","event":"e","properties":{"list":["ok","${LONE}"]}}`,
    'body.properties.list[1]',
  ],
  [
    'an unknown top-level field',
    '/v1/track',
    `{"userId":"u","event":"e","channel":"${LONE}"}`,
    'body.channel',
  ],
  [
    'the context',
    '/v1/page',
    `{"anonymousId":"a","name":"Home","context":{"page":{"title":"x${LONE}"}}}`,
    'body.context.page.title',
  ],
  ['a trait', '/v1/identify', `{"userId":"u","traits":{"plan":"${LONE}"}}`, 'body.traits.plan'],
  ['a trait key', '/v1/identify', `{"userId":"u","traits":{"${LONE}":"x"}}`, 'body.traits.\uFFFD'],
  ['the user id', '/v1/track', `{"userId":"u${LONE}","event":"e"}`, 'body.userId'],
  [
    'integrations',
    '/v1/track',
    `{"userId":"u","event":"e","integrations":{"All":"${LONE}"}}`,
    'body.integrations.All',
  ],
];

describe('lone surrogates', () => {
  it.each(SINGLE_PLACES)(
    'refuses one in %s with a 400 naming the field, and stores the next event',
    async (_label, url, text, field) => {
      const answer = await post(url, text);
      expect(answer.statusCode).toBe(400);
      expect(answer.json()).toMatchObject({ code: 'REFINERY_ERR_INVALID_UNICODE', field });
      await expectStored([await sendProbe()]);
    },
  );

  it('refuses only the message holding one in a batch, stores the others, and says where', async () => {
    const text = `{"batch":[
      {"type":"track","event":"Beside","userId":"b","messageId":"beside-1"},
      {"type":"track","event":"Bad","userId":"b","messageId":"bad-1","properties":{"deep":{"k${LONE}":1}}},
      {"type":"identify","userId":"b","messageId":"bad-2","context":{"traits":{"name":"${LONE}"}}},
      {"type":"track","event":"Beside","userId":"b","messageId":"beside-2"}
    ]}`;
    const answer = await post('/v1/batch', text);
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toMatchObject({
      accepted: 2,
      rejected: [
        {
          index: 1,
          messageId: 'bad-1',
          code: 'REFINERY_ERR_INVALID_UNICODE',
          field: 'batch[1].properties.deep.k\uFFFD',
        },
        {
          index: 2,
          messageId: 'bad-2',
          code: 'REFINERY_ERR_INVALID_UNICODE',
          field: 'batch[2].context.traits.name',
        },
      ],
    });
    await expectStored(['beside-1', 'beside-2', await sendProbe()]);
    const rejects = await ws.rows<{
      message_id: string;
      reason_code: string;
      field: string;
      payload: string;
    }>(
      "SELECT message_id, reason_code, field, payload FROM rejected_events WHERE message_id IN ('bad-1', 'bad-2') ORDER BY 1",
    );
    expect(rejects.map((row) => [row.message_id, row.reason_code, row.field])).toEqual([
      ['bad-1', 'REFINERY_ERR_INVALID_UNICODE', 'batch[1].properties.deep.k\uFFFD'],
      ['bad-2', 'REFINERY_ERR_INVALID_UNICODE', 'batch[2].context.traits.name'],
    ]);
    // The excerpt keeps the message readable, without the lone surrogate (as text or as its escape).
    for (const row of rejects) {
      expect(row.payload).not.toMatch(/\\ud[89a-f]/i);
      expect(isWellFormed(row.payload)).toBe(true);
    }
  });

  it.each([
    ['context', `"context":{"ip":"1.2.3.4","x":"${LONE}"}`, 'context.x'],
    ['sentAt', `"sentAt":"2026-01-01T00:00:00Z${LONE}"`, 'sentAt'],
    ['integrations', `"integrations":{"All":true,"${LONE}":false}`, 'integrations.\uFFFD'],
    ['an unknown field', `"origin":{"name":"${LONE}"}`, 'origin.name'],
  ])(
    'refuses a whole batch whose batch-level %s holds one, and stores the next event',
    async (_label, field, path) => {
      const text = `{"batch":[{"type":"track","event":"Never","userId":"n","messageId":"never-${path}"}],${field}}`;
      const answer = await post('/v1/batch', text);
      expect(answer.statusCode).toBe(400);
      expect(answer.json()).toMatchObject({ code: 'REFINERY_ERR_INVALID_UNICODE', field: path });
      await expectStored([await sendProbe()]);
      expect(await ws.rows(`SELECT message_id FROM events WHERE message_id = 'never-${path}'`)).toEqual([]);
    },
  );

  it('keeps a reject line well-formed when an id or type is cut in the middle of an emoji', async () => {
    const longId = `${'a'.repeat(511)}${EMOJI}`;
    const longType = `${'t'.repeat(31)}${EMOJI}`;
    const answer = await post(
      '/v1/batch',
      JSON.stringify({
        batch: [
          { type: 'track', event: 'Long Id', userId: 'c', messageId: longId },
          { type: longType, event: 'Long Type', userId: 'c', messageId: 'long-type' },
        ],
      }),
    );
    expect(answer.statusCode).toBe(400);
    expect(answer.json().rejected[0].messageId).toBe('a'.repeat(511));
    await expectStored([await sendProbe()]);
    const rejects = await ws.rows<{ message_id: string; type: string }>(
      "SELECT message_id, type FROM rejected_events WHERE message_id = 'long-type' OR message_id LIKE 'aaaa%' ORDER BY 1",
    );
    expect(rejects).toEqual([
      { message_id: 'a'.repeat(511), type: 'track' },
      { message_id: 'long-type', type: 't'.repeat(31) },
    ]);
  });

  it('keeps a reject excerpt well-formed when its size cut falls in the middle of an emoji', async () => {
    const shell = { type: 'track', userId: 'c', event: 'Huge', messageId: 'huge-1', properties: { s: '' } };
    const start = JSON.stringify(shell).indexOf('"s":"') + 5;
    // The excerpt is cut at 65536 UTF-16 units; the emoji's first half is the last unit kept.
    shell.properties.s = `${'x'.repeat(65535 - start)}${EMOJI}${'y'.repeat(100)}`;
    const answer = await post('/v1/batch', JSON.stringify({ batch: [shell] }));
    expect(answer.statusCode).toBe(400);
    expect(answer.json().rejected[0].code).toBe('REFINERY_ERR_EVENT_TOO_LARGE');
    await expectStored([await sendProbe()]);
    const [reject] = await ws.rows<{ payload: string }>(
      "SELECT payload FROM rejected_events WHERE message_id = 'huge-1'",
    );
    expect(reject!.payload.endsWith(`${'x'.repeat(10)}…(truncated)`)).toBe(true);
  });

  it('keeps a flag line well-formed when a violation excerpt is cut in the middle of an emoji', async () => {
    // The excerpt is the value's JSON cut to 80 units: the quote, 78 letters and the emoji's first half.
    const code = `${'x'.repeat(78)}${EMOJI}`;
    const answer = await post(
      '/v1/track',
      JSON.stringify({ userId: 'c', event: 'Coded', messageId: 'coded-1', properties: { code } }),
    );
    expect(answer.statusCode).toBe(200);
    expect(answer.json().flagged).toBe(1);
    await expectStored(['coded-1', await sendProbe()]);
    // The flag itself was loaded: its violation counts in the top list.
    const top = await ws.server.app.inject({
      method: 'GET',
      url: '/v1/contracts/violations/top',
      headers: { authorization: `Bearer ${ws.adminKey}` },
    });
    expect(top.json().items).toContainEqual(
      expect.objectContaining({ event: 'Coded', path: 'properties.code', rule: 'pattern' }),
    );
  });

  it('refuses one in a consent decision at the door, and stores the next event', async () => {
    const answer = await ws.server.app.inject({
      method: 'POST',
      url: '/v1/consent',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ws.adminKey}` },
      payload: `{"userId":"x${LONE}","purposes":{"advertising":false}}`,
    });
    expect(answer.statusCode).toBe(400);
    expect(answer.json()).toMatchObject({ code: 'REFINERY_ERR_INVALID_UNICODE', field: 'userId' });
    await expectStored([await sendProbe()]);
  });

  it('refuses one in a corrected quarantine payload sent to the replay API at the door', async () => {
    const answer = await ws.server.app.inject({
      method: 'POST',
      url: '/v1/quarantine/replay',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ws.adminKey}` },
      payload: `{"fixes":[{"id":"held-x","payload":{"userId":"u","event":"e${LONE}"}}]}`,
    });
    expect(answer.statusCode).toBe(400);
    expect(answer.json()).toMatchObject({
      code: 'REFINERY_ERR_INVALID_UNICODE',
      field: 'fixes[0].payload.event',
    });
  });

  it('restarts on the log all of this left behind', async () => {
    await ws.server.close();
    const again = await startServer({
      dir: ws.dir,
      storeUrl: ws.server.store.engine === 'clickhouse' ? ws.server.config.store.url : undefined,
      port: 0,
      host: '127.0.0.1',
      onLoaderError: () => undefined,
    });
    try {
      const rows = await again.store.readOnlyQuery("SELECT count(*) AS n FROM events WHERE event = 'Probe'", {
        timeoutMs: 30_000,
        maxRows: 10,
      });
      expect(Number(rows.rows[0]!.n)).toBe(probes);
    } finally {
      await again.close();
    }
  });
});

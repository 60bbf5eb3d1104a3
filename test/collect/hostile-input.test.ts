import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { textUnder } from '../helpers/stored-text.js';
import { basicAuth, startTestWorkspace, type TestWorkspace } from '../helpers/test-workspace.js';

// Malformed and hostile bodies over a real socket, interleaved with valid traffic: every bad body gets a
// 4xx JSON error, the server stays up, and every valid event sent alongside is stored.
let ws: TestWorkspace;

beforeAll(async () => {
  ws = await startTestWorkspace();
});
afterAll(async () => {
  await ws.close();
});

async function send(path: string, body: string | Buffer, headers: Record<string, string> = {}) {
  const response = await fetch(`${ws.server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: basicAuth(ws.writeKey), ...headers },
    body: body as BodyInit,
  });
  const text = await response.text();
  return { status: response.status, json: JSON.parse(text) as Record<string, unknown> };
}

const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

const hostileBodies: [string, string, string | Buffer, Record<string, string>?][] = [
  ['truncated JSON', '/v1/track', '{"userId":"u","event":"x","properties":{"a":'],
  ['a JSON array instead of an object', '/v1/track', '[1,2,3]'],
  ['a bare number', '/v1/batch', '42'],
  ['an empty body', '/v1/track', ''],
  ['wrong types', '/v1/track', JSON.stringify({ userId: { id: 1 }, event: ['x'] })],
  ['a batch that is not an array', '/v1/batch', JSON.stringify({ batch: { type: 'track' } })],
  [
    'a huge string',
    '/v1/track',
    JSON.stringify({ userId: 'u', event: 'x', properties: { s: 'z'.repeat(200_000) } }),
  ],
  ['a body over the batch limit', '/v1/batch', JSON.stringify({ batch: [{ s: 'q'.repeat(2_000_000) }] })],
  ['deep nesting', '/v1/track', `{"userId":"u","event":"deep","properties":${nested(5000)}}`],
  ['a __proto__ key', '/v1/track', '{"userId":"u","event":"p","properties":{"__proto__":{"isAdmin":true}}}'],
  ['a top-level __proto__ key', '/v1/track', '{"userId":"u","event":"p","__proto__":{"polluted":1}}'],
  [
    'a constructor.prototype key',
    '/v1/identify',
    '{"userId":"u","traits":{"constructor":{"prototype":{"x":1}}}}',
  ],
  [
    'invalid UTF-8',
    '/v1/track',
    Buffer.concat([
      Buffer.from('{"userId":"u","event":"'),
      Buffer.from([0xc3, 0x28, 0xff]),
      Buffer.from('"}'),
    ]),
  ],
  [
    'an unsupported content encoding',
    '/v1/track',
    '{"userId":"u","event":"x"}',
    { 'content-encoding': 'br' },
  ],
  ['a gzip bomb', '/v1/batch', gzipSync(Buffer.alloc(50_000_000, 32)), { 'content-encoding': 'gzip' }],
  ['a corrupt gzip body', '/v1/batch', Buffer.from('not gzip at all'), { 'content-encoding': 'gzip' }],
];

describe('hostile and malformed input', () => {
  it('answers every hostile body with a 4xx JSON error while valid traffic alongside is all stored', async () => {
    const valid: string[] = [];
    const sendValid = async (round: number) => {
      const batch = Array.from({ length: 10 }, (_, i) => ({
        type: 'track',
        event: 'Valid Alongside',
        userId: `v${round}`,
        messageId: `valid-${round}-${i}`,
      }));
      const response = await send('/v1/batch', JSON.stringify({ batch }));
      expect(response.status).toBe(200);
      valid.push(...batch.map((m) => m.messageId));
    };
    let round = 0;
    for (const [label, path, body, headers] of hostileBodies) {
      const [hostile] = await Promise.all([send(path, body, headers), sendValid(round++)]);
      expect(hostile.status, label).toBeGreaterThanOrEqual(400);
      expect(hostile.status, label).toBeLessThan(500);
      expect(typeof hostile.json.code, label).toBe('string');
      expect(typeof hostile.json.message, label).toBe('string');
    }
    const health = await fetch(`${ws.server.url}/healthz`);
    expect(health.status).toBe(200);
    await ws.drain();
    const rows = await ws.rows<{ n: number }>(
      "SELECT count(DISTINCT message_id) AS n FROM events WHERE event = 'Valid Alongside'",
    );
    expect(rows[0]!.n).toBe(valid.length);
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('names the problem for each kind of hostile body', async () => {
    const codeOf = async (path: string, body: string | Buffer, headers?: Record<string, string>) =>
      (await send(path, body, headers)).json.code;
    expect(await codeOf('/v1/track', '{"userId":')).toBe('REFINERY_ERR_MALFORMED_JSON');
    expect(await codeOf('/v1/track', hostileBodies[12]![2])).toBe('REFINERY_ERR_INVALID_UTF8');
    expect(await codeOf('/v1/track', hostileBodies[9]![2])).toBe('REFINERY_ERR_HOSTILE_KEY');
    expect(await codeOf('/v1/identify', hostileBodies[11]![2])).toBe('REFINERY_ERR_HOSTILE_KEY');
    expect(await codeOf('/v1/track', hostileBodies[8]![2])).toBe('REFINERY_ERR_TOO_DEEP');
    expect(await codeOf('/v1/batch', hostileBodies[14]![2], { 'content-encoding': 'gzip' })).toBe(
      'REFINERY_ERR_BATCH_TOO_LARGE',
    );
    expect(await codeOf('/v1/track', '{}', { 'content-encoding': 'br' })).toBe(
      'REFINERY_ERR_UNSUPPORTED_MEDIA_TYPE',
    );
  });

  it('keeps a hostile event in a batch as a reject and stores its valid neighbours', async () => {
    const body = `{"batch":[
      {"type":"track","event":"Neighbour","userId":"n","messageId":"nb-1"},
      {"type":"track","event":"Evil","userId":"n","messageId":"nb-2","properties":{"__proto__":{"x":1}}},
      {"type":"track","event":"Neighbour","userId":"n","messageId":"nb-3","properties":${nested(100)}}
    ]}`;
    const response = await send('/v1/batch', body);
    expect(response.status).toBe(200);
    expect(response.json.accepted).toBe(1);
    await ws.drain();
    expect(await ws.rows("SELECT message_id FROM events WHERE event = 'Neighbour'")).toEqual([
      { message_id: 'nb-1' },
    ]);
    const rejects = await ws.rows<{ message_id: string; reason_code: string }>(
      "SELECT message_id, reason_code FROM rejected_events WHERE message_id IN ('nb-2', 'nb-3') ORDER BY 1",
    );
    expect(rejects).toEqual([
      { message_id: 'nb-2', reason_code: 'REFINERY_ERR_HOSTILE_KEY' },
      { message_id: 'nb-3', reason_code: 'REFINERY_ERR_TOO_DEEP' },
    ]);
  });

  it('stores SQL in event names and property keys as plain data', async () => {
    const evil = "Robert'); DROP TABLE event_log; --";
    const key = "k') OR 1=1; DELETE FROM events; --";
    const response = await send(
      '/v1/track',
      JSON.stringify({ userId: 'sql', event: evil, messageId: 'sql-1', properties: { [key]: "'; --" } }),
    );
    expect(response.status).toBe(200);
    await ws.drain();
    const rows = await ws.rows<{ event: string; properties: string }>(
      "SELECT event, properties FROM events WHERE message_id = 'sql-1'",
    );
    expect(rows[0]!.event).toBe(evil);
    expect(JSON.parse(rows[0]!.properties)).toEqual({ [key]: "'; --" });
    const count = await ws.rows<{ n: number }>('SELECT count(*) AS n FROM events');
    expect(count[0]!.n).toBeGreaterThan(1);
  });

  it('refuses a number no 64-bit float holds instead of storing what JSON can only write as null', async () => {
    const response = await send(
      '/v1/track',
      '{"userId":"n","event":"Huge Number","messageId":"huge-number","properties":{"total":1e400}}',
    );
    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({
      code: 'REFINERY_ERR_INVALID_FIELD',
      field: 'body.properties.total',
    });
  });

  it('refuses personal fields sent with only a blank id, which no person key could seal', async () => {
    const email = 'blank.subject@example.org';
    const response = await send('/v1/identify', JSON.stringify({ userId: ' ', traits: { email } }));
    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({ code: 'REFINERY_ERR_MISSING_FIELD', field: 'body.userId' });
    const wal = textUnder(ws.server.paths.wal);
    expect(wal).not.toContain(email);
    await ws.drain();
    expect(JSON.stringify(await ws.rows('SELECT * FROM events'))).not.toContain(email);
  });
});

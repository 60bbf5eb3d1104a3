import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, startTestWorkspace, type TestWorkspace } from '../helpers/test-workspace.js';

let ws: TestWorkspace;

beforeAll(async () => {
  ws = await startTestWorkspace({
    yamlExtra:
      'sources:\n  - name: web\n    type: browser\nlimits:\n  maxEventBytes: 2048\n  maxBatchBytes: 20000\ncollect:\n  ip: truncate',
  });
});
afterAll(async () => {
  await ws.close();
});

function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  return ws.server.app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json', authorization: basicAuth(ws.writeKey), ...headers },
    payload: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
  });
}

describe('Segment-compatible collection', () => {
  it('stores a track call with its properties, context and source', async () => {
    const response = await post('/v1/track', {
      userId: 'u1',
      event: 'Order Completed',
      messageId: 'track-1',
      properties: { total: 12.5, items: [{ sku: 'b1' }] },
      context: { library: { name: 'test' } },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ success: true, accepted: 1 });
    await ws.drain();
    const rows = await ws.rows<Record<string, string>>(
      "SELECT type, event, user_id, source, properties, context FROM events WHERE message_id = 'track-1'",
    );
    expect(rows.map(({ properties, context, ...row }) => row)).toEqual([
      { type: 'track', event: 'Order Completed', user_id: 'u1', source: 'web' },
    ]);
    expect(JSON.parse(rows[0]!.properties!)).toEqual({ total: 12.5, items: [{ sku: 'b1' }] });
    expect(JSON.parse(rows[0]!.context!).library.name).toBe('test');
  });

  it('accepts every call type on its own endpoint and in a batch', async () => {
    const calls = [
      ['identify', { userId: 'u2', traits: { email: 'a@example.com' }, messageId: 'all-identify' }],
      ['page', { anonymousId: 'a2', name: 'Home', messageId: 'all-page' }],
      ['screen', { userId: 'u2', name: 'Cart', messageId: 'all-screen' }],
      ['group', { userId: 'u2', groupId: 'g1', messageId: 'all-group' }],
      ['alias', { userId: 'u2', previousId: 'a2', messageId: 'all-alias' }],
    ] as const;
    for (const [type, body] of calls) expect((await post(`/v1/${type}`, body)).statusCode).toBe(200);
    const batch = calls.map(([type, body]) => ({ ...body, type, messageId: `batch-${body.messageId}` }));
    expect((await post('/v1/batch', { batch })).json()).toMatchObject({ accepted: 5, rejected: [] });
    await ws.drain();
    const rows = await ws.rows<{ type: string; n: number }>(
      "SELECT type, count(*) AS n FROM events WHERE message_id LIKE '%all-%' GROUP BY type ORDER BY type",
    );
    expect(rows).toEqual(['alias', 'group', 'identify', 'page', 'screen'].map((type) => ({ type, n: 2 })));
  });

  it('stores a retried batch only once', async () => {
    const batch = [1, 2, 3].map((i) => ({
      type: 'track',
      event: 'Retry',
      userId: 'u3',
      messageId: `retry-${i}`,
    }));
    await post('/v1/batch', { batch });
    await ws.drain();
    await post('/v1/batch', { batch });
    await post('/v1/batch', { batch: [...batch, batch[0]] });
    await ws.drain();
    const rows = await ws.rows<{ n: number }>("SELECT count(*) AS n FROM events WHERE event = 'Retry'");
    expect(rows[0]!.n).toBe(3);
  });

  it('corrects the timestamp for a client clock that is an hour fast', async () => {
    const clientNow = Date.now() + 3_600_000;
    await post('/v1/track', {
      userId: 'u4',
      event: 'Skewed',
      messageId: 'skew-1',
      timestamp: new Date(clientNow - 60_000).toISOString(),
      sentAt: new Date(clientNow).toISOString(),
    });
    await ws.drain();
    const [row] = await ws.rows<{ timestamp: string; received_at: string; original_timestamp: string }>(
      "SELECT timestamp, received_at, original_timestamp FROM events WHERE message_id = 'skew-1'",
    );
    const delay = Date.parse(row!.received_at) - Date.parse(row!.timestamp);
    expect(delay).toBeGreaterThanOrEqual(59_000);
    expect(delay).toBeLessThanOrEqual(61_000);
    expect(Date.parse(row!.original_timestamp)).toBeGreaterThan(Date.now());
  });

  it('keeps the good events of a batch and reports and keeps the bad ones', async () => {
    const response = await post('/v1/batch', {
      batch: [
        { type: 'track', event: 'Good', userId: 'u5', messageId: 'mixed-1' },
        { type: 'track', userId: 'u5', messageId: 'mixed-2' },
        { type: 'track', event: 'Bad', userId: 42.5, anonymousId: ['x'], messageId: 'mixed-3' },
        { type: 'track', event: 'Good', userId: 'u5', messageId: 'mixed-4', properties: 'not an object' },
        { type: 'track', event: 'Good', userId: 'u5', messageId: 'mixed-5' },
      ],
    });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.accepted).toBe(2);
    expect(body.rejected).toEqual([
      expect.objectContaining({
        index: 1,
        messageId: 'mixed-2',
        code: 'REFINERY_ERR_MISSING_FIELD',
        field: 'batch[1].event',
      }),
      expect.objectContaining({
        index: 2,
        code: 'REFINERY_ERR_INVALID_FIELD',
        field: 'batch[2].anonymousId',
      }),
      expect.objectContaining({ index: 3, code: 'REFINERY_ERR_INVALID_FIELD', field: 'batch[3].properties' }),
    ]);
    await ws.drain();
    expect(await ws.rows("SELECT message_id FROM events WHERE message_id LIKE 'mixed-%' ORDER BY 1")).toEqual(
      [{ message_id: 'mixed-1' }, { message_id: 'mixed-5' }],
    );
    const rejects = await ws.rows<{ message_id: string; reason_code: string; payload: string }>(
      "SELECT message_id, reason_code, payload FROM rejected_events WHERE message_id LIKE 'mixed-%' ORDER BY 1",
    );
    expect(rejects.map((r) => r.message_id)).toEqual(['mixed-2', 'mixed-3', 'mixed-4']);
    expect(JSON.parse(rejects[2]!.payload)).toMatchObject({ properties: 'not an object' });
  });

  it('answers malformed JSON with 400 and a stable code', async () => {
    const response = await post('/v1/track', '{"userId": "u1", "event": ');
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'REFINERY_ERR_MALFORMED_JSON' });
  });

  it('answers a missing or unknown write key with 401', async () => {
    const missing = await ws.server.app.inject({
      method: 'POST',
      url: '/v1/track',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ userId: 'u', event: 'e' }),
    });
    expect(missing.statusCode).toBe(401);
    expect(missing.json().code).toBe('REFINERY_ERR_MISSING_WRITE_KEY');
    const unknown = await post(
      '/v1/track',
      { userId: 'u', event: 'e' },
      { authorization: basicAuth('rk_write_nope') },
    );
    expect(unknown.statusCode).toBe(401);
    expect(unknown.json().code).toBe('REFINERY_ERR_UNKNOWN_WRITE_KEY');
    const adminAsWrite = await post(
      '/v1/track',
      { userId: 'u', event: 'e' },
      { authorization: basicAuth(ws.adminKey) },
    );
    expect(adminAsWrite.statusCode).toBe(401);
  });

  it('answers wrong types with 400 naming the field', async () => {
    const response = await post('/v1/track', { userId: 'u1', event: 7 });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'REFINERY_ERR_INVALID_FIELD', field: 'body.event' });
    const time = await post('/v1/identify', { userId: 'u1', timestamp: 'yesterday' });
    expect(time.json()).toMatchObject({ code: 'REFINERY_ERR_INVALID_FIELD', field: 'body.timestamp' });
  });

  it('answers an oversized event and an oversized batch with 413 naming the limit', async () => {
    const big = await post('/v1/track', {
      userId: 'u',
      event: 'Big',
      properties: { blob: 'x'.repeat(3000) },
    });
    expect(big.statusCode).toBe(413);
    expect(big.json()).toMatchObject({ code: 'REFINERY_ERR_EVENT_TOO_LARGE', limit: 2048 });
    const batch = Array.from({ length: 40 }, (_, i) => ({
      type: 'track',
      event: 'Filler',
      userId: 'u',
      messageId: `fill-${i}`,
      properties: { pad: 'y'.repeat(500) },
    }));
    const tooBig = await post('/v1/batch', { batch });
    expect(tooBig.statusCode).toBe(413);
    expect(tooBig.json()).toMatchObject({ code: 'REFINERY_ERR_BATCH_TOO_LARGE', limit: 20000 });
    const oneBigInBatch = await post('/v1/batch', {
      batch: [
        { type: 'track', event: 'Small', userId: 'u', messageId: 'size-ok' },
        {
          type: 'track',
          event: 'Big',
          userId: 'u',
          messageId: 'size-big',
          properties: { blob: 'x'.repeat(3000) },
        },
      ],
    });
    expect(oneBigInBatch.statusCode).toBe(200);
    expect(oneBigInBatch.json().rejected).toEqual([
      expect.objectContaining({ messageId: 'size-big', code: 'REFINERY_ERR_EVENT_TOO_LARGE' }),
    ]);
  });

  it('accepts analytics.js bodies sent as text/plain with the write key inside', async () => {
    const response = await ws.server.app.inject({
      method: 'POST',
      url: '/v1/t',
      headers: { 'content-type': 'text/plain' },
      payload: JSON.stringify({
        writeKey: ws.writeKey,
        anonymousId: 'a9',
        event: 'Plain',
        messageId: 'plain-1',
      }),
    });
    expect(response.statusCode).toBe(200);
    await ws.drain();
    const rows = await ws.rows("SELECT event, extra FROM events WHERE message_id = 'plain-1'");
    expect(rows).toEqual([{ event: 'Plain', extra: null }]);
  });

  it('accepts gzip-compressed batches', async () => {
    const payload = gzipSync(
      JSON.stringify({ batch: [{ type: 'track', event: 'Zipped', userId: 'u', messageId: 'gz-1' }] }),
    );
    const response = await post('/v1/batch', payload, { 'content-encoding': 'gzip' });
    expect(response.statusCode).toBe(200);
    await ws.drain();
    expect(await ws.rows("SELECT event FROM events WHERE message_id = 'gz-1'")).toEqual([
      { event: 'Zipped' },
    ]);
  });

  it('records received_at, a truncated client IP and the parsed user agent', async () => {
    const ua =
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1';
    const before = Date.now();
    await post('/v1/page', {
      anonymousId: 'a1',
      name: 'Home',
      messageId: 'enrich-1',
      context: { ip: '203.0.113.77', userAgent: ua },
    });
    await ws.drain();
    const [row] = await ws.rows<Record<string, string>>(
      "SELECT ip, context, browser, os, device_type, received_at FROM events WHERE message_id = 'enrich-1'",
    );
    expect(JSON.parse(row!.context!).ip).toBe('203.0.113.0');
    expect(row).toMatchObject({
      ip: '203.0.113.0',
      browser: 'Safari',
      os: 'iOS',
      device_type: 'mobile',
    });
    expect(Date.parse(row!.received_at!)).toBeGreaterThanOrEqual(before - 1000);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, startTestWorkspace, type TestWorkspace } from '../helpers/test-workspace.js';

// DuckDB's JSON reader drops a U+FEFF at the start of a string it extracts, so "\ufeffbob" would be checked as one
// user and stored as "bob" (another person, perhaps an erased one). Ids and names opening with one are refused.
let ws: TestWorkspace;

beforeAll(async () => {
  ws = await startTestWorkspace({ yamlExtra: 'collect:\n  loaderIntervalMs: 3600000' });
  await ws.server.privacy.suppression.suppress([{ type: 'user_id', value: 'bob' }]);
});

afterAll(async () => {
  await ws?.close();
});

function post(url: string, body: unknown) {
  return ws.server.app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json', authorization: basicAuth(ws.writeKey) },
    payload: JSON.stringify(body),
  });
}

describe('a byte-order mark opening an id or a name', () => {
  it('is refused naming the field, so an erased person cannot come back under it', async () => {
    const answer = await post('/v1/track', {
      userId: '\ufeffbob',
      event: 'Order Completed',
      messageId: 'bom-1',
    });
    expect(answer.statusCode).toBe(400);
    expect(answer.json()).toMatchObject({ code: 'REFINERY_ERR_INVALID_FIELD', field: 'body.userId' });
    await ws.drain();
    expect(await ws.rows("SELECT message_id FROM events WHERE user_id = 'bob'")).toEqual([]);
  });

  it('refuses only its message in a batch, and the others are stored as sent', async () => {
    const answer = await post('/v1/batch', {
      batch: [
        { type: 'track', userId: 'ann', event: '\ufeffOrder Completed', messageId: 'bom-2' },
        { type: 'track', userId: 'ann', anonymousId: '\ufeffd-1', event: 'Viewed', messageId: 'bom-3' },
        { type: 'track', userId: 'ann', event: 'Viewed\ufeff', messageId: 'bom-4' },
      ],
    });
    expect(answer.statusCode).toBe(200);
    expect(answer.json().rejected.map((r: { field: string }) => r.field)).toEqual([
      'batch[0].event',
      'batch[1].anonymousId',
    ]);
    await ws.drain();
    // A mark inside or at the end of a string is kept as it is, by every reader.
    expect(await ws.rows("SELECT message_id, event FROM events WHERE user_id = 'ann'")).toEqual([
      { message_id: 'bom-4', event: 'Viewed\ufeff' },
    ]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/access/api-keys.js';
import type { ApiKeyKind } from '../../src/store/store.js';
import { basicAuth, startTestWorkspace, type TestWorkspace } from '../helpers/test-workspace.js';

// Finding 6 of issue 11: an analyst could test whether an email belongs to a customer through
// GET /v1/profiles/email:… (200 for a customer, 404 for anyone else), although searching by email was refused.
let ws: TestWorkspace;
const keys = new Map<ApiKeyKind, string>();

beforeAll(async () => {
  ws = await startTestWorkspace();
  for (const kind of ['admin', 'analyst', 'privacy', 'read'] as const) {
    keys.set(kind, (await createApiKey(ws.server.store, { kind, name: `lookup ${kind}` })).key);
  }
  const sent = await ws.server.app.inject({
    method: 'POST',
    url: '/v1/batch',
    headers: { authorization: basicAuth(ws.writeKey), 'content-type': 'application/json' },
    payload: JSON.stringify({
      batch: [
        {
          type: 'identify',
          userId: 'ada',
          anonymousId: 'laptop-1',
          traits: { email: 'ada@example.com', phone: '+44 20 7946 0000', plan: 'basic' },
        },
      ],
    }),
  });
  expect(sent.statusCode).toBe(200);
  await ws.drain();
}, 60_000);

afterAll(async () => {
  await ws?.close();
});

function lookUp(reference: string, kind: ApiKeyKind) {
  return ws.server.app.inject({
    method: 'GET',
    url: `/v1/profiles/${encodeURIComponent(reference)}`,
    headers: { authorization: `Bearer ${keys.get(kind)}` },
  });
}

const CUSTOMER_EMAIL = 'ada@example.com';
const STRANGER_EMAIL = 'nobody-here@example.com';

describe('looking a person up by a personal identifier', () => {
  it('refuses an analyst a lookup by email with the same answer whether or not the person exists', async () => {
    const customer = await lookUp(`email:${CUSTOMER_EMAIL}`, 'analyst');
    const stranger = await lookUp(`email:${STRANGER_EMAIL}`, 'analyst');
    expect(customer.statusCode).toBe(403);
    expect(stranger.statusCode).toBe(403);
    expect(customer.json()).toMatchObject({
      code: 'REFINERY_ERR_FORBIDDEN',
      field: 'id',
      permission: 'read:personal',
    });
    // Nothing in the answer differs between a customer and a stranger, and neither repeats the address.
    expect(customer.json()).toEqual(stranger.json());
    expect(customer.body).not.toContain('ada@');
  });

  it('refuses an analyst a lookup by phone, by an email hash and by an invalid email alike', async () => {
    for (const reference of ['phone:+44 20 7946 0000', `email:${'a'.repeat(64)}`, 'email:not an email']) {
      const answer = await lookUp(reference, 'analyst');
      expect(answer.statusCode, reference).toBe(403);
      expect(answer.json()).toMatchObject({ code: 'REFINERY_ERR_FORBIDDEN', permission: 'read:personal' });
    }
  });

  it('answers the same refusal shape as a search by email', async () => {
    const search = await ws.server.app.inject({
      method: 'GET',
      url: `/v1/profiles?trait=email&value=${encodeURIComponent(CUSTOMER_EMAIL)}`,
      headers: { authorization: `Bearer ${keys.get('analyst')}` },
    });
    const lookup = await lookUp(`email:${CUSTOMER_EMAIL}`, 'analyst');
    expect(search.statusCode).toBe(403);
    const shape = (body: Record<string, unknown>) => Object.keys(body).sort();
    expect(shape(search.json())).toEqual(shape(lookup.json()));
    expect(search.json()).toMatchObject({ code: 'REFINERY_ERR_FORBIDDEN', permission: 'read:personal' });
  });

  it('refuses a read key any lookup, whether or not the person exists', async () => {
    const customer = await lookUp(`email:${CUSTOMER_EMAIL}`, 'read');
    const stranger = await lookUp(`email:${STRANGER_EMAIL}`, 'read');
    expect(customer.statusCode).toBe(403);
    expect(customer.json()).toEqual(stranger.json());
  });

  it('still lets an analyst look up by a person id, user id or anonymous id (pseudonymous), masked', async () => {
    const byUser = await lookUp('user_id:ada', 'analyst');
    expect(byUser.statusCode).toBe(200);
    expect(byUser.json().traits.email).toBe('[hidden]');
    expect((await lookUp('ada', 'analyst')).statusCode).toBe(200);
    expect((await lookUp('anonymous_id:laptop-1', 'analyst')).statusCode).toBe(200);
    expect((await lookUp(byUser.json().personId, 'analyst')).statusCode).toBe(200);
    expect((await lookUp('user_id:nobody', 'analyst')).statusCode).toBe(404);
  });

  it('finds the person by email and phone for admin and privacy keys, and 404s a stranger', async () => {
    const personId = (await lookUp('user_id:ada', 'admin')).json().personId;
    for (const kind of ['admin', 'privacy'] as const) {
      const byEmail = await lookUp(`email:${CUSTOMER_EMAIL.toUpperCase()}`, kind);
      expect(byEmail.statusCode, kind).toBe(200);
      expect(byEmail.json().personId).toBe(personId);
      expect(byEmail.json().traits.email).toBe(CUSTOMER_EMAIL);
      expect((await lookUp('phone:+442079460000', kind)).json().personId).toBe(personId);
      const stranger = await lookUp(`email:${STRANGER_EMAIL}`, kind);
      expect(stranger.statusCode).toBe(404);
      expect(stranger.json().code).toBe('REFINERY_ERR_PROFILE_NOT_FOUND');
    }
  });
});

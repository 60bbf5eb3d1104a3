import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/access/api-keys.js';
import { auditFolder } from '../../src/audit/audit-files.js';
import { listAuditEntries } from '../../src/audit/audit-query.js';
import { BUNDLE_PARTS } from '../../src/privacy/requests/access-bundle.js';
import { PrivacyRequests } from '../../src/privacy/requests/privacy-requests.js';
import { hasClickHouse } from '../helpers/clickhouse-server.js';
import { basicAuth, startTestWorkspace, type TestWorkspace } from '../helpers/test-workspace.js';

const engines = hasClickHouse ? (['duckdb', 'clickhouse'] as const) : (['duckdb'] as const);
if (!hasClickHouse) {
  console.warn('privacy requests API: clickhouse-server is not installed, running on DuckDB only');
}

const DAY_MS = 86_400_000;

// Ids with letters outside hex, so a hit in an audit entry or a person id can only be the id itself.
const ada = {
  userId: 'lovelace-ada',
  laptop: 'lovelace-laptop',
  phone: 'lovelace-phone',
  email: 'Ada.Lovelace@Example.org',
  name: 'Ada Lovelace',
  phoneNumber: '+44 20 7946 0958',
};
const bob = { userId: 'bobbington-x', tablet: 'bobbington-tablet', email: 'bob.bobbington@example.net' };

/** Ada: 6 events under 3 ids (an anonymous visit, sign-up, a view, an order, an app session aliased to her). */
const ADA_EVENTS: Record<string, unknown>[] = [
  { type: 'page', anonymousId: ada.laptop, name: 'Home', timestamp: '2026-03-01T09:00:00.000Z' },
  {
    type: 'identify',
    userId: ada.userId,
    anonymousId: ada.laptop,
    traits: { email: ada.email, name: ada.name, phone: ada.phoneNumber, plan: 'basic' },
    context: { consent: { categoryPreferences: { analytics: true, advertising: true } } },
    timestamp: '2026-03-01T09:02:00.000Z',
  },
  {
    type: 'track',
    userId: ada.userId,
    event: 'Product Viewed',
    properties: { product_id: 'sourdough' },
    timestamp: '2026-03-01T09:03:00.000Z',
  },
  {
    type: 'track',
    userId: ada.userId,
    event: 'Order Completed',
    properties: { order_id: 'o-ada-1', revenue: 12.5, products: [{ product_id: 'sourdough', price: 12.5 }] },
    timestamp: '2026-03-01T09:10:00.000Z',
  },
  { type: 'track', anonymousId: ada.phone, event: 'App Opened', timestamp: '2026-03-02T07:00:00.000Z' },
  // What analytics.js sends when the app's anonymous visitor signs in: previousId is its own anonymous id.
  {
    type: 'alias',
    userId: ada.userId,
    anonymousId: ada.phone,
    previousId: ada.phone,
    timestamp: '2026-03-02T07:01:00.000Z',
  },
];

const BOB_EVENTS: Record<string, unknown>[] = [
  {
    type: 'identify',
    userId: bob.userId,
    anonymousId: bob.tablet,
    traits: { email: bob.email, plan: 'premium' },
    timestamp: '2026-03-01T10:00:00.000Z',
  },
  {
    type: 'track',
    userId: bob.userId,
    event: 'Product Viewed',
    properties: { product_id: 'rye' },
    timestamp: '2026-03-01T10:01:00.000Z',
  },
];

/** Parses CSV text with DuckDB's reader (no CSV library in the project), every cell as text. */
async function parseCsv(text: string): Promise<Record<string, string | null>[]> {
  const dir = mkdtempSync(join(tmpdir(), 'refinery-csv-'));
  const file = join(dir, 'part.csv');
  writeFileSync(file, text);
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(
      `SELECT * FROM read_csv('${file}', header = true, all_varchar = true, quote = '"', escape = '"', delim = ',')`,
    );
    return reader.getRowObjectsJson() as Record<string, string | null>[];
  } finally {
    connection.closeSync();
    instance.closeSync();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.each(engines)('privacy requests over the API on %s', (engine) => {
  let workspace: TestWorkspace;
  let analystKey: string;
  let privacyKey: string;
  let adaPersonId: string;

  beforeAll(async () => {
    workspace = await startTestWorkspace({
      engine,
      yamlExtra: 'privacy:\n  requestDeadlineDays: 10',
    });
    analystKey = (await createApiKey(workspace.server.store, { kind: 'analyst' })).key;
    privacyKey = (await createApiKey(workspace.server.store, { kind: 'privacy', name: 'dpo' })).key;
    await send([...ADA_EVENTS, ...BOB_EVENTS]);
    await workspace.drain();
    const profile = await call('GET', `/v1/profiles/user_id:${ada.userId}`);
    expect(profile.statusCode, profile.body).toBe(200);
    adaPersonId = profile.json().personId;
  }, 180_000);
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

  function call(method: 'GET' | 'POST', url: string, body?: unknown, key = privacyKey) {
    return workspace.server.app.inject({
      method,
      url,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });
  }

  async function createRequest(body: Record<string, unknown>) {
    const response = await call('POST', '/v1/privacy/requests', body);
    expect(response.statusCode, response.body).toBe(201);
    return response.json().request as Record<string, unknown> & { id: string };
  }

  describe('access', () => {
    let request: Record<string, unknown> & { id: string };
    let bundle: Record<string, unknown> & {
      events: Record<string, unknown>[];
      consents: Record<string, unknown>[];
      profile: { identities: { type: string; value: string }[]; traits: Record<string, unknown> };
    };

    beforeAll(async () => {
      request = await createRequest({ kind: 'access', email: ada.email.toLowerCase() });
      const response = await call('GET', `/v1/privacy/requests/${request.id}/bundle`);
      expect(response.statusCode, response.body).toBe(200);
      bundle = response.json();
    }, 60_000);

    it('finds the person by email and finishes the request with a count per part', () => {
      expect(request).toMatchObject({
        kind: 'access',
        status: 'done',
        personId: adaPersonId,
        overdue: false,
      });
      expect(request.subject).toBe('email:ad…rg');
      const parts = (request.result as { parts: Record<string, number> }).parts;
      expect(Object.keys(parts).sort()).toEqual([...BUNDLE_PARTS].sort());
      expect(parts.events).toBe(ADA_EVENTS.length);
    });

    it('holds every id, every event and the clear personal traits of the person', () => {
      expect(bundle.personId).toBe(adaPersonId);
      expect(bundle.profile.identities).toEqual(
        expect.arrayContaining([
          { type: 'user_id', value: ada.userId },
          { type: 'anonymous_id', value: ada.laptop },
          { type: 'anonymous_id', value: ada.phone },
        ]),
      );
      expect(bundle.events).toHaveLength(ADA_EVENTS.length);
      expect(bundle.events.map((e) => e.type).sort()).toEqual(ADA_EVENTS.map((e) => e.type).sort());
      // Sealed on the way in, revealed for the bundle.
      expect(bundle.profile.traits).toMatchObject({
        email: ada.email,
        name: ada.name,
        phone: ada.phoneNumber,
      });
      const identify = bundle.events.find((e) => e.type === 'identify');
      expect(identify?.traits).toMatchObject({ email: ada.email, name: ada.name });
    });

    it('includes the consent records the banner sent for her', () => {
      expect(Array.isArray(bundle.consents)).toBe(true);
      expect(bundle.consents.length).toBeGreaterThan(0);
      const text = JSON.stringify(bundle.consents);
      expect(text).toContain('advertising');
      expect(text).not.toContain(bob.userId);
    });

    it('holds nothing of the other person', () => {
      const text = JSON.stringify(bundle);
      for (const value of [bob.userId, bob.tablet, bob.email, 'rye']) expect(text).not.toContain(value);
    });

    it('gives each part as CSV that parses back to the same number of rows', async () => {
      for (const part of BUNDLE_PARTS) {
        const response = await call(
          'GET',
          `/v1/privacy/requests/${request.id}/bundle?format=csv&part=${part}`,
        );
        expect(response.statusCode, `${part}: ${response.body}`).toBe(200);
        expect(response.headers['content-type']).toContain('text/csv');
        const expected = (request.result as { parts: Record<string, number> }).parts[part];
        if (expected === 0) {
          expect(response.body.trim(), part).toBe('');
          continue;
        }
        const rows = await parseCsv(response.body);
        expect(rows, part).toHaveLength(expected!);
      }
      const events = await parseCsv(
        (await call('GET', `/v1/privacy/requests/${request.id}/bundle?format=csv&part=events`)).body,
      );
      expect(events.map((e) => e.messageId).sort()).toEqual(
        bundle.events.map((e) => String(e.messageId)).sort(),
      );
      const identify = events.find((e) => e.type === 'identify');
      expect(JSON.parse(identify!.traits!)).toMatchObject({ email: ada.email });
      const identities = await parseCsv(
        (await call('GET', `/v1/privacy/requests/${request.id}/bundle?format=csv&part=identities`)).body,
      );
      expect(identities).toEqual(expect.arrayContaining([{ type: 'user_id', value: ada.userId }]));
    });

    it('records each download in the audit log under the person id, with no other id', async () => {
      const page = await listAuditEntries(auditFolder(join(workspace.dir, 'data')), {
        action: 'personal_data.export',
      });
      const mine = page.entries.filter((entry) => entry.detail.requestId === request.id);
      expect(mine.length).toBe(1 + BUNDLE_PARTS.length + 2);
      for (const entry of mine) {
        expect(entry.target).toBe(adaPersonId);
        const text = JSON.stringify(entry);
        for (const value of ['lovelace', ada.email.toLowerCase(), ada.name])
          expect(text).not.toContain(value);
      }
    });
  });

  describe('object', () => {
    it('records a denial of the purpose with source api that the consent API shows once loaded', async () => {
      const request = await createRequest({ kind: 'object', userId: ada.userId, purpose: 'advertising' });
      expect(request).toMatchObject({
        kind: 'object',
        status: 'done',
        purpose: 'advertising',
        personId: adaPersonId,
        result: { purpose: 'advertising', granted: false },
      });
      await workspace.drain();
      const consent = await call('GET', `/v1/consent/user_id:${ada.userId}`);
      expect(consent.statusCode, consent.body).toBe(200);
      const advertising = consent.json().state.find((s: { purpose: string }) => s.purpose === 'advertising');
      expect(advertising).toMatchObject({ granted: false, source: 'api' });
    });

    it('refuses an objection to a purpose Refinery does not know, naming the purpose, without logging it', async () => {
      const response = await call('POST', '/v1/privacy/requests', {
        kind: 'object',
        userId: ada.userId,
        purpose: 'telepathy',
      });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code: 'REFINERY_ERR_INVALID_FIELD', field: 'purpose' });
      // Refused before it is logged: no request is left open with a purpose nobody can carry out.
      const open = (await call('GET', '/v1/privacy/requests?status=open')).json().requests;
      expect(open.filter((r: { purpose: string | null }) => r.purpose === 'telepathy')).toEqual([]);
    });
  });

  describe('queue', () => {
    it('leaves a request open with its due date deadline days after receipt, open ones listed first', async () => {
      const queued = await createRequest({ kind: 'access', userId: bob.userId, run: false });
      expect(queued.status).toBe('open');
      expect(queued.completedAt).toBeNull();
      expect(Date.parse(String(queued.dueAt)) - Date.parse(String(queued.receivedAt))).toBe(10 * DAY_MS);
      expect(queued.overdue).toBe(false);

      const list = (await call('GET', '/v1/privacy/requests')).json().requests as {
        id: string;
        status: string;
      }[];
      expect(list.map((r) => r.id)).toContain(queued.id);
      expect(list.some((r) => r.status === 'done')).toBe(true);
      const firstClosed = list.findIndex((r) => r.status !== 'open');
      expect(list.slice(firstClosed).every((r) => r.status !== 'open')).toBe(true);
      const open = (await call('GET', '/v1/privacy/requests?status=open')).json().requests as {
        id: string;
      }[];
      expect(open.map((r) => r.id)).toContain(queued.id);
      expect(open.every((r) => (r as { status?: string }).status === 'open')).toBe(true);
      const bundle = await call('GET', `/v1/privacy/requests/${queued.id}/bundle`);
      expect(bundle.statusCode).toBe(409);
      expect(bundle.json().code).toBe('REFINERY_ERR_PRIVACY_REQUEST_STATE');

      const run = await call('POST', `/v1/privacy/requests/${queued.id}/run`);
      expect(run.statusCode, run.body).toBe(200);
      expect(run.json().request).toMatchObject({ id: queued.id, status: 'done' });
      expect(run.json().request.completedAt).not.toBeNull();
      const fetched = (await call('GET', `/v1/privacy/requests/${queued.id}`)).json().request;
      expect(fetched.status).toBe('done');
    });

    it('refuses an open request with the reason kept in its result, and will not run it afterwards', async () => {
      const queued = await createRequest({ kind: 'erase', userId: bob.userId, run: false });
      const refused = await call('POST', `/v1/privacy/requests/${queued.id}/refuse`, {
        reason: 'Legal hold: unpaid invoice under dispute.',
      });
      expect(refused.statusCode, refused.body).toBe(200);
      expect(refused.json().request).toMatchObject({
        status: 'refused',
        result: { reason: 'Legal hold: unpaid invoice under dispute.' },
      });
      const again = await call('POST', `/v1/privacy/requests/${queued.id}/run`);
      expect(again.statusCode).toBe(409);
      expect(again.json()).toMatchObject({ code: 'REFINERY_ERR_PRIVACY_REQUEST_STATE', field: 'id' });
      const refusedList = (await call('GET', '/v1/privacy/requests?status=refused')).json().requests;
      expect(refusedList.map((r: { id: string }) => r.id)).toEqual([queued.id]);
      // Bob was not erased.
      expect((await call('GET', `/v1/profiles/user_id:${bob.userId}`)).statusCode).toBe(200);
      const noReason = await call('POST', `/v1/privacy/requests/${queued.id}/refuse`, {});
      expect(noReason.statusCode).toBe(400);
      expect(noReason.json().field).toBe('reason');
    });

    it('answers 404 for an unknown request id', async () => {
      for (const [method, url] of [
        ['GET', '/v1/privacy/requests/pr_0000000000000000'],
        ['POST', '/v1/privacy/requests/pr_0000000000000000/run'],
        ['GET', '/v1/privacy/requests/pr_0000000000000000/bundle'],
      ] as const) {
        const response = await call(method, url);
        expect(response.statusCode, url).toBe(404);
        expect(response.json().code).toBe('REFINERY_ERR_PRIVACY_REQUEST_NOT_FOUND');
      }
    });

    it('answers 400 naming the field for a bad kind, a missing person or a bad status filter', async () => {
      const badKind = await call('POST', '/v1/privacy/requests', { kind: 'delete', userId: ada.userId });
      expect(badKind.statusCode).toBe(400);
      expect(badKind.json().field).toBe('kind');
      const nobody = await call('POST', '/v1/privacy/requests', { kind: 'erase' });
      expect(nobody.statusCode).toBe(400);
      expect(nobody.json()).toMatchObject({ code: 'REFINERY_ERR_MISSING_FIELD', field: 'userId' });
      const badEmail = await call('POST', '/v1/privacy/requests', { kind: 'access', email: 'not-an-email' });
      expect(badEmail.statusCode).toBe(400);
      expect(badEmail.json().field).toBe('email');
      const noPurpose = await call('POST', '/v1/privacy/requests', { kind: 'object', userId: ada.userId });
      expect(noPurpose.statusCode).toBe(400);
      expect(noPurpose.json().field).toBe('purpose');
      const badStatus = await call('GET', '/v1/privacy/requests?status=pending');
      expect(badStatus.statusCode).toBe(400);
      expect(badStatus.json().field).toBe('status');
    });

    it('forbids an analyst key every privacy route', async () => {
      const open = await createRequest({ kind: 'access', userId: bob.userId, run: false });
      const routes: [method: 'GET' | 'POST', url: string, body?: unknown][] = [
        ['GET', '/v1/privacy/requests'],
        ['POST', '/v1/privacy/requests', { kind: 'access', userId: ada.userId }],
        ['GET', `/v1/privacy/requests/${open.id}`],
        ['POST', `/v1/privacy/requests/${open.id}/run`],
        ['POST', `/v1/privacy/requests/${open.id}/refuse`, { reason: 'no' }],
        ['GET', `/v1/privacy/requests/${open.id}/bundle`],
      ];
      for (const [method, url, body] of routes) {
        const response = await call(method, url, body, analystKey);
        expect(response.statusCode, url).toBe(403);
        expect(response.json().code).toBe('REFINERY_ERR_FORBIDDEN');
      }
      expect((await call('GET', `/v1/privacy/requests/${open.id}`)).json().request.status).toBe('open');
      await call('POST', `/v1/privacy/requests/${open.id}/refuse`, { reason: 'test clean-up' });
    });

    it('shows a request still open after its due date as overdue', async () => {
      // A request received 11 days ago (a clock pinned in the past) with the workspace's 10-day deadline.
      const receivedAt = new Date(Date.now() - 11 * DAY_MS);
      const past = new PrivacyRequests({
        store: workspace.server.store,
        deadlineDays: workspace.server.config.privacy.requestDeadlineDays,
        consentDefaults: workspace.server.config.consent.default,
        personalFields: workspace.server.config.privacy.personalFields,
        identifiers: workspace.server.privacy.identifiers,
        now: () => receivedAt,
      });
      const { request: late } = await past.create(
        { kind: 'erase', subject: { userId: bob.userId }, run: false },
        'test',
      );
      expect(late.overdue).toBe(false);
      const shown = (await call('GET', `/v1/privacy/requests/${late.id}`)).json().request;
      expect(shown).toMatchObject({
        status: 'open',
        overdue: true,
        dueAt: new Date(receivedAt.getTime() + 10 * DAY_MS).toISOString(),
      });
      const open = (await call('GET', '/v1/privacy/requests?status=open')).json().requests;
      // Soonest due first: the overdue one leads the queue.
      expect(open[0]).toMatchObject({ id: late.id, overdue: true });
      await call('POST', `/v1/privacy/requests/${late.id}/refuse`, { reason: 'test clean-up' });
      const after = (await call('GET', `/v1/privacy/requests/${late.id}`)).json().request;
      expect(after.overdue).toBe(false);
    });
  });
});

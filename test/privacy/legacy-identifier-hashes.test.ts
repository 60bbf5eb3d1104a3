import { createHash } from 'node:crypto';
import { appendFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  IDENTIFIER_HASHES_METADATA_KEY,
  upgradeLegacyIdentifierHashes,
} from '../../src/identity/legacy-hash-upgrade.js';
import { suppressionListPath } from '../../src/privacy/vault/suppression-list.js';
import type { Store } from '../../src/store/store.js';
import { hasClickHouse } from '../helpers/clickhouse-server.js';
import { storedTableText, textUnder } from '../helpers/stored-text.js';
import { basicAuth, startTestWorkspace, type TestWorkspace } from '../helpers/test-workspace.js';

// A workspace written before identifier hashes were keyed holds plain SHA-256 of emails and phones in its identity
// tables, in identity lines of log segments not loaded yet, in privacy requests and in the suppression list.
// Opening it with this version keys every one of them in place, and people are still found by email.
const engines = hasClickHouse ? (['duckdb', 'clickhouse'] as const) : (['duckdb'] as const);
if (!hasClickHouse) {
  console.warn('legacy identifier hashes: clickhouse-server is not installed, running on DuckDB only');
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

const ADA_ID = 'p_00000000000000a1';
const OLD_ADA_ID = 'p_00000000000000a0';
const BOB_ID = 'p_00000000000000b1';
const ADA_EMAIL = sha256('ada@example.com');
const ADA_PHONE = sha256('+442079460000');
const BOB_EMAIL = sha256('bob@example.com');
const SHARED_EMAIL = sha256('shared@example.com');
const TABLET_EMAIL = sha256('ada.tablet@example.com');
const AT = '2026-01-05T10:00:00.000Z';

/** What the older version's suppression list and privacy requests held: SHA-256 of `type:value`. */
const legacyIndex = (type: string, value: string) => sha256(`${type}:${value}`);
const GONE_EMAIL = sha256('gone@example.com');
const LEGACY_SUPPRESSED = [legacyIndex('user_id', 'gone'), legacyIndex('email', GONE_EMAIL)];
const LEGACY_REQUEST_HASH = legacyIndex('email', ADA_EMAIL);

const EVERY_LEGACY_VALUE = [
  ADA_EMAIL,
  ADA_PHONE,
  BOB_EMAIL,
  SHARED_EMAIL,
  TABLET_EMAIL,
  GONE_EMAIL,
  ...LEGACY_SUPPRESSED,
  LEGACY_REQUEST_HASH,
];

/** The graph, a privacy request and a metadata state as the older version stored them. */
async function writeLegacyStore(store: Store): Promise<void> {
  await store.identity.saveChanges({
    version: 1,
    persons: [
      {
        personId: ADA_ID,
        seq: 0,
        firstSeenAt: '2026-01-01T00:00:00.000Z',
        mergedInto: null,
        identifiers: [
          { type: 'user_id', value: 'ada' },
          { type: 'anonymous_id', value: 'laptop-1' },
          { type: 'email', value: ADA_EMAIL },
          { type: 'phone', value: ADA_PHONE },
        ],
      },
      {
        personId: OLD_ADA_ID,
        seq: 1,
        firstSeenAt: '2026-01-02T00:00:00.000Z',
        mergedInto: ADA_ID,
        identifiers: [],
      },
      {
        personId: BOB_ID,
        seq: 2,
        firstSeenAt: '2026-01-03T00:00:00.000Z',
        mergedInto: null,
        identifiers: [
          { type: 'user_id', value: 'bob' },
          { type: 'email', value: BOB_EMAIL },
          { type: 'email', value: SHARED_EMAIL },
        ],
      },
    ],
    merges: [
      { from: OLD_ADA_ID, into: ADA_ID, via: { type: 'email', value: ADA_EMAIL }, at: AT, messageId: 'm-0' },
    ],
    refusals: [
      {
        reason: 'limit',
        identifier: { type: 'email', value: SHARED_EMAIL },
        heldBy: BOB_ID,
        personId: ADA_ID,
        limitType: 'user_id',
        limit: 1,
        wouldHold: 2,
        count: 1,
        firstAt: AT,
        firstMessageId: 'm-1',
        lastAt: AT,
        lastMessageId: 'm-1',
      },
    ],
    cursors: new Map(),
  });
  await store.privacy.insert({
    id: 'pr_00000000legacy01',
    kind: 'access',
    subject: 'email:ad…om',
    subjectHashes: [LEGACY_REQUEST_HASH],
    personId: ADA_ID,
    purpose: null,
    status: 'done',
    receivedAt: AT,
    dueAt: '2026-01-15T10:00:00.000Z',
    completedAt: AT,
    actor: 'legacy',
    result: {},
  });
  // The older version knew no such entry.
  await store.metadata.set(IDENTIFIER_HASHES_METADATA_KEY, 'none');
}

describe.each(engines)('opening a workspace with plain identifier hashes on %s', (engine) => {
  let ws: TestWorkspace;

  const api = (method: 'GET' | 'POST', url: string, body?: unknown) =>
    ws.server.app.inject({
      method,
      url,
      headers: {
        authorization: `Bearer ${ws.adminKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });
  const collect = (url: string, body: unknown) =>
    ws.server.app.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json', authorization: basicAuth(ws.writeKey) },
      payload: JSON.stringify(body),
    });

  beforeAll(async () => {
    ws = await startTestWorkspace({ engine });
    await writeLegacyStore(ws.server.store);
    appendFileSync(
      suppressionListPath(ws.server.paths.data),
      LEGACY_SUPPRESSED.map((hash) => `${JSON.stringify({ hash, suppressedAt: AT })}\n`).join(''),
    );
    const stream = readFileSync(join(ws.server.paths.data, 'collector-id'), 'utf8').trim();
    const loaded = await ws.server.store.events.lastLoadedSequence(stream);
    await ws.server.close();
    // A segment the older version wrote and did not load before it stopped: an identity line with plain digests.
    const numbers = readdirSync(ws.server.paths.wal).map((name) =>
      Number(/^seg-(\d{12})/.exec(name)?.[1] ?? 0),
    );
    const sequence = Math.max(loaded, ...numbers) + 1;
    writeFileSync(
      join(ws.server.paths.wal, `seg-${String(sequence).padStart(12, '0')}.ndjson`),
      `${JSON.stringify({
        k: 'i',
        id: 'legacy-m-2',
        at: '2026-01-06T10:00:00.000Z',
        ids: ['user_id:ada', 'anonymous_id:tablet-7', `email:${TABLET_EMAIL}`],
      })}\n`,
    );
    await ws.restart();
  }, 180_000);

  afterAll(async () => {
    await ws?.close();
  });

  it('finds the person by email, phone and the email digest after the upgrade', async () => {
    for (const reference of ['email:ADA@example.com', 'phone:+44 20 7946 0000', `email:${ADA_EMAIL}`]) {
      const found = await api('GET', `/v1/profiles/${encodeURIComponent(reference)}`);
      expect(found.statusCode, reference).toBe(200);
      expect(found.json().personId).toBe(ADA_ID);
    }
    const bob = await api('GET', `/v1/profiles/${encodeURIComponent('email:bob@example.com')}`);
    expect(bob.json().personId).toBe(BOB_ID);
    // The merged-away id still leads to Ada.
    expect((await api('GET', `/v1/profiles/${OLD_ADA_ID}`)).json().personId).toBe(ADA_ID);
  });

  it('joins identity lines an older version left in the log to the same person, keyed', async () => {
    const tablet = await api('GET', '/v1/profiles/anonymous_id:tablet-7');
    expect(tablet.json().personId).toBe(ADA_ID);
    const byTabletEmail = await api(
      'GET',
      `/v1/profiles/${encodeURIComponent('email:ada.tablet@example.com')}`,
    );
    expect(byTabletEmail.json().personId).toBe(ADA_ID);
    const emails = tablet
      .json()
      .identities.filter((identity: { type: string }) => identity.type === 'email')
      .map((identity: { value: string }) => identity.value);
    expect(emails).toHaveLength(2);
    for (const value of emails) expect(value).toMatch(/^h1:[0-9a-f]{64}$/);
  });

  it('keys the merge and refusal logs, and lists the older request among the person’s requests', async () => {
    const merges = await ws.rows<{ via_value: string }>('SELECT via_value FROM identity_merges');
    expect(merges).toEqual([{ via_value: ws.server.privacy.identifiers.fromDigest(ADA_EMAIL) }]);
    const refusals = await ws.rows<{ identifier_value: string }>(
      'SELECT identifier_value FROM identity_refusals',
    );
    expect(refusals).toEqual([{ identifier_value: ws.server.privacy.identifiers.fromDigest(SHARED_EMAIL) }]);
    const access = await api('POST', '/v1/privacy/requests', { kind: 'access', email: 'ada@example.com' });
    expect(access.json().request).toMatchObject({ status: 'done', personId: ADA_ID });
    const bundle = (await api('GET', `/v1/privacy/requests/${access.json().request.id}/bundle`)).json();
    expect(bundle.requests.map((request: { id: string }) => request.id)).toContain('pr_00000000legacy01');
  });

  it('keys the suppression list and still drops the erased user id and address', async () => {
    const text = readFileSync(suppressionListPath(ws.server.paths.data), 'utf8');
    for (const hash of LEGACY_SUPPRESSED) expect(text).not.toContain(hash);
    expect((await collect('/v1/track', { userId: 'gone', event: 'Back' })).json()).toMatchObject({
      accepted: 0,
    });
    const byEmail = await collect('/v1/identify', {
      userId: 'new-id',
      traits: { email: 'Gone@Example.com' },
    });
    expect(byEmail.json()).toMatchObject({ accepted: 0 });
  });

  it('upgrades once: the workspace is recorded as upgraded and a second pass changes nothing', async () => {
    expect(
      await upgradeLegacyIdentifierHashes(ws.server.store, ws.server.privacy.identifiers),
    ).toBeUndefined();
    await ws.server.store.metadata.set(IDENTIFIER_HASHES_METADATA_KEY, 'none');
    expect(await upgradeLegacyIdentifierHashes(ws.server.store, ws.server.privacy.identifiers)).toEqual({
      identityRows: 0,
      requests: 0,
    });
    expect((await api('GET', '/v1/profiles/email:ada@example.com')).json().personId).toBe(ADA_ID);
  });

  it("leaves no plain digest in any table or file, the database file's own bytes included", async () => {
    const files = textUnder(ws.server.paths.data) + textUnder(ws.server.paths.wal);
    for (const value of EVERY_LEGACY_VALUE) expect(files).not.toContain(value);
    const tables = await storedTableText(ws);
    expect(tables).toContain(ws.server.privacy.identifiers.fromDigest(ADA_EMAIL));
    for (const value of EVERY_LEGACY_VALUE) {
      const at = tables.indexOf(value);
      expect(at, tables.slice(Math.max(0, at - 300), at + 100)).toBe(-1);
    }
  });
});

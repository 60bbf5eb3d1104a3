import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasClickHouse } from '../helpers/clickhouse-server.js';
import { storedTableText, textUnder } from '../helpers/stored-text.js';
import { basicAuth, startTestWorkspace, type TestWorkspace } from '../helpers/test-workspace.js';

// Finding 6 of issue 11: identities carried unsalted SHA-256 of emails and phones, so anyone holding a table, a
// log segment or an API answer could test a guessed address. Every hash the workspace keeps is now keyed.
const engines = hasClickHouse ? (['duckdb', 'clickhouse'] as const) : (['duckdb'] as const);
if (!hasClickHouse) {
  console.warn('keyed identifier hashes: clickhouse-server is not installed, running on DuckDB only');
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

const ADA = { email: 'ada.keyed@example.org', phone: '+44 20 7946 0123', normalisedPhone: '+442079460123' };
const BOB = { email: 'bob.keyed@example.org' };
const CAROL = { email: 'carol.external@example.org' };
const ERASED = { email: 'erin.erased@example.org' };

/** Every plain hash of a collected address someone could recompute from a guess. */
function plainHashesOf(...normalised: string[]): string[] {
  return normalised.flatMap((value) => [
    sha256(value),
    // How the suppression list and privacy requests hashed an identifier before keys.
    sha256(`email:${sha256(value)}`),
    sha256(`phone:${sha256(value)}`),
  ]);
}

// Carol's digest itself is excluded: her client sent it (Segment's externalIds), and the event keeps it as sent.
const PLAIN = [
  ...plainHashesOf(ADA.email, ADA.normalisedPhone, BOB.email, ERASED.email),
  ...plainHashesOf(CAROL.email).filter((hash) => hash !== sha256(CAROL.email)),
];

describe.each(engines)('keyed identifier hashes on %s', (engine) => {
  let ws: TestWorkspace;
  let walBeforeLoad = '';

  const post = (url: string, body: unknown) =>
    ws.server.app.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json', authorization: basicAuth(ws.writeKey) },
      payload: JSON.stringify(body),
    });
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

  beforeAll(async () => {
    // The loader waits, so the write-ahead log can be read as the collector wrote it.
    ws = await startTestWorkspace({ engine, yamlExtra: 'collect:\n  loaderIntervalMs: 3600000' });
    const answers = await Promise.all([
      post('/v1/identify', { userId: 'ada', traits: { email: ADA.email, phone: ADA.phone, plan: 'basic' } }),
      post('/v1/track', {
        anonymousId: 'bob-laptop',
        event: 'Viewed',
        context: { traits: { email: BOB.email } },
      }),
      post('/v1/track', {
        userId: 'carol',
        event: 'Synced',
        // An ad platform's id: the SHA-256 of the address, keyed like a clear one.
        context: {
          externalIds: [{ id: sha256(CAROL.email), type: 'email', collection: 'users', encoding: 'sha256' }],
        },
      }),
      post('/v1/identify', { userId: 'erin', traits: { email: ERASED.email } }),
    ]);
    for (const answer of answers) expect(answer.statusCode).toBe(200);
    walBeforeLoad = textUnder(ws.server.paths.wal);
    await ws.drain();
  }, 120_000);

  afterAll(async () => {
    await ws?.close();
  });

  it('writes keyed hashes, and no plain SHA-256 of an address, to the write-ahead log', () => {
    expect(walBeforeLoad).toMatch(/"email:h1:[0-9a-f]{64}"/);
    for (const hash of PLAIN) expect(walBeforeLoad).not.toContain(hash);
  });

  it('finds people by email, phone and the SHA-256 of an email, and shows only keyed hashes', async () => {
    const ada = await api('GET', `/v1/profiles/${encodeURIComponent(`email:${ADA.email.toUpperCase()}`)}`);
    expect(ada.statusCode).toBe(200);
    expect(
      (await api('GET', `/v1/profiles/${encodeURIComponent(`phone:${ADA.phone}`)}`)).json().personId,
    ).toBe(ada.json().personId);
    const emails = ada.json().identities.filter((identity: { type: string }) => identity.type === 'email');
    expect(emails).toEqual([{ type: 'email', value: expect.stringMatching(/^h1:[0-9a-f]{64}$/) }]);
    // The keyed value as the profile shows it finds the person too.
    expect((await api('GET', `/v1/profiles/email:${emails[0].value}`)).json().personId).toBe(
      ada.json().personId,
    );
    const bob = await api('GET', `/v1/profiles/email:${sha256(BOB.email)}`);
    expect(bob.json().identities).toContainEqual({ type: 'anonymous_id', value: 'bob-laptop' });
    const carol = await api('GET', `/v1/profiles/${encodeURIComponent(`email:${CAROL.email}`)}`);
    expect(carol.json().identities).toContainEqual({ type: 'user_id', value: 'carol' });
  });

  it('searches by email through the keyed hash', async () => {
    const found = await api('GET', `/v1/profiles?trait=email&value=${encodeURIComponent(ADA.email)}`);
    expect(found.statusCode).toBe(200);
    expect(found.json().items.map((item: { identities: unknown[] }) => item.identities)).toEqual([
      expect.arrayContaining([{ type: 'user_id', value: 'ada' }]),
    ]);
  });

  it('erases a person named by email, and drops the address when it comes back', async () => {
    const erased = await api('POST', '/v1/privacy/requests', { kind: 'erase', email: ERASED.email });
    expect(erased.statusCode).toBe(201);
    expect(erased.json().request).toMatchObject({ status: 'done' });
    expect((await api('GET', `/v1/profiles/${encodeURIComponent(`email:${ERASED.email}`)}`)).statusCode).toBe(
      404,
    );
    const again = await post('/v1/identify', { userId: 'erin-new', traits: { email: ERASED.email } });
    expect(again.json()).toMatchObject({ accepted: 0 });
    // An access request by email still finds its person.
    const access = await api('POST', '/v1/privacy/requests', { kind: 'access', email: ADA.email });
    expect(access.json().request).toMatchObject({ status: 'done', personId: expect.stringMatching(/^p_/) });
  });

  it('names a person the graph does not know in the consent audit by a keyed hash, not a plain one', async () => {
    const recorded = await api('POST', '/v1/consent', {
      userId: 'not-seen-yet',
      purposes: { advertising: false },
    });
    expect(recorded.statusCode).toBe(202);
    const entries = (await api('GET', '/v1/audit?action=consent.change')).json().entries as {
      target: string;
    }[];
    expect(entries.map((entry) => entry.target)).toContain(
      ws.server.privacy.identifiers.index({ type: 'user_id', value: 'not-seen-yet' }),
    );
    expect(JSON.stringify(entries)).not.toContain(sha256('user_id:not-seen-yet'));
    expect(JSON.stringify(entries)).not.toContain('not-seen-yet');
  });

  it('keeps no plain SHA-256 of a collected address in any file of the data folder or the log', async () => {
    const files = textUnder(ws.server.paths.data) + textUnder(ws.server.paths.wal);
    expect(files).toMatch(/h1:[0-9a-f]{64}/);
    for (const hash of PLAIN) expect(files).not.toContain(hash);
  });

  it('keeps no plain SHA-256 of a collected address in any table (keyed hashes are there)', async () => {
    const tables = await storedTableText(ws);
    expect(tables).toMatch(/email:h1:[0-9a-f]{64}/);
    for (const hash of PLAIN) {
      const at = tables.indexOf(hash);
      expect(at, tables.slice(Math.max(0, at - 300), at + 100)).toBe(-1);
    }
  });
});

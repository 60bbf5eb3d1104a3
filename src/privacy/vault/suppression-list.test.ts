import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IdentifierHasher } from '../../identity/identifier-hashing.js';
import { SuppressionList, suppressionListPath } from './suppression-list.js';
import { VAULT_ERROR_CODES } from './vault-errors.js';

const NOW = Date.parse('2026-03-10T12:00:00.000Z');
const hasher = IdentifierHasher.fromMasterKey(Buffer.alloc(32, 5));
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
let dataDir: string;
const lists: SuppressionList[] = [];

async function openList(): Promise<SuppressionList> {
  const list = await SuppressionList.open({ dataDir, hasher, now: () => NOW });
  lists.push(list);
  return list;
}

/** Ada, erased: her user id, her browser's anonymous id, her email and her phone. */
async function eraseAda(list: SuppressionList): Promise<number> {
  return list.suppress([
    { type: 'user_id', value: 'user-ada-1815' },
    { type: 'anonymous_id', value: 'anon-ada-browser' },
    { type: 'email', value: hasher.email('ada@example.com')! },
    { type: 'phone', value: hasher.phone('+44 20 7946 0000')! },
  ]);
}

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'refinery-suppression-'));
});

afterEach(async () => {
  for (const list of lists.splice(0)) await list.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('SuppressionList', () => {
  it('suppresses nothing while empty', async () => {
    const list = await openList();
    expect(list.isSuppressed({ userId: 'user-ada-1815', traits: { email: 'ada@example.com' } })).toBe(false);
  });

  it.each([
    ['its user id', { type: 'track', userId: 'user-ada-1815', anonymousId: 'anon-new' }],
    ['its anonymous id', { type: 'track', anonymousId: 'anon-ada-browser' }],
    ['an alias’s previous id', { type: 'alias', userId: 'user-new', previousId: 'anon-ada-browser' }],
    [
      'an identify call’s email, in another case',
      { type: 'identify', userId: 'u9', traits: { email: ' Ada@Example.COM ' } },
    ],
    [
      'the email in context.traits',
      { type: 'page', anonymousId: 'a9', context: { traits: { email: 'ada@example.com' } } },
    ],
    [
      'a phone written another way',
      { type: 'identify', userId: 'u9', traits: { phone: '+44 (20) 7946-0000' } },
    ],
  ])('drops a message carrying an erased person’s %s', async (_, message) => {
    const list = await openList();
    await eraseAda(list);
    expect(list.isSuppressed(message)).toBe(true);
  });

  it('lets other people’s messages through', async () => {
    const list = await openList();
    await eraseAda(list);
    expect(list.isSuppressed({ type: 'track', userId: 'user-bob', anonymousId: 'anon-bob' })).toBe(false);
    expect(
      list.isSuppressed({ type: 'identify', userId: 'user-bob', traits: { email: 'bob@example.com' } }),
    ).toBe(false);
  });

  it('does not read a group call’s traits, which describe the group', async () => {
    const list = await openList();
    await eraseAda(list);
    expect(
      list.isSuppressed({ type: 'group', userId: 'user-bob', traits: { email: 'ada@example.com' } }),
    ).toBe(false);
  });

  it('matches numeric user ids as Segment stores them', async () => {
    const list = await openList();
    await list.suppress([{ type: 'user_id', value: '42' }]);
    expect(list.isSuppressed({ userId: 42 })).toBe(true);
  });

  it('keeps suppressions across a reopen, durable once suppress resolves', async () => {
    const list = await openList();
    expect(await eraseAda(list)).toBe(4);
    const reopened = await openList();
    expect(reopened.size).toBe(4);
    expect(reopened.isSuppressed({ userId: 'user-ada-1815' })).toBe(true);
    expect(reopened.has({ type: 'email', value: hasher.email('ADA@example.com')! })).toBe(true);
  });

  it('adds an identifier only once', async () => {
    const list = await openList();
    await eraseAda(list);
    expect(await eraseAda(list)).toBe(0);
    expect(readFileSync(suppressionListPath(dataDir), 'utf8').trim().split('\n')).toHaveLength(4);
  });

  it('holds no clear id, email or phone in its file', async () => {
    const list = await openList();
    await eraseAda(list);
    const bytes = readFileSync(suppressionListPath(dataDir));
    for (const clear of ['user-ada-1815', 'anon-ada-browser', 'ada@example.com', 'ada', '7946']) {
      expect(bytes.includes(Buffer.from(clear))).toBe(false);
    }
    // Nor a plain hash anyone could recompute from a guessed id or address.
    for (const plain of [
      sha256('user_id:user-ada-1815'),
      sha256('ada@example.com'),
      sha256(`email:${sha256('ada@example.com')}`),
    ]) {
      expect(bytes.includes(Buffer.from(plain))).toBe(false);
    }
    expect(JSON.parse(bytes.toString('utf8').split('\n')[0]!)).toEqual({
      hash: expect.stringMatching(/^h1:[0-9a-f]{64}$/),
      suppressedAt: '2026-03-10T12:00:00.000Z',
    });
  });

  it('keys a list written with plain SHA-256 on open, and still drops the erased ids and addresses', async () => {
    // The list as it was before keyed hashes: sha256 of `type:value`, an email's value its plain digest.
    const legacy = [
      sha256('user_id:user-ada-1815'),
      sha256(`email:${sha256('ada@example.com')}`),
      sha256(`phone:${sha256('+442079460000')}`),
    ];
    mkdirSync(dirname(suppressionListPath(dataDir)), { recursive: true });
    writeFileSync(
      suppressionListPath(dataDir),
      legacy
        .map((hash) => `${JSON.stringify({ hash, suppressedAt: '2026-01-01T00:00:00.000Z' })}\n`)
        .join(''),
    );
    const list = await openList();
    const text = readFileSync(suppressionListPath(dataDir), 'utf8');
    for (const hash of legacy) expect(text).not.toContain(hash);
    expect(
      text
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line)),
    ).toEqual(
      legacy.map(() => ({
        hash: expect.stringMatching(/^h1:[0-9a-f]{64}$/),
        suppressedAt: '2026-01-01T00:00:00.000Z',
        upgraded: true,
      })),
    );
    expect(list.isSuppressed({ type: 'track', userId: 'user-ada-1815' })).toBe(true);
    expect(list.isSuppressed({ type: 'identify', userId: 'u9', traits: { email: 'ADA@example.com' } })).toBe(
      true,
    );
    expect(list.isSuppressed({ type: 'identify', userId: 'u9', traits: { phone: '+44 20 7946 0000' } })).toBe(
      true,
    );
    expect(list.isSuppressed({ type: 'identify', userId: 'u9', traits: { email: 'bob@example.com' } })).toBe(
      false,
    );
    // Opening again changes nothing.
    await openList();
    expect(readFileSync(suppressionListPath(dataDir), 'utf8')).toBe(text);
  });

  it('refuses a file with a damaged line', async () => {
    const list = await openList();
    await eraseAda(list);
    appendFileSync(suppressionListPath(dataDir), '{"hash":"ada@example.com"}\n');
    await expect(openList()).rejects.toMatchObject({
      code: VAULT_ERROR_CODES.vaultCorrupt,
      details: { line: 5 },
    });
  });
});

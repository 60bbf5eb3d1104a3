import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashEmail, hashPhone } from '../../identity/identifier-extraction.js';
import { SuppressionList, suppressionListPath } from './suppression-list.js';
import { VAULT_ERROR_CODES } from './vault-errors.js';

const NOW = Date.parse('2026-03-10T12:00:00.000Z');
let dataDir: string;
const lists: SuppressionList[] = [];

async function openList(): Promise<SuppressionList> {
  const list = await SuppressionList.open({ dataDir, now: () => NOW });
  lists.push(list);
  return list;
}

/** Ada, erased: her user id, her browser's anonymous id, her email and her phone. */
async function eraseAda(list: SuppressionList): Promise<number> {
  return list.suppress([
    { type: 'user_id', value: 'user-ada-1815' },
    { type: 'anonymous_id', value: 'anon-ada-browser' },
    { type: 'email', value: hashEmail('ada@example.com')! },
    { type: 'phone', value: hashPhone('+44 20 7946 0000')! },
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
    expect(reopened.has({ type: 'email', value: hashEmail('ADA@example.com')! })).toBe(true);
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
    expect(JSON.parse(bytes.toString('utf8').split('\n')[0]!)).toEqual({
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      suppressedAt: '2026-03-10T12:00:00.000Z',
    });
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

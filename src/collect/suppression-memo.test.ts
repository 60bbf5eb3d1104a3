import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IdentifierHasher } from '../identity/identifier-hashing.js';
import { SuppressionList } from '../privacy/vault/suppression-list.js';
import { plainSubjectKey, SuppressionMemo } from './suppression-memo.js';

const hasher = IdentifierHasher.fromMasterKey(Buffer.alloc(32, 7));
let dataDir: string;
let list: SuppressionList;

beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'refinery-suppression-memo-'));
  list = await SuppressionList.open({ dataDir, hasher });
});
afterEach(async () => {
  await list.close();
  rmSync(dataDir, { recursive: true, force: true });
});

// Every way a message can name someone, alone and mixed, with ids written as numbers and blanks.
const MESSAGES: Record<string, unknown>[] = [
  { userId: 'gone' },
  { userId: 'kept' },
  { anonymousId: 'anon-gone' },
  { userId: 'kept', anonymousId: 'anon-gone' },
  { userId: 42 },
  { userId: '42' },
  { userId: ' ', anonymousId: 'anon-kept' },
  { type: 'alias', userId: 'kept', previousId: 'gone' },
  { type: 'identify', userId: 'kept', traits: { email: 'Gone@Example.com' } },
  { type: 'group', userId: 'kept', groupId: 'g', traits: { email: 'gone@example.com' } },
  { type: 'track', userId: 'kept', context: { traits: { phone: '+1 555 0100' } } },
  { type: 'track', userId: 'kept', context: { traits: { name: 'x' } } },
];

async function eraseSomeone() {
  await list.suppress([
    { type: 'user_id', value: 'gone' },
    { type: 'user_id', value: '42' },
    { type: 'anonymous_id', value: 'anon-gone' },
    { type: 'email', value: hasher.email('gone@example.com')! },
    { type: 'phone', value: hasher.phone('+1 555 0100')! },
  ]);
}

describe('the collector suppression memo', () => {
  it('answers as the suppression list does for every message, asked twice, before and after an erasure', async () => {
    const memo = new SuppressionMemo(list);
    for (const message of MESSAGES) expect(memo.isSuppressed(message)).toBe(false);
    await list.suppress([{ type: 'user_id', value: 'someone-else' }]);
    for (let round = 0; round < 2; round++) {
      for (const message of MESSAGES) expect(memo.isSuppressed(message)).toBe(list.isSuppressed(message));
    }
    await eraseSomeone();
    for (let round = 0; round < 2; round++) {
      for (const message of MESSAGES) {
        expect(memo.isSuppressed(message), JSON.stringify(message)).toBe(list.isSuppressed(message));
      }
    }
  });

  it('forgets what passed once a person is erased', async () => {
    await list.suppress([{ type: 'user_id', value: 'someone-else' }]);
    const memo = new SuppressionMemo(list);
    expect(memo.isSuppressed({ userId: 'late' })).toBe(false);
    expect(memo.isSuppressed({ userId: 'late' })).toBe(false);
    await list.suppress([{ type: 'user_id', value: 'late' }]);
    expect(memo.isSuppressed({ userId: 'late' })).toBe(true);
  });

  it('keys only messages named by their user and anonymous ids, and never two pairs alike', () => {
    expect(plainSubjectKey({ userId: 'a:b' })).not.toBe(plainSubjectKey({ userId: 'a', anonymousId: 'b' }));
    expect(plainSubjectKey({ anonymousId: 'x' })).not.toBe(plainSubjectKey({ userId: 'x' }));
    expect(plainSubjectKey({ userId: 'u', previousId: 'p' })).toBeUndefined();
    expect(plainSubjectKey({ userId: 'u', traits: { phone: '1' } })).toBeUndefined();
    expect(plainSubjectKey({ type: 'group', userId: 'u', traits: { email: 'g@x.org' } })).toBeDefined();
  });
});

import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decryptField, encryptField } from './field-envelope.js';
import { type Subject, SubjectKeyVault, vaultKeysPath } from './subject-key-vault.js';
import { VAULT_ERROR_CODES } from './vault-errors.js';

const NOW = Date.parse('2026-03-10T12:00:00.000Z');
const ada: Subject = { type: 'user_id', value: 'user-ada-lovelace-1815' };
const visitor: Subject = { type: 'anonymous_id', value: 'anon-6f1c2b7e-visitor' };
const bob: Subject = { type: 'user_id', value: 'user-bob-baker-1970' };

let dataDir: string;
let masterKey: Buffer;
const vaults: SubjectKeyVault[] = [];

async function openVault(key = masterKey): Promise<SubjectKeyVault> {
  const vault = await SubjectKeyVault.open({ dataDir, masterKey: key, now: () => NOW });
  vaults.push(vault);
  return vault;
}

function keyFileLines(): Record<string, unknown>[] {
  return readFileSync(vaultKeysPath(dataDir), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'refinery-vault-'));
  masterKey = randomBytes(32);
});

afterEach(async () => {
  for (const vault of vaults.splice(0)) await vault.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('SubjectKeyVault', () => {
  it('creates a 32-byte key for a new subject and returns the same key afterwards', async () => {
    const vault = await openVault();
    const first = await vault.keyFor(ada);
    expect(first.key).toHaveLength(32);
    expect(first.keyId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(await vault.keyFor(ada)).toBe(first);
    expect(vault.keyById(first.keyId)).toBe(first);
    expect(vault.isKeyOf(first.keyId, ada)).toBe(true);
    expect(vault.isKeyOf(first.keyId, bob)).toBe(false);
  });

  it('gives different subjects different keys, and a user id and an anonymous id of one value too', async () => {
    const vault = await openVault();
    const asUser = await vault.keyFor({ type: 'user_id', value: 'x1' });
    const asVisitor = await vault.keyFor({ type: 'anonymous_id', value: 'x1' });
    const other = await vault.keyFor(bob);
    expect(new Set([asUser.keyId, asVisitor.keyId, other.keyId]).size).toBe(3);
    expect(asUser.key.equals(asVisitor.key)).toBe(false);
  });

  it('yields one key to concurrent calls for the same new subject', async () => {
    const vault = await openVault();
    const keys = await Promise.all(Array.from({ length: 20 }, () => vault.keyFor(ada)));
    expect(new Set(keys.map((key) => key.keyId)).size).toBe(1);
    expect(keyFileLines()).toHaveLength(1);
  });

  it('has a key on disk by the time keyFor resolves: a vault reopened on the folder has it', async () => {
    const vault = await openVault();
    const key = await vault.keyFor(ada);
    const reopened = await openVault();
    expect(reopened.keyById(key.keyId)?.key).toEqual(key.key);
    expect((await reopened.keyFor(ada)).keyId).toBe(key.keyId);
  });

  it('writes each key as { keyId, subject, wrapped, createdAt }, with neither the id nor the key in clear', async () => {
    const vault = await openVault();
    const keys = [await vault.keyFor(ada), await vault.keyFor(visitor)];
    const lines = keyFileLines();
    expect(lines).toEqual(
      keys.map((key) => ({
        keyId: key.keyId,
        subject: expect.stringMatching(/^[0-9a-f]{64}$/),
        wrapped: expect.any(String),
        createdAt: '2026-03-10T12:00:00.000Z',
      })),
    );
    const bytes = readFileSync(vaultKeysPath(dataDir));
    for (const clear of [ada.value, visitor.value, 'lovelace', 'visitor']) {
      expect(bytes.includes(Buffer.from(clear))).toBe(false);
    }
    for (const key of keys) {
      for (const encoding of ['base64', 'base64url', 'hex'] as const) {
        expect(bytes.includes(Buffer.from(key.key.toString(encoding)))).toBe(false);
      }
      expect(bytes.includes(key.key)).toBe(false);
    }
  });

  it.skipIf(process.platform === 'win32')('keeps the key file at mode 0600', async () => {
    const vault = await openVault();
    await vault.keyFor(ada);
    expect(statSync(vaultKeysPath(dataDir)).mode & 0o777).toBe(0o600);
  });

  it('shreds every key of a subject, including keys another process created', async () => {
    const vault = await openVault();
    const other = await openVault();
    const mine = await vault.keyFor(ada);
    const theirs = await other.keyFor(ada);
    const bobs = await vault.keyFor(bob);
    expect(mine.keyId).not.toBe(theirs.keyId);

    expect(await vault.shred([ada, visitor])).toBe(2);
    expect(vault.keyById(mine.keyId)).toBeUndefined();
    expect(vault.keyById(bobs.keyId)).toBe(bobs);
    expect(keyFileLines().map((line) => line.keyId)).toEqual([bobs.keyId]);

    const reopened = await openVault();
    expect(reopened.keyById(mine.keyId)).toBeUndefined();
    expect(reopened.keyById(theirs.keyId)).toBeUndefined();
    expect(reopened.keyById(bobs.keyId)?.key).toEqual(bobs.key);
  });

  it('makes every envelope of a shredded subject unreadable, also to a vault opened afterwards', async () => {
    const vault = await openVault();
    const envelope = encryptField('ada@example.com', await vault.keyFor(ada), 'traits.email');
    expect(decryptField(envelope, vault, 'traits.email')).toEqual({ status: 'ok', value: 'ada@example.com' });

    await vault.shred([ada]);
    expect(decryptField(envelope, vault, 'traits.email').status).toBe('shredded');
    const fresh = await openVault();
    expect(decryptField(envelope, fresh, 'traits.email').status).toBe('shredded');
  });

  it('returns 0 and leaves the file alone when the subjects have no keys', async () => {
    const vault = await openVault();
    await vault.keyFor(bob);
    const before = readFileSync(vaultKeysPath(dataDir));
    expect(await vault.shred([ada])).toBe(0);
    expect(readFileSync(vaultKeysPath(dataDir))).toEqual(before);
  });

  it('creates a fresh key for a subject that returns after shredding', async () => {
    const vault = await openVault();
    const before = await vault.keyFor(ada);
    await vault.shred([ada]);
    const after = await vault.keyFor(ada);
    expect(after.keyId).not.toBe(before.keyId);
    expect((await openVault()).keyById(after.keyId)?.key).toEqual(after.key);
  });

  it('lets no key being created survive a concurrent shred of its subject', async () => {
    const vault = await openVault();
    const creating = vault.keyFor(ada);
    const destroyed = await vault.shred([ada]);
    const key = await creating;
    expect(destroyed).toBe(1);
    expect(vault.keyById(key.keyId)).toBeUndefined();
    expect((await openVault()).keyById(key.keyId)).toBeUndefined();
  });

  it('picks up keys another process created when refreshed', async () => {
    const vault = await openVault();
    const other = await openVault();
    const theirs = await other.keyFor(visitor);
    expect(vault.keyById(theirs.keyId)).toBeUndefined();
    expect(await vault.refresh()).toBe(true);
    expect(vault.keyById(theirs.keyId)?.key).toEqual(theirs.key);
    expect(await vault.refresh()).toBe(false);
  });

  it('refuses to open with another master key', async () => {
    await (await openVault()).keyFor(ada);
    await expect(openVault(randomBytes(32))).rejects.toMatchObject({
      code: VAULT_ERROR_CODES.vaultCorrupt,
      details: { line: 1 },
    });
  });

  it('refuses a key file with a damaged line', async () => {
    const vault = await openVault();
    await vault.keyFor(ada);
    appendFileSync(vaultKeysPath(dataDir), '{"keyId":"short"}\n');
    await expect(openVault()).rejects.toMatchObject({
      code: VAULT_ERROR_CODES.vaultCorrupt,
      details: { line: 2 },
    });
  });

  it('refuses a master key that is not 32 bytes', async () => {
    await expect(openVault(randomBytes(16))).rejects.toMatchObject({
      code: VAULT_ERROR_CODES.masterKeyInvalid,
    });
  });
});

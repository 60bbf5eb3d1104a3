import { createHash, createHmac, hkdfSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  digestEmail,
  IdentifierHasher,
  isKeyedHash,
  isLegacyContactIdentifier,
  KEYED_HASH_PREFIX,
} from './identifier-hashing.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const MASTER_A = Buffer.alloc(32, 1);
const MASTER_B = Buffer.alloc(32, 2);

describe('IdentifierHasher', () => {
  it('keys email and phone hashes: two master keys give different hashes, neither the plain SHA-256', () => {
    const a = IdentifierHasher.fromMasterKey(MASTER_A);
    const b = IdentifierHasher.fromMasterKey(MASTER_B);
    for (const [hash, normalised] of [
      [(h: IdentifierHasher) => h.email(' Ada@Example.com '), 'ada@example.com'],
      [(h: IdentifierHasher) => h.phone('+44 20 7946 0000'), '+442079460000'],
    ] as const) {
      const underA = hash(a)!;
      const underB = hash(b)!;
      expect(underA).not.toBe(underB);
      expect(underA).not.toContain(sha256(normalised));
      expect(underB).not.toContain(sha256(normalised));
      expect(isKeyedHash(underA)).toBe(true);
    }
  });

  it('is HMAC-SHA-256 of the digest under a key derived from the master key with its own label', () => {
    const contactKey = Buffer.from(
      hkdfSync('sha256', MASTER_A, Buffer.alloc(0), 'refinery identity: contact hashes', 32),
    );
    const expected = createHmac('sha256', contactKey).update(sha256('ada@example.com')).digest('hex');
    expect(IdentifierHasher.fromMasterKey(MASTER_A).email('ada@example.com')).toBe(
      `${KEYED_HASH_PREFIX}${expected}`,
    );
    // The person-id key (another label) is not the contact key.
    const personIdKey = Buffer.from(
      hkdfSync('sha256', MASTER_A, Buffer.alloc(0), 'refinery identity: person ids', 32),
    );
    expect(personIdKey.equals(contactKey)).toBe(false);
  });

  it('gives the same value for an email and for the digest a store held before keys', () => {
    const hasher = IdentifierHasher.fromMasterKey(MASTER_A);
    const email = hasher.email('ADA@example.com')!;
    expect(hasher.fromDigest(sha256('ada@example.com'))).toBe(email);
    expect(hasher.fromDigest(sha256('ada@example.com').toUpperCase())).toBe(email);
    expect(hasher.email('ada@example.com')).toBe(email);
  });

  it('upgrades a plain email or phone digest once and leaves keyed values and other ids alone', () => {
    const hasher = IdentifierHasher.fromMasterKey(MASTER_A);
    const legacy = { type: 'email', value: sha256('ada@example.com') };
    expect(isLegacyContactIdentifier(legacy)).toBe(true);
    const upgraded = hasher.upgrade(legacy);
    expect(upgraded).toEqual({ type: 'email', value: hasher.email('ada@example.com') });
    expect(hasher.upgrade(upgraded)).toBe(upgraded);
    // A user id that happens to look like a digest is an opaque id, not a hash.
    const userId = { type: 'user_id', value: sha256('u1') };
    expect(hasher.upgrade(userId)).toBe(userId);
  });

  it('keys index entries so that an upgraded plain entry matches the keyed index of the same identifier', () => {
    const a = IdentifierHasher.fromMasterKey(MASTER_A);
    const b = IdentifierHasher.fromMasterKey(MASTER_B);
    const user = { type: 'user_id', value: 'u42' };
    expect(a.index(user)).not.toBe(b.index(user));
    expect(a.index(user)).not.toContain(sha256('user_id:u42'));
    // An entry written before keys was sha256('user_id:u42'); keyed in place it equals today's entry.
    expect(a.indexFromDigest(sha256('user_id:u42'))).toBe(a.index(user));
    // An email entry then held the plain digest inside; upgradedIndexOf recomputes what it became.
    const plainEntry = sha256(`email:${digestEmail('ada@example.com')}`);
    expect(a.upgradedIndexOf('email', ' ADA@example.com')).toBe(a.indexFromDigest(plainEntry));
    expect(a.upgradedIndexOf('email', 'not an email')).toBeUndefined();
  });
});

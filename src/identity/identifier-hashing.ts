import { createHash, createHmac } from 'node:crypto';
import { deriveKey } from '../privacy/vault/derived-keys.js';
import { normaliseEmail, normalisePhone } from './identifier-extraction.js';
import type { Identifier } from './identity-rules.js';

/**
 * Marks a value made with the workspace's key. Values written before keys existed are the bare SHA-256 hex of the
 * normalised email or phone; the prefix tells the two apart wherever they meet (a log segment written by an older
 * version, a store half-way through its upgrade), so upgrading is idempotent and never keys a value twice.
 */
export const KEYED_HASH_PREFIX = 'h1:';

/** The identifier types held only as keyed hashes: contact details anyone who knows the person may know. */
export const CONTACT_IDENTIFIER_TYPES: ReadonlySet<string> = new Set(['email', 'phone']);

const DIGEST = /^[0-9a-f]{64}$/;
const CACHE_SIZE = 10_000;

/**
 * Hashes identifiers with keys derived from the workspace master key, so that a hash found in the store, a log
 * segment, a backup or an API answer cannot be tested against a guessed email without the key.
 *
 * - Emails and phones, as the identity graph holds them: `h1:` + HMAC-SHA-256(contact key, SHA-256 hex of the
 *   normalised value). Keying the digest rather than the clear value lets a store holding plain digests (before
 *   keys) be upgraded in place, without the clear values: `fromDigest(stored)`. It also keys the SHA-256 ids that
 *   Segment's `externalIds` carry with `encoding: sha256`.
 * - Identifiers as the suppression list and privacy requests remember them: `h1:` + HMAC-SHA-256(index key,
 *   SHA-256 hex of `type:value`), the old plain hash keyed in the same way.
 *
 * @example IdentifierHasher.fromMasterKey(master.key).email('Ada@Example.com') // 'h1:5c0f…'
 */
export class IdentifierHasher {
  /**
   * Normalised contact value → keyed hash, and `type:value` → index entry: a repeated email or id (the suppression
   * check runs on every message once someone is erased) costs a map lookup rather than a hash and an HMAC.
   */
  private readonly cache = new Map<string, string>();
  private readonly indexCache = new Map<string, string>();

  private constructor(
    private readonly contactKey: Buffer,
    private readonly indexKey: Buffer,
  ) {}

  /** The hasher of a workspace, from its 32-byte master key (`loadMasterKey`). */
  static fromMasterKey(masterKey: Buffer): IdentifierHasher {
    return new IdentifierHasher(
      deriveKey(masterKey, 'contactHashes'),
      deriveKey(masterKey, 'identifierIndex'),
    );
  }

  /** The graph's value for an email (trimmed, lowercased); undefined when it is not `local@domain`. */
  email(raw: unknown): string | undefined {
    const email = normaliseEmail(raw);
    return email === undefined ? undefined : this.contact('email', email);
  }

  /** The graph's value for a phone number (its digits, a leading `+` kept); undefined when it is not one. */
  phone(raw: unknown): string | undefined {
    const phone = normalisePhone(raw);
    return phone === undefined ? undefined : this.contact('phone', phone);
  }

  /**
   * The graph's value for an email or phone known only as the SHA-256 hex of its normalised form: an external id
   * sent with `encoding: sha256`, or a value stored before keys existed.
   */
  fromDigest(digest: string): string {
    return keyed(this.contactKey, digest.toLowerCase());
  }

  /** The identifier as the graph holds it now: a plain digest of an email or phone is keyed, anything else kept. */
  upgrade(identifier: Identifier): Identifier {
    return isLegacyContactIdentifier(identifier)
      ? { type: identifier.type, value: this.fromDigest(identifier.value) }
      : identifier;
  }

  /** How the suppression list and privacy requests remember an identifier (as the graph holds it). */
  index(identifier: Identifier): string {
    const name = `${identifier.type}:${identifier.value}`;
    let value = this.indexCache.get(name);
    if (value === undefined) {
      value = keyed(this.indexKey, sha256Hex(name));
      if (this.indexCache.size >= CACHE_SIZE) this.indexCache.clear();
      this.indexCache.set(name, value);
    }
    return value;
  }

  /** An index entry written before keys existed (SHA-256 hex of `type:value`), keyed as `index` keys. */
  indexFromDigest(digest: string): string {
    return keyed(this.indexKey, digest.toLowerCase());
  }

  /**
   * What an index entry for this email or phone became when a list written before keys was upgraded: its
   * `type:value` then held the plain digest, which the upgrade could key but not replace. Undefined when the
   * value is not an email (phone).
   */
  upgradedIndexOf(type: 'email' | 'phone', raw: unknown): string | undefined {
    const digest = type === 'email' ? digestEmail(raw) : digestPhone(raw);
    return digest === undefined ? undefined : this.indexFromDigest(sha256Hex(`${type}:${digest}`));
  }

  private contact(type: string, normalised: string): string {
    const name = `${type}\n${normalised}`;
    let value = this.cache.get(name);
    if (value === undefined) {
      value = keyed(this.contactKey, sha256Hex(normalised));
      if (this.cache.size >= CACHE_SIZE) this.cache.clear();
      this.cache.set(name, value);
    }
    return value;
  }
}

/**
 * SHA-256 hex of the normalised email: never stored. It is the step before keying, and what an erasure compares
 * with email columns that hold the address in clear (`sha256(lower(trim(email)))` in SQL).
 */
export function digestEmail(raw: unknown): string | undefined {
  const email = normaliseEmail(raw);
  return email === undefined ? undefined : sha256Hex(email);
}

/** SHA-256 hex of the normalised phone number: never stored (see `digestEmail`). */
export function digestPhone(raw: unknown): string | undefined {
  const phone = normalisePhone(raw);
  return phone === undefined ? undefined : sha256Hex(phone);
}

/** True for an email or phone held the way it was before keys: the bare SHA-256 hex of its normalised value. */
export function isLegacyContactIdentifier(identifier: Identifier): boolean {
  return CONTACT_IDENTIFIER_TYPES.has(identifier.type) && DIGEST.test(identifier.value);
}

/** True for a hash made by an `IdentifierHasher` (`h1:` and 64 hex digits). */
export function isKeyedHash(value: string): boolean {
  return value.startsWith(KEYED_HASH_PREFIX) && DIGEST.test(value.slice(KEYED_HASH_PREFIX.length));
}

/** True for a plain SHA-256 hex digest, the form every hash had before keys. */
export function isPlainDigest(value: string): boolean {
  return DIGEST.test(value);
}

function keyed(key: Buffer, digest: string): string {
  return `${KEYED_HASH_PREFIX}${createHmac('sha256', key).update(digest, 'utf8').digest('hex')}`;
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

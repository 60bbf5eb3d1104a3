import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  extractIdentifiers,
  type IdentityMessage,
  normaliseEmail,
  normalisePhone,
} from './identifier-extraction.js';
import { IdentifierHasher } from './identifier-hashing.js';
import { DEFAULT_IDENTITY_RULES, type IdentityRules, validateIdentityRules } from './identity-rules.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const hasher = IdentifierHasher.fromMasterKey(Buffer.alloc(32, 7));
/** The graph's value for a normalised email or phone: the workspace's keyed hash of its SHA-256. */
const keyed = (normalised: string) => hasher.fromDigest(sha256(normalised));
const extract = (message: IdentityMessage, rules: IdentityRules = DEFAULT_IDENTITY_RULES) =>
  extractIdentifiers(message, rules, hasher);

const RULES_WITH_GA = validateIdentityRules({
  identifiers: {
    user_id: { priority: 1, limit: 1 },
    email: { priority: 2, limit: 5 },
    phone: { priority: 3, limit: 5 },
    anonymous_id: { priority: 4, limit: 100 },
    ga_client_id: { priority: 5, limit: 5 },
  },
});

describe('extractIdentifiers', () => {
  it('reads userId and anonymousId from any call', () => {
    expect(extract({ type: 'track', userId: 'u1', anonymousId: 'a1' })).toEqual([
      { type: 'user_id', value: 'u1' },
      { type: 'anonymous_id', value: 'a1' },
    ]);
    expect(extract({ type: 'page', anonymousId: 'a1' })).toEqual([{ type: 'anonymous_id', value: 'a1' }]);
  });

  it('keeps numeric ids as strings, as Segment does, and ignores blank ones', () => {
    expect(extract({ type: 'track', userId: 42, anonymousId: '  ' })).toEqual([
      { type: 'user_id', value: '42' },
    ]);
    expect(extract({ type: 'track', userId: null, anonymousId: '' })).toEqual([]);
  });

  it('hashes the email and phone of identify traits and never returns them in clear', () => {
    const identifiers = extract({
      type: 'identify',
      userId: 'u1',
      traits: { email: '  Ada@Example.COM ', phone: '+44 (20) 7946-0000', name: 'Ada' },
    });
    expect(identifiers).toEqual([
      { type: 'user_id', value: 'u1' },
      { type: 'email', value: keyed('ada@example.com') },
      { type: 'phone', value: keyed('+442079460000') },
    ]);
    expect(JSON.stringify(identifiers)).not.toMatch(/example|7946/i);
  });

  it('reads context.traits of every call', () => {
    expect(
      extract({
        type: 'track',
        anonymousId: 'a1',
        context: { traits: { email: 'ada@example.com' } },
      }),
    ).toEqual([
      { type: 'anonymous_id', value: 'a1' },
      { type: 'email', value: keyed('ada@example.com') },
    ]);
  });

  it('ignores the top-level traits of a group call, which describe the company', () => {
    expect(
      extract({
        type: 'group',
        userId: 'u1',
        traits: { email: 'office@bakery.example' },
        context: { traits: { email: 'ada@example.com' } },
      }),
    ).toEqual([
      { type: 'user_id', value: 'u1' },
      { type: 'email', value: keyed('ada@example.com') },
    ]);
  });

  it('ignores top-level traits on a track call, where the spec has none', () => {
    expect(extract({ type: 'track', userId: 'u1', traits: { email: 'ada@example.com' } })).toEqual([
      { type: 'user_id', value: 'u1' },
    ]);
  });

  it('returns an email found in both traits and context.traits once', () => {
    const identifiers = extract({
      type: 'identify',
      userId: 'u1',
      traits: { email: 'ada@example.com' },
      context: { traits: { email: 'ADA@example.com' } },
    });
    expect(identifiers.filter((identifier) => identifier.type === 'email')).toHaveLength(1);
  });

  it('skips emails and phones that are not one', () => {
    expect(extract({ type: 'identify', userId: 'u1', traits: { email: 'n/a', phone: 'call me' } })).toEqual([
      { type: 'user_id', value: 'u1' },
    ]);
  });

  it('links an alias previousId as a user id', () => {
    expect(extract({ type: 'alias', userId: 'new', previousId: 'old', anonymousId: 'a1' })).toEqual([
      { type: 'user_id', value: 'new' },
      { type: 'user_id', value: 'old' },
      { type: 'anonymous_id', value: 'a1' },
    ]);
  });

  it('links an alias previousId equal to the anonymousId as that anonymous id', () => {
    expect(extract({ type: 'alias', userId: 'u1', previousId: 'a1', anonymousId: 'a1' })).toEqual([
      { type: 'user_id', value: 'u1' },
      { type: 'anonymous_id', value: 'a1' },
    ]);
  });

  it('ignores previousId outside alias calls', () => {
    expect(extract({ type: 'identify', userId: 'u1', previousId: 'old' })).toEqual([
      { type: 'user_id', value: 'u1' },
    ]);
  });

  it('reads external ids of configured types in the users collection', () => {
    const identifiers = extract(
      {
        type: 'track',
        anonymousId: 'a1',
        context: {
          externalIds: [
            { id: 'GA1.2.3', type: 'ga_client_id', collection: 'users', encoding: 'none' },
            { id: 'acc-9', type: 'ga_client_id', collection: 'accounts', encoding: 'none' },
            { id: 'x', type: 'not_configured', collection: 'users', encoding: 'none' },
            { id: 'no-collection', type: 'ga_client_id' },
            'not an object',
          ],
        },
      },
      RULES_WITH_GA,
    );
    expect(identifiers).toEqual([
      { type: 'anonymous_id', value: 'a1' },
      { type: 'ga_client_id', value: 'GA1.2.3' },
      { type: 'ga_client_id', value: 'no-collection' },
    ]);
  });

  it('hashes external emails, keys sha256-encoded ones from their digest and skips other encodings', () => {
    const hashed = sha256('bo@example.com');
    const identifiers = extract({
      type: 'track',
      userId: 'u1',
      context: {
        externalIds: [
          { id: ' Ada@Example.com', type: 'email', collection: 'users', encoding: 'none' },
          { id: hashed.toUpperCase(), type: 'email', collection: 'users', encoding: 'sha256' },
          { id: 'not-a-hash', type: 'email', collection: 'users', encoding: 'sha256' },
          { id: 'd41d8cd98f00b204e9800998ecf8427e', type: 'email', collection: 'users', encoding: 'md5' },
        ],
      },
    });
    expect(identifiers).toEqual([
      { type: 'user_id', value: 'u1' },
      { type: 'email', value: keyed('ada@example.com') },
      { type: 'email', value: keyed('bo@example.com') },
    ]);
  });

  it('leaves out identifier types the rules do not name', () => {
    const rules = validateIdentityRules({ identifiers: { user_id: { priority: 1, limit: 1 } } });
    expect(
      extract({ type: 'identify', userId: 'u1', anonymousId: 'a1', traits: { email: 'a@b.c' } }, rules),
    ).toEqual([{ type: 'user_id', value: 'u1' }]);
  });

  it('reads a validated message as well as raw JSON', () => {
    const validated = {
      type: 'identify' as const,
      userId: 'u1',
      anonymousId: null,
      previousId: null,
      traits: { email: 'ada@example.com' },
      context: null,
      messageId: undefined,
    };
    expect(extract(validated, DEFAULT_IDENTITY_RULES)).toEqual([
      { type: 'user_id', value: 'u1' },
      { type: 'email', value: keyed('ada@example.com') },
    ]);
  });
});

describe('email and phone normalisation', () => {
  it('trims and lowercases emails', () => {
    expect(normaliseEmail('  Ada.Lovelace@Example.COM\n')).toBe('ada.lovelace@example.com');
    expect(hasher.email('ADA@example.com')).toBe(hasher.email('ada@example.com'));
  });

  it('refuses values that are not shaped like an email', () => {
    for (const value of ['', 'ada', '@example.com', 'ada@', 'a b@example.com', 42, null]) {
      expect(normaliseEmail(value)).toBeUndefined();
    }
  });

  it('keeps the digits of a phone number and a leading plus', () => {
    expect(normalisePhone(' +1 (555) 010-9999 ')).toBe('+15550109999');
    expect(normalisePhone('0555 010 9999')).toBe('05550109999');
    expect(normalisePhone(5550109999)).toBe('5550109999');
    expect(hasher.phone('+1 555 010 9999')).toBe(hasher.phone('+1-555-010-9999'));
    expect(hasher.phone('+1 555 010 9999')).not.toBe(hasher.phone('1 555 010 9999'));
  });

  it('refuses phone values with fewer than five digits', () => {
    for (const value of ['', 'n/a', '1234', '+12-34', -5, 1.5]) {
      expect(normalisePhone(value)).toBeUndefined();
    }
  });
});

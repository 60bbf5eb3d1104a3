import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isRefineryError, type RefineryError } from '../../core/errors.js';
import {
  decryptField,
  ENVELOPE_PREFIX,
  encryptField,
  envelopeKeyId,
  isEnvelope,
  type JsonValue,
  type KeyLookup,
  type SubjectKey,
} from './field-envelope.js';
import { VAULT_ERROR_CODES } from './vault-errors.js';

function newKey(): SubjectKey {
  return { keyId: randomBytes(16).toString('base64url'), key: randomBytes(32) };
}

function lookup(...keys: SubjectKey[]): KeyLookup {
  const byId = new Map(keys.map((key) => [key.keyId, key]));
  return { keyById: (keyId) => byId.get(keyId) };
}

function refusal(run: () => unknown): RefineryError {
  try {
    run();
  } catch (error) {
    if (isRefineryError(error)) return error;
    throw error;
  }
  throw new Error('expected a RefineryError');
}

/** The envelope with one byte of its sealed part (iv | ciphertext | tag) flipped. */
function flipByte(envelope: string, position: (length: number) => number): string {
  const cut = envelope.lastIndexOf(':') + 1;
  const sealed = Buffer.from(envelope.slice(cut), 'base64url');
  const index = position(sealed.length);
  sealed[index] = sealed[index]! ^ 0x01;
  return envelope.slice(0, cut) + sealed.toString('base64url');
}

const key = newKey();
const keys = lookup(key);

describe('field envelopes', () => {
  it.each<[string, JsonValue]>([
    ['a string', 'ada@example.com'],
    ['an empty string', ''],
    ['a string outside ASCII', 'Zoë Ångström 🍞 東京'],
    ['an integer', 42],
    ['a negative fraction', -1234.5678],
    ['zero', 0],
    ['true', true],
    ['false', false],
    ['null', null],
    ['an object', { street: '1 Bakery Lane', city: 'Bath', geo: { lat: 51.38, lon: -2.36 } }],
    ['an empty object', {}],
    ['an array', ['+44 20 7946 0000', 7, false, null, { kind: 'mobile' }]],
    ['an empty array', []],
  ])('round-trips %s', (_, value) => {
    const envelope = encryptField(value, key, 'traits.example');
    expect(decryptField(envelope, keys, 'traits.example')).toEqual({ status: 'ok', value });
  });

  it('writes rfy1:<keyId>:<base64url> with no trace of the value', () => {
    const envelope = encryptField('ada@example.com', key, 'traits.email');
    expect(envelope).toMatch(/^rfy1:[A-Za-z0-9_-]{22}:[A-Za-z0-9_-]+$/);
    expect(envelope.startsWith(`${ENVELOPE_PREFIX}${key.keyId}:`)).toBe(true);
    expect(envelope).not.toContain('ada');
    expect(envelopeKeyId(envelope)).toBe(key.keyId);
  });

  it('seals the same value differently each time', () => {
    expect(encryptField('ada@example.com', key, 'traits.email')).not.toBe(
      encryptField('ada@example.com', key, 'traits.email'),
    );
  });

  it('refuses to open an envelope at another field path', () => {
    const envelope = encryptField('ada@example.com', key, 'traits.email');
    const error = refusal(() => decryptField(envelope, keys, 'properties.email'));
    expect(error.code).toBe(VAULT_ERROR_CODES.envelopeTampered);
    expect(error.details.field).toBe('properties.email');
  });

  it.each([
    ['initialisation vector', () => 0],
    ['ciphertext', () => 12],
    ['tag', (length: number) => length - 1],
  ])('refuses an envelope with one byte of its %s altered', (_, position) => {
    const envelope = flipByte(encryptField({ city: 'Bath' }, key, 'traits.address'), position);
    expect(refusal(() => decryptField(envelope, keys, 'traits.address')).code).toBe(
      VAULT_ERROR_CODES.envelopeTampered,
    );
  });

  it('refuses an envelope relabelled with another key id', () => {
    const other = newKey();
    const envelope = encryptField('ada@example.com', key, 'traits.email').replace(key.keyId, other.keyId);
    expect(refusal(() => decryptField(envelope, lookup(key, other), 'traits.email')).code).toBe(
      VAULT_ERROR_CODES.envelopeTampered,
    );
  });

  it('refuses a malformed envelope', () => {
    const envelope = `${encryptField('ada@example.com', key, 'traits.email')}!`;
    expect(refusal(() => decryptField(envelope, keys, 'traits.email')).code).toBe(
      VAULT_ERROR_CODES.envelopeTampered,
    );
  });

  it('reports an envelope whose key no longer exists as shredded', () => {
    const envelope = encryptField('ada@example.com', key, 'traits.email');
    expect(decryptField(envelope, lookup(), 'traits.email')).toEqual({
      status: 'shredded',
      keyId: key.keyId,
    });
  });

  it('tells envelopes from other values', () => {
    expect(isEnvelope(encryptField(1, key, 'traits.x'))).toBe(true);
    for (const value of ['rfy1:', `rfy1:${key.keyId}`, 'ada@example.com', 42, null, { a: 1 }, undefined]) {
      expect(isEnvelope(value)).toBe(false);
    }
    expect(envelopeKeyId('ada@example.com')).toBeUndefined();
  });
});

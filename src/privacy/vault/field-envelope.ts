import { createCipheriv, createDecipheriv, randomFillSync } from 'node:crypto';
import { RefineryError } from '../../core/errors.js';
import { VAULT_ERROR_CODES } from './vault-errors.js';

/**
 * One encrypted field value, as it travels in a message and is stored:
 *
 *     rfy1:<keyId>:<base64url(iv | ciphertext | tag)>
 *
 * AES-256-GCM under the subject's data key, a random 12-byte IV, a 16-byte tag; the plaintext is the value's
 * JSON. The additional data binds the format, the key id and the field path, so an envelope copied to another
 * field, or relabelled with another key id, fails to decrypt.
 *
 * The field path is the field's place within its section: `traits.email`, `traits.address`,
 * `properties.email`, `properties.products[].email` (array positions are `[]`, so reordering an array keeps its
 * envelopes valid). Traits count as one section whether they came in `traits` or `context.traits`, because the
 * store fills its `traits` column from either.
 */
export const ENVELOPE_PREFIX = 'rfy1:';

/** Key ids are 16 random bytes in base64url: 22 characters, never a `:`. */
export const KEY_ID_LENGTH = 22;

const IV_BYTES = 12;
const TAG_BYTES = 16;
const ALGORITHM = 'aes-256-gcm';
const SEPARATOR_AT = ENVELOPE_PREFIX.length + KEY_ID_LENGTH;
const KEY_ID = /^[A-Za-z0-9_-]{22}$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
/** The shortest sealed part: IV, at least one byte of JSON, tag. */
const MIN_SEALED_CHARS = Math.ceil(((IV_BYTES + 1 + TAG_BYTES) * 4) / 3);

export type JsonValue =
  | string
  | number
  | boolean
  | null
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

/** A subject's data key: 32 bytes and the id envelopes name it by. */
export interface SubjectKey {
  readonly keyId: string;
  readonly key: Buffer;
}

/** Finds a data key by id; the vault is one. */
export interface KeyLookup {
  keyById(keyId: string): SubjectKey | undefined;
}

/** The result of opening an envelope: its value, or the news that its key was destroyed. */
export type OpenedField =
  | { readonly status: 'ok'; readonly value: JsonValue }
  | { readonly status: 'shredded'; readonly keyId: string };

/**
 * Encrypts one JSON value for the field at `path` under a subject's key.
 *
 * @example encryptField('ada@example.com', await vault.keyFor(subject), 'traits.email') // 'rfy1:…'
 */
export function encryptField(value: JsonValue, key: SubjectKey, path: string): string {
  const json = JSON.stringify(value);
  if (json === undefined) throw new TypeError(`The value at ${path} is not JSON.`);
  const iv = nextIv();
  const cipher = createCipheriv(ALGORITHM, key.key, iv);
  cipher.setAAD(additionalData(key.keyId, path));
  const head = cipher.update(json, 'utf8');
  const tail = cipher.final();
  const sealed = Buffer.concat([iv, head, tail, cipher.getAuthTag()]);
  return `${ENVELOPE_PREFIX}${key.keyId}:${sealed.toString('base64url')}`;
}

/** True for a string shaped like an envelope (a cheap check of its form; only decryption proves it genuine). */
export function isEnvelope(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length > SEPARATOR_AT + MIN_SEALED_CHARS &&
    value.startsWith(ENVELOPE_PREFIX) &&
    value.charCodeAt(SEPARATOR_AT) === COLON
  );
}

/** The id of the key an envelope was sealed with, or undefined when the value is not an envelope. */
export function envelopeKeyId(value: unknown): string | undefined {
  return isEnvelope(value) ? value.slice(ENVELOPE_PREFIX.length, SEPARATOR_AT) : undefined;
}

/**
 * Opens an envelope found at `path`: `{ status: 'ok', value }`, or `{ status: 'shredded' }` when its key no
 * longer exists (the subject was erased; show `null` or "[erased]"). Throws a RefineryError when the envelope is
 * malformed or fails authentication: altered bytes, another field's envelope, another key's id.
 */
export function decryptField(envelope: string, keys: KeyLookup, path: string): OpenedField {
  const keyId = envelopeKeyId(envelope);
  const sealedText = envelope.slice(SEPARATOR_AT + 1);
  if (keyId === undefined || !KEY_ID.test(keyId) || !BASE64URL.test(sealedText)) {
    throw tampered(path, 'is not a well-formed encrypted field');
  }
  const key = keys.keyById(keyId);
  if (!key) return { status: 'shredded', keyId };

  const sealed = Buffer.from(sealedText, 'base64url');
  if (sealed.length < IV_BYTES + 1 + TAG_BYTES) throw tampered(path, 'is too short to be an encrypted field');
  let json: string;
  try {
    const decipher = createDecipheriv(ALGORITHM, key.key, sealed.subarray(0, IV_BYTES));
    decipher.setAAD(additionalData(keyId, path));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    json =
      decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES), undefined, 'utf8') +
      decipher.final('utf8');
  } catch (cause) {
    throw tampered(path, 'fails authentication: it was altered or belongs to another field', cause);
  }
  return { status: 'ok', value: JSON.parse(json) as JsonValue };
}

const COLON = 0x3a;

// IVs come from a pool filled by the CSPRNG a few hundred at a time: one call per field costs more than the
// encryption itself. Each IV is handed out once; a refill allocates a new pool, so earlier IVs stay as they were.
const IV_POOL_BYTES = IV_BYTES * 512;
let ivPool = Buffer.alloc(0);
let ivOffset = 0;

function nextIv(): Buffer {
  if (ivOffset + IV_BYTES > ivPool.length) {
    ivPool = randomFillSync(Buffer.allocUnsafe(IV_POOL_BYTES));
    ivOffset = 0;
  }
  const iv = ivPool.subarray(ivOffset, ivOffset + IV_BYTES);
  ivOffset += IV_BYTES;
  return iv;
}

function additionalData(keyId: string, path: string): Buffer {
  return Buffer.from(`rfy1\n${keyId}\n${path}`, 'utf8');
}

function tampered(path: string, text: string, cause?: unknown): RefineryError {
  return new RefineryError(
    VAULT_ERROR_CODES.envelopeTampered,
    `The encrypted value at ${path} ${text}.`,
    { field: path },
    cause === undefined ? undefined : { cause },
  );
}

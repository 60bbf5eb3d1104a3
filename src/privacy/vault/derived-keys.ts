import { hkdfSync } from 'node:crypto';
import { RefineryError } from '../../core/errors.js';
import { MASTER_KEY_BYTES } from './master-key.js';
import { VAULT_ERROR_CODES } from './vault-errors.js';

/**
 * What each key derived from the workspace master key is for. One master key, one HKDF label per job, so a key
 * that leaks from one job (a person id, a hash in a log) says nothing about the others. A label, once used,
 * never changes: every value made with the key it derives would stop matching.
 */
export const DERIVED_KEY_LABELS = Object.freeze({
  /** Wraps per-subject data keys in the vault's key file. */
  keyWrapping: 'refinery vault: key wrapping',
  /** Names a subject in the vault's key file. */
  subjectIndex: 'refinery vault: subject index',
  /** Person ids: an HMAC of the identifier that created the person. */
  personIds: 'refinery identity: person ids',
  /** Emails and phones as the identity graph holds them: an HMAC of the SHA-256 of the normalised value. */
  contactHashes: 'refinery identity: contact hashes',
  /** Identifiers as the suppression list and privacy requests remember them. */
  identifierIndex: 'refinery privacy: identifier index',
} as const);

export type DerivedKeyPurpose = keyof typeof DERIVED_KEY_LABELS;

/**
 * A 32-byte key for one job, derived from the master key with HKDF-SHA-256 (no salt: the master key is already
 * uniformly random).
 *
 * @example deriveKey(master.key, 'contactHashes')
 */
export function deriveKey(masterKey: Buffer, purpose: DerivedKeyPurpose): Buffer {
  if (masterKey.length !== MASTER_KEY_BYTES) {
    throw new RefineryError(
      VAULT_ERROR_CODES.masterKeyInvalid,
      `The master key must be ${MASTER_KEY_BYTES} bytes.`,
    );
  }
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), DERIVED_KEY_LABELS[purpose], 32));
}

import type { ErrorCode } from '../../core/errors.js';

/**
 * The codes the vault reports, in one place:
 *
 * - `masterKeyInvalid` → REFINERY_ERR_MASTER_KEY_INVALID (500): the master key file or REFINERY_MASTER_KEY
 *   is not a 32-byte key, or cannot be read or created.
 * - `vaultCorrupt` → REFINERY_ERR_VAULT_CORRUPT (500): a vault file has a damaged line, or its keys do not open
 *   with this master key.
 * - `envelopeTampered` → REFINERY_ERR_ENVELOPE_TAMPERED (500): an encrypted field fails authentication: its
 *   bytes were altered, or it was moved to another field.
 */
export const VAULT_ERROR_CODES = {
  masterKeyInvalid: 'REFINERY_ERR_MASTER_KEY_INVALID',
  vaultCorrupt: 'REFINERY_ERR_VAULT_CORRUPT',
  envelopeTampered: 'REFINERY_ERR_ENVELOPE_TAMPERED',
  /** A vault file could not be written or synced: nothing further is acknowledged. */
  writeFailed: 'REFINERY_ERR_INTERNAL',
} as const satisfies Record<string, ErrorCode>;

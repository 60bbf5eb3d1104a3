import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { RefineryError } from '../../core/errors.js';
import { fsyncDirectory } from '../../core/fsync-directory.js';
import { VAULT_ERROR_CODES } from './vault-errors.js';

export const MASTER_KEY_BYTES = 32;

/** The environment variable that carries the master key (base64) when a secret manager provides it. */
export const MASTER_KEY_VARIABLE = 'REFINERY_MASTER_KEY';

/** The workspace master key that wraps every subject key, and where it came from. */
export interface MasterKey {
  /** 32 bytes. Never log, serialise or store it. */
  readonly key: Buffer;
  readonly source: 'environment' | 'file';
  /** The key file, when the key came from one. */
  readonly file: string | undefined;
  /** True when this call created the key file. */
  readonly created: boolean;
}

export interface MasterKeyOptions {
  /** The workspace's data folder; the key lives in `<dataDir>/secrets/master.key`. */
  readonly dataDir: string;
  /**
   * The value of REFINERY_MASTER_KEY (base64 of 32 bytes), read by `config/`. When given it wins over the file,
   * and no file is read or created.
   */
  readonly fromEnvironment?: string | undefined;
}

/** Where a workspace keeps its master key file. */
export function masterKeyPath(dataDir: string): string {
  return join(dataDir, 'secrets', 'master.key');
}

/**
 * The workspace master key: from REFINERY_MASTER_KEY when set, else from `<dataDir>/secrets/master.key`, which
 * is created on first use (32 random bytes, mode 0600 in a 0700 folder). The file appears whole or not at all
 * (written to a temp file, synced, then linked into place), and an existing key is never replaced: two processes
 * creating it at once end up with the same key. Losing this key makes every encrypted field unreadable.
 *
 * @example const { key } = loadMasterKey({ dataDir: paths.data, fromEnvironment: environment.masterKey })
 */
export function loadMasterKey(options: MasterKeyOptions): MasterKey {
  if (options.fromEnvironment !== undefined && options.fromEnvironment !== '') {
    return {
      key: parseMasterKey(options.fromEnvironment),
      source: 'environment',
      file: undefined,
      created: false,
    };
  }
  const file = masterKeyPath(options.dataDir);
  const existing = readKeyFile(file);
  if (existing) return { key: existing, source: 'file', file, created: false };
  const created = createKeyFile(file);
  return { key: created.key, source: 'file', file, created: created.created };
}

/**
 * Decodes a base64 (or base64url) master key, refusing anything but exactly 32 bytes.
 *
 * @example parseMasterKey(randomBytes(32).toString('base64'))
 */
export function parseMasterKey(text: string): Buffer {
  const trimmed = text.trim();
  const key = /^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed) ? Buffer.from(trimmed, 'base64') : undefined;
  if (key?.length !== MASTER_KEY_BYTES) {
    throw new RefineryError(
      VAULT_ERROR_CODES.masterKeyInvalid,
      `${MASTER_KEY_VARIABLE} must be ${MASTER_KEY_BYTES} bytes in base64 (44 characters); ` +
        'create one with `openssl rand -base64 32`.',
      { field: MASTER_KEY_VARIABLE },
    );
  }
  return key;
}

function readKeyFile(file: string): Buffer | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new RefineryError(
      VAULT_ERROR_CODES.masterKeyInvalid,
      `The master key file ${file} cannot be read; check its owner and permissions.`,
      { file },
      { cause: error },
    );
  }
  if (bytes.length !== MASTER_KEY_BYTES) {
    throw new RefineryError(
      VAULT_ERROR_CODES.masterKeyInvalid,
      `The master key file ${file} holds ${bytes.length} bytes, not ${MASTER_KEY_BYTES}. Restore it from ` +
        'your backup: without it, encrypted personal fields cannot be read.',
      { file },
    );
  }
  return bytes;
}

function createKeyFile(file: string): { key: Buffer; created: boolean } {
  const folder = dirname(file);
  const temp = `${file}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`;
  const key = randomBytes(MASTER_KEY_BYTES);
  try {
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    chmodSync(folder, 0o700);
    writeSyncedFile(temp, key);
    if (!linkWithoutReplacing(temp, file)) {
      // Another process created the key between our read and our link: use theirs.
      return { key: readKeyFile(file) ?? key, created: false };
    }
    fsyncDirectory(folder);
    return { key, created: true };
  } catch (error) {
    if (error instanceof RefineryError) throw error;
    throw new RefineryError(
      VAULT_ERROR_CODES.masterKeyInvalid,
      `Could not create the master key file ${file}: ${(error as Error).message}`,
      { file },
      { cause: error },
    );
  } finally {
    try {
      unlinkSync(temp);
    } catch {
      // Already linked and removed, or never written.
    }
  }
}

function writeSyncedFile(path: string, bytes: Buffer): void {
  const fd = openSync(path, 'wx', 0o600);
  try {
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Puts `temp` at `file` unless `file` exists; false when it does. A hard link fails on an existing name, which
 * makes the check and the creation one step. Where hard links are not supported, a rename after a check is the
 * fallback (it could only replace a key created in the same instant, before anything used it).
 */
function linkWithoutReplacing(temp: string, file: string): boolean {
  try {
    linkSync(temp, file);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EOPNOTSUPP') throw error;
  }
  if (readKeyFile(file)) return false;
  renameSync(temp, file);
  return true;
}

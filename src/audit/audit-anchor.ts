import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fsyncDirectory } from '../core/fsync-directory.js';
import { isJsonObject } from '../core/json-object.js';
import type { MetadataRepository } from '../store/store.js';
import type { AuditHead } from './audit-entry.js';
import { auditLogBroken } from './audit-errors.js';

/**
 * A second record of where the chain ends. The chain proves that no entry was changed, removed or inserted
 * *before* its last entry; only a head kept elsewhere shows that entries were cut off the end, or that the
 * whole chain was recomputed. The log writes every anchor it has after each append.
 */
export interface AuditAnchor {
  /** Shown in verification reports, e.g. "head.json" or "store metadata". */
  readonly name: string;
  /** The head last written, or undefined when none was. Throws when what is stored is unreadable. */
  read(): Promise<AuditHead | undefined>;
  write(head: AuditHead): Promise<void>;
}

export const HEAD_FILE = 'head.json';

/**
 * `head.json` beside the log, replaced atomically (temp file, fsync, rename, fsync of the folder). It catches
 * a truncated tail or a careless edit, but anyone who can rewrite the log can rewrite it too: for protection
 * against a deliberate forger, add an anchor the forger cannot reach (`storeMetadataAnchor`, or your own).
 */
export function headFileAnchor(folder: string): AuditAnchor {
  const file = join(folder, HEAD_FILE);
  return {
    name: HEAD_FILE,
    async read() {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
      return parseHead(text, file);
    },
    async write(head) {
      const temp = join(folder, `.${HEAD_FILE}.${randomBytes(6).toString('hex')}.tmp`);
      const fd = openSync(temp, 'w');
      try {
        writeFileSync(fd, `${JSON.stringify({ seq: head.seq, hash: head.hash })}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(temp, file);
      fsyncDirectory(folder);
    },
  };
}

/** Metadata key under which `storeMetadataAnchor` keeps the head. */
export const AUDIT_HEAD_METADATA_KEY = 'audit.head';

/**
 * The head in the store's `metadata` table. The store is reached through other credentials than the data
 * folder, so a forger who rewrites the files must also write to the database to go unnoticed.
 */
export function storeMetadataAnchor(metadata: MetadataRepository): AuditAnchor {
  return {
    name: 'store metadata',
    async read() {
      const text = await metadata.get(AUDIT_HEAD_METADATA_KEY);
      return text === undefined ? undefined : parseHead(text, `metadata "${AUDIT_HEAD_METADATA_KEY}"`);
    },
    write(head) {
      return metadata.set(AUDIT_HEAD_METADATA_KEY, JSON.stringify({ seq: head.seq, hash: head.hash }));
    },
  };
}

/** Parses `{ seq, hash }`; throws naming `where` when it is not one. */
export function parseHead(text: string, where: string): AuditHead {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw auditLogBroken(`${where} is not valid JSON.`);
  }
  if (
    !isJsonObject(value) ||
    typeof value.seq !== 'number' ||
    !Number.isSafeInteger(value.seq) ||
    value.seq < 1 ||
    typeof value.hash !== 'string' ||
    !/^[0-9a-f]{64}$/.test(value.hash)
  ) {
    throw auditLogBroken(`${where} does not hold { "seq": <positive integer>, "hash": <SHA-256 hex> }.`);
  }
  return { seq: value.seq, hash: value.hash };
}

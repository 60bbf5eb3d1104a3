/**
 * The audit log: an append-only, hash-chained record of every access to personal data, every export and
 * erasure, every key and consent change (issue #5).
 *
 * ## Format
 * NDJSON files in `data/audit/`, named by the seq of their first entry (`audit-000000000001.ndjson`); a new
 * file starts once the active one passes `rotateBytes`, and the chain runs on across files. Each line is one
 * entry: `seq` (1, 2, 3, … with no gaps), `at`, `actor`, `action`, `target`, `detail`, `prev` (the previous
 * entry's hash; 64 zeros for the first) and `hash`, the SHA-256 of the entry without `hash` in RFC 8785
 * canonical JSON (`entryHash`). Changing, removing, inserting or reordering any entry breaks the chain at that
 * point; `verifyAuditLog` finds where.
 *
 * ## Anchors
 * The chain cannot show that entries were cut off the end, nor that someone recomputed every hash after an
 * edit. So after each append the log also records its head (seq and hash of the last entry) in `head.json`
 * and in an optional `AuditAnchor` the integrator supplies — the store's metadata table
 * (`storeMetadataAnchor`). Verification checks that each anchored entry is still in the log with the same
 * hash. `head.json` sits beside the log and only catches truncation and clumsy edits; an anchor kept where
 * the files' editor cannot write is what makes a full recomputation detectable.
 *
 * ## Durability and order
 * "Acknowledged means durable": `append` resolves only once the entry is written and fdatasync'ed and every
 * anchor holds the new head. Appends are serialised in call order; those arriving during a sync share the
 * next one (group commit, as in the write-ahead log), so concurrent callers cost few syncs. One process at a
 * time may write (`writer.lock`).
 *
 * ## After a crash
 * A crash mid-write can leave a torn last line with no newline. It was never acknowledged (the sync comes
 * after the whole line), so `open` cuts it off and appends an `audit.recovered` entry recording its length and
 * SHA-256: the repair is itself on the record, and new entries never chain onto garbage. Anything else that is
 * wrong — the last complete entry is invalid, or an anchor is ahead of the log or disagrees with it — is not a
 * crash artefact: `open` refuses and changes nothing, so the evidence stays for `refinery audit verify`.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import { RefineryError } from '../core/errors.js';
import { fsyncDirectory } from '../core/fsync-directory.js';
import { type AuditAnchor, headFileAnchor } from './audit-anchor.js';
import {
  type AuditEntry,
  type AuditHead,
  entryHash,
  entryLine,
  GENESIS_HASH,
  parseEntryLine,
} from './audit-entry.js';
import { auditLogBroken } from './audit-errors.js';
import { type AuditFile, auditFileName, listAuditFiles, readTail } from './audit-files.js';
import { acquireWriterLock } from './audit-lock.js';
import { type AuditRecord, checkedRecord } from './audit-record.js';

export interface AuditLogOptions {
  /** Also keep the head here after every append (e.g. `storeMetadataAnchor(store.metadata)`). */
  readonly anchor?: AuditAnchor;
  /** Start a new file once the active one holds this many bytes. Default 8 MiB. */
  readonly rotateBytes?: number;
  /** The clock for `at`; tests pin it. */
  readonly now?: () => Date;
}

interface Pending {
  readonly record: Required<AuditRecord>;
  readonly at: string;
  resolve(entry: AuditEntry): void;
  reject(error: unknown): void;
}

/** The active file and how full it is; `undefined` until the next append creates one. */
interface ActiveFile {
  readonly name: string;
  bytes: number;
}

export class AuditLog {
  private handle: FileHandle | undefined;
  private queue: Pending[] = [];
  private flushing: Promise<void> | undefined;
  private failure: unknown;
  private closed = false;

  private constructor(
    readonly folder: string,
    private readonly anchors: readonly AuditAnchor[],
    private readonly rotateBytes: number,
    private readonly now: () => Date,
    private lastHead: AuditHead | undefined,
    private active: ActiveFile | undefined,
    private readonly releaseLock: () => void,
  ) {}

  /**
   * Opens the log in `folder` (created if absent) for appending, after checking its end against the anchors
   * and repairing a torn last line (see the module comment). Throws if another writer holds it.
   */
  static async open(folder: string, options: AuditLogOptions = {}): Promise<AuditLog> {
    mkdirSync(folder, { recursive: true });
    const releaseLock = acquireWriterLock(folder);
    try {
      const anchors = [headFileAnchor(folder), ...(options.anchor ? [options.anchor] : [])];
      const end = readLogEnd(folder);
      await assertAnchorsNotAhead(anchors, end.head);
      const torn = repairTornTail(folder, end);
      const rotateBytes = options.rotateBytes ?? 8 * 1024 * 1024;
      const active = end.activeFile ? activeFileOf(end.activeFile, rotateBytes) : undefined;
      const log = new AuditLog(
        folder,
        anchors,
        rotateBytes,
        options.now ?? (() => new Date()),
        end.head,
        active,
        releaseLock,
      );
      if (torn) await log.recordRepair(torn);
      return log;
    } catch (error) {
      releaseLock();
      throw error;
    }
  }

  private async recordRepair(torn: TornTail): Promise<void> {
    try {
      await this.append({
        actor: { system: 'audit-log' },
        action: 'audit.recovered',
        target: torn.file,
        detail: { reason: 'torn last line removed on open', bytes: torn.bytes, sha256: torn.sha256 },
      });
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  /** The last entry's seq and hash, or undefined while the log is empty. */
  get head(): AuditHead | undefined {
    return this.lastHead;
  }

  /**
   * Appends one entry; resolves with it once it is durable and anchored. Entries take their seq in call order.
   * Rejects with REFINERY_ERR_INVALID_FIELD for an unknown action or personal data in `target`/`detail`.
   */
  async append(record: AuditRecord): Promise<AuditEntry> {
    if (this.closed) throw new RefineryError('REFINERY_ERR_SHUTTING_DOWN', 'The audit log is closed.');
    if (this.failure) throw this.failure;
    const checked = checkedRecord(record);
    const at = this.now().toISOString();
    return new Promise<AuditEntry>((resolve, reject) => {
      this.queue.push({ record: checked, at, resolve, reject });
      this.flushing ??= this.flushLoop();
    });
  }

  /** Waits for pending appends, then releases the files and the writer lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.flushing) await this.flushing;
    await this.handle?.close();
    this.handle = undefined;
    this.releaseLock();
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.queue.length > 0) await this.flushBatch(this.queue.splice(0));
    } finally {
      this.flushing = undefined;
    }
  }

  private async flushBatch(batch: Pending[]): Promise<void> {
    if (this.failure) {
      for (const pending of batch) pending.reject(this.failure);
      return;
    }
    const entries = this.chain(batch);
    const last = entries[entries.length - 1]!;
    try {
      await this.writeDurably(Buffer.from(entries.map(entryLine).join(''), 'utf8'), entries[0]!.seq);
    } catch (cause) {
      // The file is now in an unknown state: refuse every later append rather than acknowledge one that may
      // not be durable. Reopening repairs a torn line.
      this.failure = new RefineryError(
        'REFINERY_ERR_INTERNAL',
        'The audit log could not be written.',
        {},
        { cause },
      );
      for (const pending of batch) pending.reject(this.failure);
      return;
    }
    this.lastHead = { seq: last.seq, hash: last.hash };
    try {
      for (const anchor of this.anchors) await anchor.write(this.lastHead);
    } catch (cause) {
      // The entries are durable but not anchored. Refuse to acknowledge them (the caller treats the action as
      // failed); the next append moves the anchors past them, and verification reports any lag meanwhile.
      const error = new RefineryError(
        'REFINERY_ERR_INTERNAL',
        `The audit entries up to seq ${last.seq} were written, but their head could not be anchored.`,
        {},
        { cause },
      );
      for (const pending of batch) pending.reject(error);
      return;
    }
    for (const [index, pending] of batch.entries()) pending.resolve(entries[index]!);
  }

  /** Gives each pending record its seq and links it to the one before. */
  private chain(batch: readonly Pending[]): AuditEntry[] {
    let seq = this.lastHead?.seq ?? 0;
    let prev = this.lastHead?.hash ?? GENESIS_HASH;
    return batch.map(({ record, at }) => {
      const unsealed = { seq: ++seq, at, ...record, prev };
      const entry: AuditEntry = { ...unsealed, hash: entryHash(unsealed) };
      prev = entry.hash;
      return entry;
    });
  }

  private async writeDurably(bytes: Buffer, firstSeq: number): Promise<void> {
    if (!this.active || this.active.bytes >= this.rotateBytes) {
      await this.handle?.close();
      this.handle = undefined;
      this.active = { name: auditFileName(firstSeq), bytes: 0 };
    }
    if (!this.handle) {
      this.handle = await open(join(this.folder, this.active.name), 'a');
      fsyncDirectory(this.folder);
    }
    let offset = 0;
    while (offset < bytes.length) {
      const { bytesWritten } = await this.handle.write(bytes, offset, bytes.length - offset);
      offset += bytesWritten;
    }
    await this.handle.datasync();
    this.active.bytes += bytes.length;
  }
}

/** What `open` finds at the end of the log before changing anything. */
interface LogEnd {
  /** The last complete entry's seq and hash. */
  readonly head: AuditHead | undefined;
  /** The last file: the one appends continue, and the only one a crash can have torn. */
  readonly activeFile: AuditFile | undefined;
  /** Bytes of the last file up to its last newline, and its full size. */
  readonly completeBytes: number;
  readonly size: number;
}

function readLogEnd(folder: string): LogEnd {
  const files = listAuditFiles(folder);
  const activeFile = files.at(-1);
  if (!activeFile) return { head: undefined, activeFile, completeBytes: 0, size: 0 };
  const { tail, size } = withFile(activeFile.path, 'r', (fd) => ({
    tail: readTail(fd),
    size: statSync(activeFile.path).size,
  }));
  let line = tail.lastLine;
  let where = activeFile;
  if (line === undefined && files.length > 1) {
    // The active file holds no complete line (its first write was cut short): the head is in the one before,
    // which was sealed and must end cleanly.
    where = files[files.length - 2]!;
    const previous = withFile(where.path, 'r', (fd) => ({
      tail: readTail(fd),
      size: statSync(where.path).size,
    }));
    if (previous.tail.completeBytes !== previous.size) {
      throw auditLogBroken(`${where.name} does not end with a complete line, yet it is not the last file.`);
    }
    line = previous.tail.lastLine;
  }
  if (line === undefined) return { head: undefined, activeFile, completeBytes: tail.completeBytes, size };
  const parsed = parseEntryLine(line);
  if ('problem' in parsed) {
    throw auditLogBroken(
      `The last entry in ${where.name} is not valid (${parsed.problem}); run \`refinery audit verify\` to see what changed.`,
    );
  }
  return {
    head: { seq: parsed.entry.seq, hash: parsed.entry.hash },
    activeFile,
    completeBytes: tail.completeBytes,
    size,
  };
}

/** An anchor ahead of the log means entries were removed from its end; one that disagrees, that it was rewritten. */
async function assertAnchorsNotAhead(
  anchors: readonly AuditAnchor[],
  head: AuditHead | undefined,
): Promise<void> {
  for (const anchor of anchors) {
    const anchored = await anchor.read();
    if (!anchored) continue;
    const last = head?.seq ?? 0;
    if (anchored.seq > last) {
      throw auditLogBroken(
        `The audit log ends at seq ${last}, but ${anchor.name} records seq ${anchored.seq}: entries were removed from its end. Run \`refinery audit verify\`.`,
      );
    }
    if (anchored.seq === last && anchored.hash !== head?.hash) {
      throw auditLogBroken(
        `The last audit entry (seq ${last}) does not have the hash ${anchor.name} records: the log was rewritten. Run \`refinery audit verify\`.`,
      );
    }
  }
}

interface TornTail {
  readonly file: string;
  readonly bytes: number;
  readonly sha256: string;
}

/** Cuts a torn last line off the active file (and removes the file if nothing else is in it). */
function repairTornTail(folder: string, end: LogEnd): TornTail | undefined {
  const file = end.activeFile;
  if (!file) return undefined;
  const tornBytes = end.size - end.completeBytes;
  if (tornBytes === 0 && end.size > 0) return undefined;
  if (end.size === 0) {
    // Created, then the crash came before the first write: nothing to record.
    unlinkSync(file.path);
    fsyncDirectory(folder);
    return undefined;
  }
  const fragment = Buffer.alloc(tornBytes);
  withFile(file.path, 'r+', (fd) => {
    readSync(fd, fragment, 0, tornBytes, end.completeBytes);
    ftruncateSync(fd, end.completeBytes);
    fsyncSync(fd);
  });
  if (end.completeBytes === 0) {
    unlinkSync(file.path);
    fsyncDirectory(folder);
  }
  return {
    file: file.name,
    bytes: tornBytes,
    sha256: createHash('sha256').update(fragment).digest('hex'),
  };
}

function activeFileOf(file: AuditFile, rotateBytes: number): ActiveFile | undefined {
  const bytes = statSync(file.path, { throwIfNoEntry: false })?.size;
  return bytes === undefined || bytes >= rotateBytes ? undefined : { name: file.name, bytes };
}

function withFile<T>(path: string, flags: string, work: (fd: number) => T): T {
  const fd = openSync(path, flags);
  try {
    return work(fd);
  } finally {
    closeSync(fd);
  }
}

import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { type FileHandle, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { RefineryError } from '../../core/errors.js';
import { fsyncDirectory } from '../../core/fsync-directory.js';
import { VAULT_ERROR_CODES } from './vault-errors.js';

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * A small NDJSON file that only ever grows by durable appends or is replaced whole, for the vault's keys and
 * suppression list. `append` resolves once the line is written and fdatasync'ed; appends that arrive while a
 * sync runs share the next one. `rewrite` replaces the file atomically (temp file, fsync, rename, fsync of the
 * folder), so a crash leaves either the old file or the new one. Every operation runs in order through one
 * queue, so an append never lands in a file a rewrite is replacing.
 *
 * One process writes a folder's vault files: several processes may append safely (O_APPEND), but a rewrite in
 * one can lose a line another appends at the same instant.
 */
export class DurableNdjsonFile {
  private pending: string[] = [];
  private waiters: Waiter[] = [];
  private flushScheduled = false;
  private queue: Promise<unknown> = Promise.resolve();
  private failure: RefineryError | undefined;
  private closed = false;
  /** How many times appended lines were synced, for tests of group commit. */
  syncs = 0;
  /** The file as this process last saw it: its inode, and its size counting our own appends since. */
  private known = { ino: -1n, size: 0n };

  private constructor(
    readonly path: string,
    private handle: FileHandle,
  ) {}

  /**
   * Opens the file, creating it and its folder (mode 0700) when missing. A last line without its newline was
   * torn by a crash before its append resolved, so nothing relied on it: it is cut off.
   */
  static async open(path: string): Promise<{ file: DurableNdjsonFile; lines: string[] }> {
    const folder = dirname(path);
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    const existing = await readFile(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (existing && existing.length > 0 && existing[existing.length - 1] !== NEWLINE) {
      const handle = await open(path, 'r+');
      try {
        await handle.truncate(existing.lastIndexOf(NEWLINE) + 1);
        await handle.datasync();
      } finally {
        await handle.close();
      }
    }
    const handle = await open(path, 'a', 0o600);
    if (!existing) fsyncDirectory(folder);
    const file = new DurableNdjsonFile(path, handle);
    return { file, lines: await file.linesOf(existing ?? Buffer.alloc(0)) };
  }

  /** Appends one line (without its newline); resolves once it is on disk. */
  append(line: string): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(closedError(this.path));
    return new Promise<void>((resolve, reject) => {
      this.pending.push(line);
      this.waiters.push({ resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        void this.enqueue(() => this.flush()).catch(() => undefined);
      }
    });
  }

  /**
   * Replaces the file with the lines `keep` accepts, read afresh from disk (so lines other processes appended
   * are judged too), and returns the lines it removed. Leaves the file untouched when nothing is removed.
   */
  async rewrite(keep: (line: string) => boolean): Promise<string[]> {
    const { removed } = await this.transform((line) => (keep(line) ? line : undefined));
    return removed;
  }

  /**
   * Replaces the file with each line as `change` returns it (undefined drops the line), read afresh from disk
   * like `rewrite`. Leaves the file untouched when no line changes; returns the lines dropped and how many were
   * replaced.
   */
  transform(change: (line: string) => string | undefined): Promise<{ removed: string[]; replaced: number }> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(closedError(this.path));
    return this.enqueue(() => this.replaceFile(change));
  }

  /** All the file's lines when another process appended to or replaced it since we last read it, else undefined. */
  readIfChanged(): Promise<string[] | undefined> {
    return this.enqueue(async () => {
      const info = await stat(this.path, { bigint: true });
      if (info.ino === this.known.ino && info.size === this.known.size) return undefined;
      return this.linesOf(await readFile(this.path));
    });
  }

  /** Waits for queued work and closes the file; later appends are refused. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    await this.handle.close();
  }

  private enqueue<T>(job: () => Promise<T>): Promise<T> {
    const run = this.queue.then(job);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async flush(): Promise<void> {
    this.flushScheduled = false;
    const lines = this.pending;
    const waiters = this.waiters;
    this.pending = [];
    this.waiters = [];
    if (lines.length === 0) return;
    try {
      if (this.failure) throw this.failure;
      const bytes = Buffer.from(`${lines.join('\n')}\n`);
      await writeAll(this.handle, bytes);
      await this.handle.datasync();
      this.known.size += BigInt(bytes.length);
      this.syncs++;
      for (const waiter of waiters) waiter.resolve();
    } catch (cause) {
      // A failed write or sync leaves the file in an unknown state: refuse everything after it rather than
      // hand out a key whose record may not be on disk.
      const failure = this.fail(cause);
      for (const waiter of waiters) waiter.reject(failure);
    }
  }

  private async replaceFile(
    change: (line: string) => string | undefined,
  ): Promise<{ removed: string[]; replaced: number }> {
    const text = (await readFile(this.path)).toString('utf8');
    const kept: string[] = [];
    const removed: string[] = [];
    let replaced = 0;
    for (const line of completeLines(text)) {
      const next = change(line);
      if (next === undefined) removed.push(line);
      else kept.push(next);
      if (next !== undefined && next !== line) replaced++;
    }
    if (removed.length === 0 && replaced === 0) return { removed, replaced };

    const temp = `${this.path}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`;
    try {
      const handle = await open(temp, 'wx', 0o600);
      try {
        if (kept.length > 0) await writeAll(handle, Buffer.from(`${kept.join('\n')}\n`));
        await handle.datasync();
      } finally {
        await handle.close();
      }
    } catch (cause) {
      // The original file is untouched: report the failure without refusing further appends.
      await unlink(temp).catch(() => undefined);
      throw new RefineryError(
        VAULT_ERROR_CODES.writeFailed,
        `Could not rewrite ${this.path}.`,
        {},
        { cause },
      );
    }
    try {
      await this.handle.close();
      await rename(temp, this.path);
      fsyncDirectory(dirname(this.path));
      this.handle = await open(this.path, 'a', 0o600);
      const info = await this.handle.stat({ bigint: true });
      this.known = { ino: info.ino, size: info.size };
    } catch (cause) {
      throw this.fail(cause);
    }
    return { removed, replaced };
  }

  private fail(cause: unknown): RefineryError {
    this.failure ??= new RefineryError(
      VAULT_ERROR_CODES.writeFailed,
      `Could not write ${this.path}; restart once the disk is healthy.`,
      {},
      { cause },
    );
    for (const waiter of this.waiters) waiter.reject(this.failure);
    this.pending = [];
    this.waiters = [];
    return this.failure;
  }

  /** The complete lines of what was read, remembering which file and how much of it this process has seen. */
  private async linesOf(bytes: Buffer): Promise<string[]> {
    const end = bytes.lastIndexOf(NEWLINE) + 1;
    const info = await stat(this.path, { bigint: true });
    // Bytes past the last newline belong to another process's append in progress: read them next time.
    this.known = { ino: info.ino, size: BigInt(end) };
    return completeLines(bytes.toString('utf8', 0, end));
  }
}

const NEWLINE = 0x0a;

/** The non-empty lines of text that end with a newline; a torn last line is left out. */
function completeLines(text: string): string[] {
  const end = text.lastIndexOf('\n');
  if (end < 0) return [];
  return text
    .slice(0, end)
    .split('\n')
    .filter((line) => line.length > 0);
}

async function writeAll(handle: FileHandle, bytes: Buffer): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset);
    offset += bytesWritten;
  }
}

function closedError(path: string): RefineryError {
  return new RefineryError('REFINERY_ERR_SHUTTING_DOWN', `${path} is closed.`);
}

import {
  closeSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import { RefineryError } from '../../core/errors.js';
import { fsyncDirectory } from '../../core/fsync-directory.js';
import { checksumLines } from './line-checksum.js';
import {
  LOADABLE_COPY_SUFFIX,
  parseSegmentName,
  type SegmentFile,
  segmentName,
  TRIAL_SUFFIX,
} from './segment-files.js';

export interface WriteAheadLogOptions {
  readonly dir: string;
  /** The active segment is sealed once it grows past this size. */
  readonly segmentBytes: number;
  /** Appends are refused with REFINERY_ERR_WAL_FULL while the log holds more than this. */
  readonly maxBytes: number;
  /** Sequence numbers at or below this were already loaded; new segments must start above it. */
  readonly loadedSequence: number;
}

const NEWLINE = 0x0a;

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * An append-only log of NDJSON segments. `append` resolves only after the bytes are written and
 * fdatasync'ed; appends that arrive while a sync is running share the next one (group commit), which is
 * what lets many concurrent requests be durable at the cost of few syncs.
 */
export class WriteAheadLog {
  private handle: FileHandle | undefined;
  private activeSequence: number;
  private activeBytes = 0;
  private totalBytes = 0;
  private pending: Buffer[] = [];
  private waiters: Waiter[] = [];
  private flushing: Promise<void> | undefined;
  private sealRequested = false;
  private failure: unknown;
  private closed = false;
  syncs = 0;

  private constructor(
    private readonly options: WriteAheadLogOptions,
    nextSequence: number,
    existingBytes: number,
  ) {
    this.activeSequence = nextSequence;
    this.totalBytes = existingBytes;
  }

  /**
   * Opens the log folder, first repairing what a crash may have left: an open segment's torn last line
   * (written but never acknowledged) is cut off and the segment sealed, so the loader can read it.
   */
  static async open(options: WriteAheadLogOptions): Promise<WriteAheadLog> {
    mkdirSync(options.dir, { recursive: true });
    let highest = options.loadedSequence;
    let bytes = 0;
    removeLoaderLeftovers(options.dir);
    for (const segment of listSegments(options.dir)) {
      if (!segment.sealed) recoverOpenSegment(segment);
      highest = Math.max(highest, segment.sequence);
    }
    for (const segment of listSegments(options.dir)) bytes += statSync(segment.file).size;
    fsyncDirectory(options.dir);
    // Above anything named like a segment, even a folder, so the new active segment never collides with it.
    for (const name of readdirSync(options.dir)) {
      highest = Math.max(highest, parseSegmentName(options.dir, name)?.sequence ?? 0);
    }
    const log = new WriteAheadLog(options, highest + 1, bytes);
    await log.openActive();
    return log;
  }

  /**
   * Appends complete NDJSON lines (each ending in "\n"; a line may span chunks); resolves once they are durable.
   * Each line is written with a checksum (see line-checksum.ts).
   */
  append(lines: string | readonly Buffer[]): Promise<void> {
    if (this.closed)
      return Promise.reject(new RefineryError('REFINERY_ERR_SHUTTING_DOWN', 'The log is closed.'));
    if (this.failure) return Promise.reject(this.failure);
    if (this.totalBytes > this.options.maxBytes) {
      return Promise.reject(
        new RefineryError(
          'REFINERY_ERR_WAL_FULL',
          `The write-ahead log holds ${this.totalBytes} bytes, over the limit of ${this.options.maxBytes}; the loader is behind.`,
          { limit: this.options.maxBytes },
        ),
      );
    }
    return new Promise<void>((resolve, reject) => {
      if (typeof lines === 'string') this.pending.push(Buffer.from(lines));
      else this.pending.push(...lines);
      // An append ends its last line, so that it cannot run into the next append's first line.
      const last = this.pending[this.pending.length - 1];
      if (last && last.length > 0 && last[last.length - 1] !== NEWLINE) this.pending.push(Buffer.from('\n'));
      this.waiters.push({ resolve, reject });
      this.flushing ??= this.flushLoop();
    });
  }

  /** Seals the active segment if it holds anything, so the loader can take it. */
  async sealActive(): Promise<void> {
    if (this.activeBytes === 0 || this.closed) return;
    this.sealRequested = true;
    this.flushing ??= this.flushLoop();
    await this.flushing;
  }

  /** Sealed segments, oldest first. */
  sealedSegments(): SegmentFile[] {
    return listSegments(this.options.dir).filter((segment) => segment.sealed);
  }

  /** Deletes a segment the store has loaded. */
  removeSegment(segment: SegmentFile): void {
    const size = statSync(segment.file, { throwIfNoEntry: false })?.size ?? 0;
    unlinkSync(segment.file);
    this.totalBytes -= size;
  }

  /** The log's folder. */
  get dir(): string {
    return this.options.dir;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.flushing) await this.flushing;
    await this.handle?.close();
    this.handle = undefined;
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.pending.length > 0 || this.sealRequested) {
        if (this.pending.length > 0) await this.flushPending();
        if (this.sealRequested || this.activeBytes >= this.options.segmentBytes) await this.rotate();
      }
    } finally {
      this.flushing = undefined;
    }
  }

  private async flushPending(): Promise<void> {
    // Each line gets its checksum as the group is put together, so the loader can tell a line that changed on
    // disk from one that did not (see line-checksum.ts).
    const chunk = checksumLines(this.pending);
    const waiters = this.waiters;
    this.pending = [];
    this.waiters = [];
    try {
      const handle = this.handle!;
      let offset = 0;
      while (offset < chunk.length) {
        const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset);
        offset += bytesWritten;
      }
      await handle.datasync();
      this.syncs++;
      this.activeBytes += chunk.length;
      this.totalBytes += chunk.length;
      for (const waiter of waiters) waiter.resolve();
    } catch (cause) {
      // A failed write or sync leaves the file in an unknown state: refuse further appends rather than
      // acknowledge anything that may not be durable.
      this.failure = new RefineryError(
        'REFINERY_ERR_INTERNAL',
        'The write-ahead log could not be written.',
        {},
        { cause },
      );
      for (const waiter of waiters) waiter.reject(this.failure);
      for (const waiter of this.waiters) waiter.reject(this.failure);
      this.pending = [];
      this.waiters = [];
    }
  }

  private async rotate(): Promise<void> {
    this.sealRequested = false;
    if (this.activeBytes === 0 || this.failure) return;
    await this.handle!.close();
    const from = join(this.options.dir, segmentName(this.activeSequence, false));
    renameSync(from, join(this.options.dir, segmentName(this.activeSequence, true)));
    this.activeSequence++;
    await this.openActive();
  }

  private async openActive(): Promise<void> {
    this.handle = await open(join(this.options.dir, segmentName(this.activeSequence, false)), 'a');
    this.activeBytes = 0;
    fsyncDirectory(this.options.dir);
  }
}

// Anything else in the folder (a stray file, a folder named like a segment) is not the log's and is left alone.
function listSegments(dir: string): SegmentFile[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => parseSegmentName(dir, entry.name))
    .filter((segment): segment is SegmentFile => segment !== undefined)
    .sort((a, b) => a.sequence - b.sequence);
}

/** Copies and trial files a load interrupted by a crash left beside their segments; a new load rewrites them. */
function removeLoaderLeftovers(dir: string): void {
  for (const name of readdirSync(dir)) {
    if (!/^seg-\d{12,15}\.ndjson\./.test(name)) continue;
    if (name.endsWith(LOADABLE_COPY_SUFFIX) || name.endsWith(TRIAL_SUFFIX))
      rmSync(join(dir, name), { force: true });
  }
}

function recoverOpenSegment(segment: SegmentFile): void {
  const fd = openSync(segment.file, 'r+');
  try {
    const size = fstatSync(fd).size;
    const keep = lengthThroughLastNewline(fd, size);
    if (keep < size) ftruncateSync(fd, keep);
  } finally {
    closeSync(fd);
  }
  if (statSync(segment.file).size === 0) {
    unlinkSync(segment.file);
    return;
  }
  renameSync(segment.file, segment.file.replace(/\.open$/, ''));
}

// Reads backwards in blocks to find the end of the last complete line.
function lengthThroughLastNewline(fd: number, size: number): number {
  const block = Buffer.alloc(64 * 1024);
  let end = size;
  while (end > 0) {
    const start = Math.max(0, end - block.length);
    const length = end - start;
    readSync(fd, block, 0, length, start);
    const index = block.subarray(0, length).lastIndexOf(10);
    if (index >= 0) return start + index + 1;
    end = start;
  }
  return 0;
}

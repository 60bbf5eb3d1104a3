import { fstatSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';

/** The audit log's folder inside a workspace's data folder. */
export function auditFolder(dataDir: string): string {
  return join(dataDir, 'audit');
}

export interface AuditFile {
  /** The seq of the first entry the file holds; its name says so. */
  readonly firstSeq: number;
  readonly name: string;
  readonly path: string;
}

const NAME = /^audit-(\d{12})\.ndjson$/;

/** `audit-000000000001.ndjson`: named by its first seq, so files sort in chain order and a renamed one shows. */
export function auditFileName(firstSeq: number): string {
  return `audit-${String(firstSeq).padStart(12, '0')}.ndjson`;
}

/** The log's files in chain order (an absent folder has none). */
export function listAuditFiles(folder: string): AuditFile[] {
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return names
    .map((name) => {
      const match = NAME.exec(name);
      return match ? { firstSeq: Number(match[1]), name, path: join(folder, name) } : undefined;
    })
    .filter((file): file is AuditFile => file !== undefined)
    .sort((a, b) => a.firstSeq - b.firstSeq);
}

/** A file's text cut into lines; `torn` is what follows the last newline (a write cut short), if anything. */
export function splitLines(text: string): { lines: string[]; torn: string | undefined } {
  const lines = text.split('\n');
  const last = lines.pop() ?? '';
  return { lines, torn: last === '' ? undefined : last };
}

/** The end of a file, as the log needs it on open. */
export interface FileTail {
  /** Bytes up to and including the last newline: what survives a repair. */
  readonly completeBytes: number;
  /** The last complete line without its newline, if the file has one. */
  readonly lastLine: string | undefined;
  /** The byte offset at which that line starts. */
  readonly lastLineStart: number;
}

/** Reads backwards from the end of an open file until it has the last complete line. */
export function readTail(fd: number): FileTail {
  const size = fstatSync(fd).size;
  let window = 64 * 1024;
  for (;;) {
    const start = Math.max(0, size - window);
    const buffer = Buffer.alloc(size - start);
    readSync(fd, buffer, 0, buffer.length, start);
    const lastNewline = buffer.lastIndexOf(10);
    if (lastNewline < 0 && start === 0) return { completeBytes: 0, lastLine: undefined, lastLineStart: 0 };
    if (lastNewline >= 0) {
      const previousNewline = lastNewline === 0 ? -1 : buffer.lastIndexOf(10, lastNewline - 1);
      if (previousNewline >= 0 || start === 0) {
        const lineStart = previousNewline + 1;
        return {
          completeBytes: start + lastNewline + 1,
          lastLine: buffer.subarray(lineStart, lastNewline).toString('utf8'),
          lastLineStart: start + lineStart,
        };
      }
    }
    window *= 2;
  }
}

import { isUtf8 } from 'node:buffer';
import { crc32 } from 'node:zlib';

/**
 * Per-line checksums of the write-ahead log. A line `{…}` is written as `{…,"#":"<crc32 hex>"}`: the CRC-32
 * covers the line's original bytes, and the line stays one JSON object that every engine's reader accepts
 * (DuckDB's `read_ndjson` with declared columns ignores the extra member). Lines written before checksums
 * existed have no suffix and are still read; they are only checked for being JSON at all.
 *
 * The writer never parses JSON: lines end at "\n" (JSON escapes line breaks inside strings) and the checksum
 * takes the place of the final `}`.
 */

const NEWLINE = 0x0a;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACE = 0x7b;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const CLOSE = Buffer.from('}');
const SUFFIX_HEAD = Buffer.from(',"#":"');
/** `,"#":"` + 8 hex digits + `"}`. */
export const CHECKSUM_SUFFIX_BYTES = SUFFIX_HEAD.length + 8 + 2;

/** Why a line cannot be loaded as it is. Stable strings: they are stored with the line and shown to people. */
export type LineDamage =
  | 'checksum_mismatch'
  | 'invalid_utf8'
  | 'lone_surrogate'
  | 'not_json'
  | 'engine_refused';

export type LineVerdict =
  | { readonly ok: true; readonly checksummed: boolean }
  | { readonly ok: false; readonly damage: LineDamage; readonly reason: string };

/**
 * Adds a checksum to every line of `chunks` (complete NDJSON lines, which may span chunks or share one). The
 * chunks' bytes are not copied: the result holds slices of them and a small suffix per line. An unterminated
 * last line is ended here, so that it cannot run into the next append's first line.
 */
export function withLineChecksums(chunks: readonly Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  let line: Buffer[] = [];
  let crc = 0;
  let length = 0;
  const endLine = () => {
    out.push(...closeLine(line, length, crc));
    line = [];
    crc = 0;
    length = 0;
  };
  for (const chunk of chunks) {
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, start);
      const end = newline === -1 ? chunk.length : newline;
      if (end > start) {
        const piece = chunk.subarray(start, end);
        crc = crc32(piece, crc);
        length += piece.length;
        line.push(piece);
      }
      if (newline === -1) break;
      endLine();
      start = newline + 1;
    }
  }
  if (length > 0) endLine();
  return out;
}

/** The pieces of one line (without its "\n") followed by its checksum suffix and "\n". */
function closeLine(pieces: Buffer[], length: number, crc: number): Buffer[] {
  if (!checksummable(pieces, length)) return [...pieces, Buffer.from('\n')];
  // Drop the final `}`: the suffix closes the object again.
  const last = pieces[pieces.length - 1]!;
  const trimmed = last.length === 1 ? pieces.slice(0, -1) : [...pieces.slice(0, -1), last.subarray(0, -1)];
  const suffix = Buffer.allocUnsafe(CHECKSUM_SUFFIX_BYTES + 1);
  SUFFIX_HEAD.copy(suffix, 0);
  writeHex(suffix, SUFFIX_HEAD.length, crc);
  suffix[CHECKSUM_SUFFIX_BYTES - 2] = QUOTE;
  suffix[CHECKSUM_SUFFIX_BYTES - 1] = CLOSE_BRACE;
  suffix[CHECKSUM_SUFFIX_BYTES] = NEWLINE;
  trimmed.push(suffix);
  return trimmed;
}

// An object with at least one member, ending in `}`: `{}` or a line that is not an object stays as it is.
function checksummable(pieces: Buffer[], length: number): boolean {
  if (length < 3) return false;
  const last = pieces[pieces.length - 1]!;
  return last[last.length - 1] === CLOSE_BRACE && byteBeforeLast(pieces) !== OPEN_BRACE;
}

function byteBeforeLast(pieces: Buffer[]): number | undefined {
  const last = pieces[pieces.length - 1]!;
  if (last.length >= 2) return last[last.length - 2];
  const previous = pieces[pieces.length - 2];
  return previous?.[previous.length - 1];
}

const HEX = Buffer.from('0123456789abcdef');

function writeHex(target: Buffer, offset: number, value: number): void {
  for (let i = 7; i >= 0; i--) {
    target[offset + i] = HEX[value & 0xf]!;
    value >>>= 4;
  }
}

/** The checksum a line carries, or undefined when it has none (a line from before checksums). */
function carriedChecksum(line: Buffer): number | undefined {
  const at = line.length - CHECKSUM_SUFFIX_BYTES;
  if (at < 1 || line[line.length - 1] !== CLOSE_BRACE || line[line.length - 2] !== QUOTE) return undefined;
  if (line.compare(SUFFIX_HEAD, 0, SUFFIX_HEAD.length, at, at + SUFFIX_HEAD.length) !== 0) return undefined;
  let value = 0;
  for (let i = at + SUFFIX_HEAD.length; i < line.length - 2; i++) {
    const digit = HEX.indexOf(line[i]!);
    if (digit < 0) return undefined;
    value = value * 16 + digit;
  }
  return value;
}

/** A line's bytes as they were before the writer added its checksum (the line itself when it has none). */
export function withoutChecksum(line: Buffer): Buffer {
  if (carriedChecksum(line) === undefined) return line;
  return Buffer.concat([line.subarray(0, line.length - CHECKSUM_SUFFIX_BYTES), CLOSE]);
}

/**
 * Whether one line (without its "\n") can be handed to the store: its checksum matches, it is UTF-8, and it
 * holds no lone surrogate escape (`"\ud800"`), which JavaScript accepts and DuckDB refuses. A line without a
 * checksum (written by an older version) must also parse as a JSON object; a checksummed one is not parsed,
 * since the collector wrote it from JSON it had parsed.
 */
export function verifyLine(line: Buffer): LineVerdict {
  const carried = carriedChecksum(line);
  if (carried !== undefined) {
    const body = line.length - CHECKSUM_SUFFIX_BYTES;
    const actual = crc32(CLOSE, crc32(line.subarray(0, body)));
    if (actual !== carried) {
      return {
        ok: false,
        damage: 'checksum_mismatch',
        reason: `The line's checksum does not match its bytes (carried ${hex(carried)}, computed ${hex(actual)}): it changed after it was written.`,
      };
    }
  }
  if (!isUtf8(line)) {
    return { ok: false, damage: 'invalid_utf8', reason: 'The line is not valid UTF-8.' };
  }
  const surrogate = loneSurrogateAt(line);
  if (surrogate !== undefined) {
    return {
      ok: false,
      damage: 'lone_surrogate',
      reason: `The line holds a lone surrogate escape (${line.toString('latin1', surrogate, surrogate + 6)}) at byte ${surrogate}: not well-formed Unicode.`,
    };
  }
  if (carried === undefined) {
    const problem = jsonObjectProblem(line);
    if (problem) return { ok: false, damage: 'not_json', reason: problem };
  }
  return { ok: true, checksummed: carried !== undefined };
}

function hex(value: number): string {
  return value.toString(16).padStart(8, '0');
}

function jsonObjectProblem(line: Buffer): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line.toString('utf8'));
  } catch (error) {
    return `The line is not JSON: ${error instanceof Error ? error.message : String(error)}`;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return 'The line is JSON but not an object.';
  }
  return undefined;
}

/**
 * The byte offset of the first `\uD800`–`\uDFFF` escape that is not half of a high-low pair, or undefined.
 * An escaped backslash (`\\ud800`, the text "\ud800") is not an escape and is skipped.
 */
export function loneSurrogateAt(line: Buffer): number | undefined {
  let at = line.indexOf('\\u');
  while (at !== -1) {
    if (!escapedBackslash(line, at)) {
      const unit = escapeUnit(line, at);
      if (unit !== undefined && unit >= 0xd800 && unit <= 0xdfff) {
        if (unit >= 0xdc00) return at;
        const low = line[at + 6] === BACKSLASH ? escapeUnit(line, at + 6) : undefined;
        if (low === undefined || low < 0xdc00 || low > 0xdfff) return at;
        at += 12;
        at = line.indexOf('\\u', at);
        continue;
      }
    }
    at = line.indexOf('\\u', at + 2);
  }
  return undefined;
}

// Whether the backslash at `at` is itself escaped: an odd number of backslashes precedes it.
function escapedBackslash(line: Buffer, at: number): boolean {
  let count = 0;
  for (let i = at - 1; i >= 0 && line[i] === BACKSLASH; i--) count++;
  return count % 2 === 1;
}

/** The UTF-16 unit of a `\uXXXX` escape starting at `at`, or undefined when it is not one. */
function escapeUnit(line: Buffer, at: number): number | undefined {
  if (line[at] !== BACKSLASH || line[at + 1] !== 0x75 || at + 6 > line.length) return undefined;
  let value = 0;
  for (let i = at + 2; i < at + 6; i++) {
    const c = line[i]!;
    const digit =
      c >= 0x30 && c <= 0x39
        ? c - 0x30
        : c >= 0x61 && c <= 0x66
          ? c - 0x57
          : c >= 0x41 && c <= 0x46
            ? c - 0x37
            : -1;
    if (digit < 0) return undefined;
    value = value * 16 + digit;
  }
  return value;
}

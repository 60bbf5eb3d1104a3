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
 * The lines of `chunks` (complete NDJSON lines, each ending in "\n"; a line may span chunks) with a checksum
 * each, in one new buffer. The chunks are copied once, as concatenating them would; each line is checksummed
 * where it then lies, with one native call, and its final `}` overwritten by the suffix. A last line without its
 * "\n" gets one.
 */
export function checksumLines(chunks: readonly Buffer[]): Buffer {
  let size = 0;
  let lines = 1;
  for (const chunk of chunks) {
    size += chunk.length;
    for (let at = chunk.indexOf(NEWLINE); at !== -1; at = chunk.indexOf(NEWLINE, at + 1)) lines++;
  }
  // Room for a suffix per line (an unterminated last line included) and its "\n".
  const out = Buffer.allocUnsafe(size + lines * CHECKSUM_SUFFIX_BYTES + 1);
  let written = 0;
  let lineStart = 0;
  for (const chunk of chunks) {
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, start);
      const end = newline === -1 ? chunk.length : newline;
      written += chunk.copy(out, written, start, end);
      if (newline === -1) break;
      written = closeLine(out, lineStart, written);
      lineStart = written;
      start = newline + 1;
    }
  }
  if (written > lineStart) written = closeLine(out, lineStart, written);
  return out.subarray(0, written);
}

/** Ends the line `out[start, end)`: its checksum in place of the final `}` when it has one, then "\n". */
function closeLine(out: Buffer, start: number, end: number): number {
  let written = end;
  if (checksummable(out, start, end)) {
    const crc = crc32(out.subarray(start, end));
    // The suffix takes the place of the final `}` and closes the object again.
    written = writeSuffix(out, end - 1, crc);
  }
  out[written] = NEWLINE;
  return written + 1;
}

// An object with at least one member, ending in `}`: `{}`, a blank line or a line that is not an object stays as
// it is (the loader sets such a line aside, if it is not JSON).
function checksummable(bytes: Buffer, start: number, end: number): boolean {
  return end - start >= 3 && bytes[end - 1] === CLOSE_BRACE && bytes[end - 2] !== OPEN_BRACE;
}

function writeSuffix(target: Buffer, offset: number, crc: number): number {
  SUFFIX_HEAD.copy(target, offset);
  let at = offset + SUFFIX_HEAD.length;
  for (let i = 7; i >= 0; i--) {
    target[at + i] = HEX[crc & 0xf]!;
    crc >>>= 4;
  }
  at += 8;
  target[at++] = QUOTE;
  target[at++] = CLOSE_BRACE;
  return at;
}

const HEX = Buffer.from('0123456789abcdef');

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
 * Escapes are read left to right, two bytes at a time, so an escaped backslash (`\\ud800`, the text "\ud800")
 * is consumed whole and never taken for the start of an escape.
 */
export function loneSurrogateAt(line: Buffer): number | undefined {
  let at = line.indexOf(BACKSLASH);
  while (at !== -1) {
    const unit = escapeUnit(line, at);
    if (unit !== undefined && unit >= 0xd800 && unit <= 0xdfff) {
      if (unit >= 0xdc00) return at;
      const low = escapeUnit(line, at + 6);
      if (low === undefined || low < 0xdc00 || low > 0xdfff) return at;
      at += 6;
    }
    at = line.indexOf(BACKSLASH, at + 2);
  }
  return undefined;
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

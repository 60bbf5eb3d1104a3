import { type LineDamage, verifyLine } from './line-checksum.js';

/** One line of a segment as the loader hands it on: its 1-based number in the file and its bytes (no "\n"). */
export interface SegmentLine {
  readonly lineNo: number;
  readonly bytes: Buffer;
}

/** A line the loader sets aside instead of loading, with why. */
export interface DamagedSegmentLine extends SegmentLine {
  readonly damage: LineDamage;
  readonly reason: string;
}

export interface CheckedSegment {
  readonly good: readonly SegmentLine[];
  readonly damaged: readonly DamagedSegmentLine[];
}

const NEWLINE = 0x0a;

/**
 * Splits a segment into lines and verifies each (`verifyLine`). Blank lines are skipped; an unterminated last
 * line (a sealed segment cut short on disk) is a line like any other, and is set aside when it is torn.
 */
export function checkSegmentLines(bytes: Buffer): CheckedSegment {
  const good: SegmentLine[] = [];
  const damaged: DamagedSegmentLine[] = [];
  let start = 0;
  let lineNo = 0;
  while (start < bytes.length) {
    const newline = bytes.indexOf(NEWLINE, start);
    const end = newline === -1 ? bytes.length : newline;
    lineNo++;
    const line = bytes.subarray(start, end);
    start = end + 1;
    if (isBlank(line)) continue;
    const verdict = verifyLine(line);
    if (verdict.ok) good.push({ lineNo, bytes: line });
    else damaged.push({ lineNo, bytes: line, damage: verdict.damage, reason: verdict.reason });
  }
  return { good, damaged };
}

function isBlank(line: Buffer): boolean {
  for (const byte of line) {
    if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0d) return false;
  }
  return true;
}

/** The lines as NDJSON file content. */
export function linesText(lines: readonly SegmentLine[]): Buffer {
  const parts: Buffer[] = [];
  for (const line of lines) parts.push(line.bytes, NEWLINE_BYTES);
  return Buffer.concat(parts);
}

const NEWLINE_BYTES = Buffer.from('\n');

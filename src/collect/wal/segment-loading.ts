import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { BatchLoadReport, DamagedLineInput, EventBatch, Store } from '../../store/store.js';
import { LOADABLE_COPY_SUFFIX, type SegmentFile, TRIAL_SUFFIX } from './segment-files.js';
import {
  type CheckedSegment,
  checkSegmentLines,
  type DamagedSegmentLine,
  linesText,
  type SegmentLine,
} from './segment-lines.js';

export interface SegmentLoadOptions {
  readonly stream: string;
  readonly dedupeWindowHours: number;
}

export interface SegmentLoadReport extends BatchLoadReport {
  /** Lines of this segment set aside instead of loaded (0 when it was already loaded). */
  readonly setAside: number;
}

/** How much of an engine's error a set-aside line keeps as its reason. */
const REASON_CHARS = 500;

/**
 * Loads one sealed segment so that no line in it can stop it: every line is verified first (checksum, UTF-8,
 * lone surrogates, JSON for lines without a checksum) and a bad one is set aside (kept in the store with its
 * reason, in the same load) while the rest is loaded. If the engine still refuses the rest, the refused lines
 * are found by bisection with `checkBatch` and set aside too, with the engine's error as their reason. A
 * failure that no line explains (the store is unwell) is thrown, and the segment is retried later.
 *
 * Exactly once: the store records the set-aside lines with the segment's sequence (one transaction on DuckDB,
 * rows keyed by their place in the segment on ClickHouse), and the search is deterministic, so a reload after
 * a crash sets aside the same lines.
 */
export async function loadSegmentSettingAside(
  store: Store,
  segment: SegmentFile,
  options: SegmentLoadOptions,
): Promise<SegmentLoadReport> {
  const base = {
    stream: options.stream,
    sequence: segment.sequence,
    dedupeWindowHours: options.dedupeWindowHours,
  };
  // A segment whose commit happened just before a crash is still on disk: nothing to verify.
  if ((await store.events.lastLoadedSequence(options.stream)) >= segment.sequence) {
    const report = await store.events.loadBatch({ ...base, file: segment.file });
    return { ...report, setAside: 0 };
  }
  const checked = checkSegmentLines(readFileSync(segment.file));
  try {
    return await loadLines(store, segment, base, checked);
  } catch (error) {
    const refused = await findRefusedLines(store, segment, base, checked.good, error);
    const refusedNumbers = new Set(refused.map((line) => line.lineNo));
    return loadLines(store, segment, base, {
      good: checked.good.filter((line) => !refusedNumbers.has(line.lineNo)),
      damaged: [...checked.damaged, ...refused].sort((a, b) => a.lineNo - b.lineNo),
    });
  }
}

export type BatchBase = Omit<EventBatch, 'file' | 'damaged'>;

async function loadLines(
  store: Store,
  segment: SegmentFile,
  base: BatchBase,
  checked: CheckedSegment,
): Promise<SegmentLoadReport> {
  if (checked.damaged.length === 0) {
    const report = await store.events.loadBatch({ ...base, file: segment.file });
    return { ...report, setAside: 0 };
  }
  // The engine reads the good lines from a copy beside the segment (a folder it may read); the segment itself
  // stays as it was until the load commits, so a crash repeats exactly this.
  const copy = `${segment.file}${LOADABLE_COPY_SUFFIX}`;
  writeFileSync(copy, linesText(checked.good));
  try {
    const report = await store.events.loadBatch({
      ...base,
      file: copy,
      damaged: checked.damaged.map(damagedInputOf),
    });
    return { ...report, setAside: report.alreadyLoaded ? 0 : checked.damaged.length };
  } finally {
    rmSync(copy, { force: true });
  }
}

function damagedInputOf(line: DamagedSegmentLine): DamagedLineInput {
  return { lineNo: line.lineNo, damage: line.damage, reason: line.reason, raw: line.bytes };
}

/**
 * The lines the engine refuses, found by loading halves with `checkBatch` (which keeps nothing). Throws
 * `failure` when the content does not explain it: an empty segment fails too (the store is unwell), or all
 * good lines together pass (the failure was passing).
 */
async function findRefusedLines(
  store: Store,
  segment: SegmentFile,
  base: BatchBase,
  lines: readonly SegmentLine[],
  failure: unknown,
): Promise<DamagedSegmentLine[]> {
  const trialFile = `${segment.file}${TRIAL_SUFFIX}`;
  const trial = (subset: readonly SegmentLine[]) => engineRefusal(store, base, trialFile, subset);
  try {
    if ((await trial([])) !== undefined) throw failure;
    const whole = await trial(lines);
    if (whole === undefined) throw failure;
    const refused = await bisect(lines, whole, trial);
    // A store that failed half-way through the search would have blamed good lines.
    if ((await trial([])) !== undefined) throw failure;
    return refused;
  } finally {
    rmSync(trialFile, { force: true });
  }
}

/**
 * What the engine says when loading `lines` (written to `file`, in a folder the store may read), or undefined
 * when it would load them. Nothing is kept either way.
 */
export async function engineRefusal(
  store: Store,
  base: BatchBase,
  file: string,
  lines: readonly SegmentLine[],
): Promise<string | undefined> {
  writeFileSync(file, linesText(lines));
  try {
    await store.events.checkBatch({ ...base, file });
    return undefined;
  } catch (error) {
    return reasonOf(error);
  }
}

/** Narrows `lines` (which fail together with `reason`) down to the lines that fail on their own. */
async function bisect(
  lines: readonly SegmentLine[],
  reason: string,
  trial: (subset: readonly SegmentLine[]) => Promise<string | undefined>,
): Promise<DamagedSegmentLine[]> {
  if (lines.length === 1) return [{ ...lines[0]!, damage: 'engine_refused', reason }];
  const middle = Math.ceil(lines.length / 2);
  const halves = [lines.slice(0, middle), lines.slice(middle)];
  const refused: DamagedSegmentLine[] = [];
  let explained = false;
  for (const half of halves) {
    const failed = await trial(half);
    if (failed === undefined) continue;
    explained = true;
    refused.push(...(await bisect(half, failed, trial)));
  }
  if (explained) return refused;
  // Each half loads alone but not both together: no single line is to blame, so the lines are set aside as a
  // group (kept and replayable), rather than holding back the segment for ever.
  return lines.map((line) => ({
    ...line,
    damage: 'engine_refused' as const,
    reason: `${reason} (refused only together with lines ${lines[0]!.lineNo}–${lines[lines.length - 1]!.lineNo})`,
  }));
}

function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]!.slice(0, REASON_CHARS);
}

import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { RefineryError } from '../../core/errors.js';
import { isJsonObject } from '../../core/json-object.js';
import type { DamagedLineRow, Store } from '../../store/store.js';
import type { DamagedLineStatusRecord } from '../../store/wal-format.js';
import { verifyLine, withoutChecksum } from './line-checksum.js';
import { segmentName, TRIAL_SUFFIX } from './segment-files.js';
import { engineRefusal } from './segment-loading.js';

/** What replaying or discarding a set-aside line needs: the store, and a way to put lines through the log. */
export interface DamagedLineDecisionContext {
  readonly store: Store;
  /** The log's folder, which the store may read: a replay's trial load is written there. */
  readonly walDir: string;
  readonly dedupeWindowHours: number;
  /** Appends lines to the write-ahead log and resolves once the loader has loaded them. */
  readonly appendAndLoad: (lines: readonly Buffer[]) => Promise<void>;
  /** Who decides, kept with the decision: an API key's name, or `cli:<user>`. */
  readonly by: string;
}

/** Line kinds a replay may write: what the collector and decisions write, but not a decision on set-aside lines. */
const REPLAYABLE_KINDS: ReadonlySet<string> = new Set(['q', 'r', 'x', 'f', 's', 'i', 'c']);

/** The stream a replay's trial load names (ClickHouse names its throw-away table after it). */
const TRIAL_STREAM = 'wal-replay';

export async function getDamagedLineOrThrow(store: Store, id: string): Promise<DamagedLineRow> {
  const [row] = await store.events.listDamagedLines({ ids: [id] }, { limit: 1, withRaw: true });
  if (!row) {
    throw new RefineryError('REFINERY_ERR_WAL_LINE_NOT_FOUND', `No set-aside log line has id "${id}".`, {
      field: 'id',
    });
  }
  return row;
}

/**
 * Loads a set-aside line through the normal path after checking it again: the line as stored (its checksum,
 * which the operator vouches for by replaying, dropped), or `corrected`, a WAL record the operator fixed. The
 * line and the decision are appended to the log together, so one load stores the line and marks it replayed.
 * A line that still fails the checks or the engine is refused with REFINERY_ERR_WAL_LINE_INVALID and stays held.
 */
export async function replayDamagedLine(
  context: DamagedLineDecisionContext,
  id: string,
  corrected?: unknown,
): Promise<DamagedLineRow> {
  const row = heldOrThrow(await getDamagedLineOrThrow(context.store, id));
  const line =
    corrected === undefined
      ? withoutChecksum(Buffer.from(row.raw ?? '', 'base64'))
      : Buffer.from(JSON.stringify(correctedRecordOrThrow(corrected)));
  await assertLoadable(context, row, line);
  await context.appendAndLoad([Buffer.concat([line, NEWLINE]), decisionLine(id, 'replayed', context.by)]);
  return getDamagedLineOrThrow(context.store, id);
}

/** Marks a held line discarded: it stays listed (and kept) but is never loaded. */
export async function discardDamagedLine(
  context: DamagedLineDecisionContext,
  id: string,
): Promise<DamagedLineRow> {
  heldOrThrow(await getDamagedLineOrThrow(context.store, id));
  await context.appendAndLoad([decisionLine(id, 'discarded', context.by)]);
  return getDamagedLineOrThrow(context.store, id);
}

const NEWLINE = Buffer.from('\n');

function heldOrThrow(row: DamagedLineRow): DamagedLineRow {
  if (row.status !== 'held') {
    throw new RefineryError(
      'REFINERY_ERR_WAL_LINE_DECIDED',
      `Log line ${row.id} was already ${row.status}${row.statusBy ? ` by ${row.statusBy}` : ''}${row.statusAt ? ` at ${row.statusAt}` : ''}.`,
      { field: 'id' },
    );
  }
  return row;
}

function correctedRecordOrThrow(corrected: unknown): Record<string, unknown> {
  if (!isJsonObject(corrected)) {
    throw new RefineryError(
      'REFINERY_ERR_INVALID_FIELD',
      'line must be a JSON object: the corrected log record.',
      {
        field: 'line',
      },
    );
  }
  if (typeof corrected.k !== 'string' || !REPLAYABLE_KINDS.has(corrected.k)) {
    throw new RefineryError(
      'REFINERY_ERR_INVALID_FIELD',
      `line.k must name a kind of log record (${[...REPLAYABLE_KINDS].join(', ')}).`,
      { field: 'line.k' },
    );
  }
  // The writer adds a fresh checksum; a stale one copied from the stored line would only be a second member.
  const { '#': _checksum, ...record } = corrected;
  return record;
}

/** The same checks as the loader's, then a trial load that keeps nothing; refuses with the first problem. */
async function assertLoadable(context: DamagedLineDecisionContext, row: DamagedLineRow, line: Buffer) {
  const verdict = verifyLine(line);
  const problem = verdict.ok ? kindProblem(line) : verdict.reason;
  if (problem) throw invalid(row, problem);
  const base = { stream: TRIAL_STREAM, sequence: row.sequence, dedupeWindowHours: context.dedupeWindowHours };
  // Named like no segment the log takes (sequence 0 is never used), and removed with the loader's leftovers.
  const file = join(context.walDir, `${segmentName(0, true)}${TRIAL_SUFFIX}`);
  try {
    const refusal = await engineRefusal(context.store, base, file, [{ lineNo: 1, bytes: line }]);
    if (refusal === undefined) return;
    // An empty load failing too means the store is unwell, not the line: say that instead.
    const control = await engineRefusal(context.store, base, file, []);
    if (control !== undefined) {
      throw new RefineryError('REFINERY_ERR_STORE', `The store cannot load anything now: ${control}`);
    }
    throw invalid(row, `The store refuses it: ${refusal}`);
  } finally {
    rmSync(file, { force: true });
  }
}

function kindProblem(line: Buffer): string | undefined {
  const record = JSON.parse(line.toString('utf8')) as Record<string, unknown>;
  return typeof record.k === 'string' && REPLAYABLE_KINDS.has(record.k)
    ? undefined
    : 'The line is not a log record of a kind that can be replayed (its "k" member).';
}

function invalid(row: DamagedLineRow, problem: string): RefineryError {
  return new RefineryError(
    'REFINERY_ERR_WAL_LINE_INVALID',
    `Log line ${row.id} cannot be loaded: ${problem}`,
    {
      field: 'line',
    },
  );
}

function decisionLine(id: string, status: DamagedLineStatusRecord['status'], by: string): Buffer {
  const record: DamagedLineStatusRecord = { k: 'd', ids: [id], status, at: new Date().toISOString(), by };
  return Buffer.from(`${JSON.stringify(record)}\n`);
}

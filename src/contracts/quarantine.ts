import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { ConsentObservations } from '../collect/consent-observations.js';
import { IdentityObservations, type ObservedMessage } from '../collect/identity-observations.js';
import { validateMessage } from '../collect/message-validation.js';
import { wellFormedViolations } from '../collect/well-formed-unicode.js';
import { RefineryError } from '../core/errors.js';
import { parseOptionalTime } from '../core/iso-time.js';
import { asJsonObject } from '../core/json-object.js';
import type { IdentifierHasher } from '../identity/identifier-hashing.js';
import type { IdentityRules } from '../identity/identity-rules.js';
import type { ConsentConfig } from '../privacy/consent-purposes.js';
import { type PersonalFields, protectMessage, revealMessage } from '../privacy/vault/personal-fields.js';
import type { SubjectKeyVault } from '../privacy/vault/subject-key-vault.js';
import type { QuarantinedEventRow, QuarantineFilter, Store } from '../store/store.js';
import {
  EVENT_TYPES,
  type EventType,
  extraFieldsOf,
  type FlagRecord,
  type QuarantineStatusRecord,
  type RequestRecord,
  type StoredViolation,
} from '../store/wal-format.js';
import type { ContractSet, GovernedMessage } from './contract-set.js';
import { quarantinedRows } from './quarantine-rows.js';

/** The loader stream quarantine decisions are written under; its sequence numbers are their own. */
export const QUARANTINE_STREAM = 'quarantine';
const PAGE = 1000;

export interface QuarantineDecisionContext {
  readonly store: Store;
  /** A folder the store may read files from (the workspace's data folder). */
  readonly workDir: string;
  readonly dedupeWindowHours: number;
  /** Who decides, kept with each decision: an API key's name, or `cli`. */
  readonly by: string;
  /**
   * The workspace's identity rules: replayed events are observed by identity resolution like collected ones
   * (with `privacy`, whose keys hash their emails and phones).
   */
  readonly identityRules?: IdentityRules;
  /** The workspace's consent mapping: replayed events' `context.consent` is recorded like collected ones'. */
  readonly consent?: ConsentConfig;
  /**
   * Held payloads have their personal fields sealed: contracts are checked on the opened payload, and what is
   * stored is sealed again. Absent, payloads are checked and stored as they are.
   */
  readonly privacy?: {
    readonly vault: SubjectKeyVault;
    readonly fields: PersonalFields;
    readonly identifiers: IdentifierHasher;
  };
}

export interface ReplayOptions {
  readonly filter: QuarantineFilter;
  /** Store even events that still break their contract (an explicit override, recorded as such). */
  readonly force?: boolean;
  /** Only report what a replay would do. */
  readonly dryRun?: boolean;
  /** Corrected payloads by quarantine id ("the data is fixed"): replayed instead of the held payload. */
  readonly fixes?: ReadonlyMap<string, Record<string, unknown>>;
}

export interface ReplayReport {
  readonly selected: number;
  readonly replayed: number;
  /** Replayed events whose message id was already stored (the client resent it): not stored twice. */
  readonly alreadyStored: number;
  readonly stillFailing: readonly { readonly id: string; readonly violations: readonly StoredViolation[] }[];
  readonly dryRun: boolean;
}

/**
 * Re-checks held events against the contracts in force now and stores those that pass, marking them
 * replayed in the same load (one transaction on DuckDB), so an event is never both held and stored.
 * Events that still fail stay held; the report lists the violations they have now.
 */
export async function replayQuarantined(
  context: QuarantineDecisionContext,
  contracts: ContractSet,
  options: ReplayOptions,
): Promise<ReplayReport> {
  await recoverQuarantineDecisions(context);
  const held = await selectHeld(context.store, options.filter);
  const passing: QuarantinedEventRow[] = [];
  const overridden = new Map<string, readonly StoredViolation[]>();
  const stillFailing: { id: string; violations: readonly StoredViolation[] }[] = [];
  for (const row of held) {
    const fix = options.fixes?.get(row.id);
    if (fix) {
      const problem = segmentSpecProblem(fix, row);
      if (problem) {
        stillFailing.push({ id: row.id, violations: [problem] });
        continue;
      }
    }
    // A corrected payload keeps the held event's id, so de-duplication and its history stay with it.
    const held = fix ? { ...fix, messageId: row.id } : (row.payload ?? {});
    const payload = context.privacy ? (await revealMessage(held, context.privacy.vault)).value : held;
    const candidate = { ...row, payload };
    const verdict = contracts.check(governedMessageOf(payload, row.type), payload);
    // A value excerpt cut inside an emoji would put half a surrogate pair in the decision's flag line.
    const violations = wellFormedViolations(verdict.violations);
    if (verdict.action === 'accept') passing.push(candidate);
    else if (options.force || verdict.action === 'flag') {
      // Stored despite its violations: flagged, exactly like a warn-mode event.
      passing.push(candidate);
      overridden.set(row.id, violations);
    } else stillFailing.push({ id: row.id, violations });
  }
  if (options.dryRun || passing.length === 0) {
    return { selected: held.length, replayed: 0, alreadyStored: 0, stillFailing, dryRun: !!options.dryRun };
  }
  let inserted = 0;
  for (let start = 0; start < passing.length; start += PAGE) {
    const chunk = passing.slice(start, start + PAGE);
    const lines: string[] = [];
    for (const row of chunk) lines.push(JSON.stringify(requestRecordOf(await sealedRow(row, context))));
    if (context.identityRules && context.privacy) {
      lines.push(...identityLinesOf(chunk, context.identityRules, context.privacy.identifiers));
    }
    if (context.consent) lines.push(...consentLinesOf(chunk, context.consent));
    for (const row of chunk) {
      const violations = overridden.get(row.id);
      if (violations) lines.push(JSON.stringify(flagRecordOf(row, violations)));
    }
    lines.push(
      JSON.stringify(
        statusRecord(
          chunk.map((row) => row.id),
          'replayed',
          context.by,
        ),
      ),
    );
    inserted += await loadDecision(context, lines);
  }
  return {
    selected: held.length,
    replayed: passing.length,
    alreadyStored: passing.length - inserted,
    stillFailing,
    dryRun: false,
  };
}

/** Marks held events discarded: they stay listed (status `discarded`) but will never be stored. */
export async function discardQuarantined(
  context: QuarantineDecisionContext,
  filter: QuarantineFilter,
): Promise<{ discarded: number }> {
  await recoverQuarantineDecisions(context);
  const held = await selectHeld(context.store, filter, false);
  for (let start = 0; start < held.length; start += PAGE) {
    const ids = held.slice(start, start + PAGE).map((row) => row.id);
    await loadDecision(context, [JSON.stringify(statusRecord(ids, 'discarded', context.by))]);
  }
  return { discarded: held.length };
}

export async function getQuarantinedOrThrow(store: Store, id: string): Promise<QuarantinedEventRow> {
  const [row] = await store.governance.listQuarantined({ ids: [id] }, { limit: 1, withPayload: true });
  if (!row) {
    throw new RefineryError('REFINERY_ERR_QUARANTINE_NOT_FOUND', `No quarantined event has id "${id}".`, {
      field: 'id',
    });
  }
  return row;
}

/** The fields governance checks, read from a held payload. */
export function governedMessageOf(payload: Record<string, unknown>, fallbackType: string): GovernedMessage {
  const type = (EVENT_TYPES as readonly string[]).includes(String(payload.type))
    ? payload.type
    : fallbackType;
  return {
    type: type as EventType,
    event: typeof payload.event === 'string' ? payload.event : null,
    name: typeof payload.name === 'string' ? payload.name : null,
    properties: asJsonObject(payload.properties),
    traits: asJsonObject(payload.traits),
    context: asJsonObject(payload.context),
  };
}

async function selectHeld(
  store: Store,
  filter: QuarantineFilter,
  withPayload = true,
): Promise<QuarantinedEventRow[]> {
  const rows: QuarantinedEventRow[] = [];
  // Read the whole selection before deciding anything, so paging is not disturbed by our own writes.
  for await (const row of quarantinedRows(store, { ...filter, status: 'held' }, withPayload)) rows.push(row);
  return rows;
}

/** The row as it may be stored: personal fields of the (opened or corrected) payload sealed again. */
async function sealedRow(
  row: QuarantinedEventRow,
  context: QuarantineDecisionContext,
): Promise<QuarantinedEventRow> {
  if (!context.privacy || !row.payload) return row;
  const { message } = await protectMessage(row.payload, context.privacy.vault, context.privacy.fields);
  return message === row.payload ? row : { ...row, payload: message };
}

function requestRecordOf(row: QuarantinedEventRow): RequestRecord {
  const payload = row.payload ?? {};
  // Messages without their own id were held under the id storage would have given them; keep it.
  const body =
    typeof payload.messageId === 'string' && payload.messageId ? payload : { ...payload, messageId: row.id };
  return {
    k: 'q',
    rid: `replay-${row.id}`,
    received_at: row.receivedAt,
    source: row.source,
    implied_type: row.type as EventType,
    ua: row.userAgent ?? null,
    ip_of: [row.ip ?? null],
    agent_of: [row.agent ? 0 : null],
    agents: row.agent ? [row.agent] : [],
    skip: [],
    extra_of: extraFieldsOf(body) ? [0] : [],
    body,
  };
}

/**
 * What the collector would have written about consent had these events not been held. Whether their
 * requests carried `Sec-GPC` is not kept with held events, so only `context.consent` is read.
 */
function consentLinesOf(rows: readonly QuarantinedEventRow[], consent: ConsentConfig): string[] {
  const observations = new ConsentObservations(consent);
  return rows.flatMap((row) => {
    const line = observations.lineFor(observedOf(row), row.id, Date.parse(row.receivedAt), false);
    return line ? [line.trimEnd()] : [];
  });
}

/** What the collector would have written for the identity graph had these events not been held. */
function identityLinesOf(
  rows: readonly QuarantinedEventRow[],
  rules: IdentityRules,
  hasher: IdentifierHasher,
): string[] {
  const observations = new IdentityObservations(rules, hasher);
  return rows.flatMap((row) => {
    const line = observations.lineFor(observedOf(row), row.id, Date.parse(row.receivedAt));
    return line ? [line.trimEnd()] : [];
  });
}

/** A held payload as the collector's observers saw the message: times parsed to epoch milliseconds. */
function observedOf(row: QuarantinedEventRow): ObservedMessage {
  const payload = row.payload ?? {};
  return {
    ...payload,
    timestamp: parseOptionalTime(payload.timestamp ?? payload.originalTimestamp),
    sentAt: parseOptionalTime(payload.sentAt),
  };
}

function flagRecordOf(row: QuarantinedEventRow, violations: readonly StoredViolation[]): FlagRecord {
  return {
    k: 'f',
    id: row.id,
    received_at: row.receivedAt,
    source: row.source,
    type: row.type as EventType,
    event: row.event,
    contract: row.contract,
    contract_version: row.contractVersion,
    violations,
  };
}

function statusRecord(ids: string[], status: 'replayed' | 'discarded', by: string): QuarantineStatusRecord {
  return { k: 's', ids, status, at: new Date().toISOString(), by };
}

/**
 * Writes the decision as a durable segment and loads it; returns how many events it stored. The file is
 * removed only once loaded: a decision interrupted half-way (possible on ClickHouse, which has no
 * transactions) is finished by `recoverQuarantineDecisions` before the next one.
 */
async function loadDecision(context: QuarantineDecisionContext, lines: string[]): Promise<number> {
  const sequence = (await context.store.events.lastLoadedSequence(QUARANTINE_STREAM)) + 1;
  mkdirSync(context.workDir, { recursive: true });
  const file = join(context.workDir, `${DECISION_PREFIX}${sequence}.ndjson`);
  const fd = openSync(file, 'w');
  try {
    writeSync(fd, `${lines.join('\n')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  const report = await loadDecisionFile(context, file, sequence);
  return report.inserted;
}

const DECISION_PREFIX = 'quarantine-decision-';

async function loadDecisionFile(context: QuarantineDecisionContext, file: string, sequence: number) {
  const report = await context.store.events.loadBatch({
    stream: QUARANTINE_STREAM,
    sequence,
    file,
    dedupeWindowHours: context.dedupeWindowHours,
  });
  rmSync(file, { force: true });
  return report;
}

/** Loads decision files an interrupted replay or discard left behind, oldest first (each exactly once). */
export async function recoverQuarantineDecisions(context: QuarantineDecisionContext): Promise<number> {
  if (!existsSync(context.workDir)) return 0;
  const pending = readdirSync(context.workDir)
    .map((name) => ({ name, sequence: Number(name.slice(DECISION_PREFIX.length, -'.ndjson'.length)) }))
    .filter((entry) => entry.name.startsWith(DECISION_PREFIX) && Number.isInteger(entry.sequence))
    .sort((a, b) => a.sequence - b.sequence);
  for (const entry of pending)
    await loadDecisionFile(context, join(context.workDir, entry.name), entry.sequence);
  return pending.length;
}

/**
 * Why a corrected payload is not a valid Segment message for this held event, or null. It is checked as the
 * collector checks a message (lone surrogates, poisoned keys, depth, numbers included): a replay writes it to the
 * log like a collected one.
 */
function segmentSpecProblem(fix: Record<string, unknown>, row: QuarantinedEventRow): StoredViolation | null {
  try {
    validateMessage({ ...fix, messageId: row.id }, 'fix', row.type as EventType, 32, { checkUnicode: true });
    return null;
  } catch (error) {
    const reason = error instanceof RefineryError ? error : undefined;
    return {
      path: String(reason?.details.field ?? 'fix').replace(/^fix\.?/, ''),
      rule: 'segment-spec',
      message: reason?.message ?? String(error),
    };
  }
}

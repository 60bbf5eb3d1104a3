import { readFileSync } from 'node:fs';
import { damagedRowOf } from '../damaged-line-row.js';
import { expandRequestRecord } from '../expand-request.js';
import {
  type BatchLoadReport,
  type DamagedLineFilter,
  type DamagedLineInput,
  type DamagedLineRow,
  damagedLineId,
  type EventBatch,
  type EventRepository,
  type EventSummary,
  type NamedCount,
  type TimelinePoint,
} from '../store.js';
import type {
  ConsentRecord,
  DamagedLineStatus,
  DamagedLineStatusRecord,
  EventRecord,
  FlagRecord,
  IdentityObservationRecord,
  QuarantineRecord,
  QuarantineStatusRecord,
  RejectRecord,
  StoredViolation,
  WalRecord,
} from '../wal-format.js';
import type { ClickHouseConnection } from './clickhouse-connection.js';
import { consentRowsOf } from './clickhouse-consent.js';
import { finalRead, integer, quote, safeName, toDateTimeText } from './clickhouse-sql.js';
import { toPlainRows } from './clickhouse-values.js';

/**
 * Events on ClickHouse. Without transactions, loading is made idempotent instead: rows are derived
 * deterministically from the segment, inserted through a staging table that drops ids already stored
 * within the de-duplication window, and the loader position is written last. A crash between the two
 * replays the segment; its ids are then already stored and nothing is inserted twice.
 */
export class ClickHouseEvents implements EventRepository {
  constructor(private readonly db: ClickHouseConnection) {}

  async loadBatch(batch: EventBatch): Promise<BatchLoadReport> {
    if ((await this.lastLoadedSequence(batch.stream)) >= batch.sequence) {
      return { sequence: batch.sequence, inserted: 0, duplicates: 0, rejected: 0, alreadyLoaded: true };
    }
    const { content, eventRows } = prepareSegment(batch);
    const { events, rejects, quarantines, flags, statuses, observations, consents } = content;
    // Set-aside lines first, keyed by their place in the segment: a replayed load writes the same rows again.
    await this.db.insert(
      'wal_damaged_lines',
      (batch.damaged ?? []).map((line) => toDamagedRow(line, batch)),
    );
    const staging = `wal_staging_${safeName(batch.stream)}`;
    await this.db.command(`DROP TABLE IF EXISTS ${staging}`);
    await this.db.command(`CREATE TABLE ${staging} AS event_log ENGINE = Memory`);
    let inserted = 0;
    try {
      await this.db.insert(staging, eventRows);
      const since =
        batch.dedupeWindowHours > 0 && eventRows.length > 0
          ? `AND received_at >= toDateTime(${quote(String(earliestRow(eventRows)))}, 'UTC') - ${integer(Math.ceil(batch.dedupeWindowHours) * 3600)}`
          : '';
      const fresh = `message_id NOT IN (SELECT message_id FROM event_log WHERE 1 ${since})`;
      const counted = await this.db.json(`SELECT count() AS n FROM ${staging} WHERE ${fresh}`);
      inserted = Number(counted.data[0]?.n ?? 0);
      await this.db.command(
        `INSERT INTO event_log SELECT * FROM ${staging} WHERE ${fresh}`,
        this.db.insertSettings,
      );
    } finally {
      await this.db.command(`DROP TABLE IF EXISTS ${staging}`);
    }
    await this.db.insert(
      'reject_log',
      rejects.map(({ record, line }) => toRejectRow(record, line, batch)),
    );
    await this.loadGovernance(quarantines, flags, statuses, batch);
    // Keyed by (stream, load_seq, line_no): a replayed segment writes the same rows, which FINAL reads once.
    await this.db.insert(
      'identity_observation_log',
      observations.map((record, index) => toObservationRow(record, index + 1, batch)),
    );
    // Keyed by where each row came from in the segment, like the observations: a replay collapses under FINAL.
    const consent = consentRowsOf(consents, batch.stream, batch.sequence);
    await this.db.insert('consent_log', consent.history);
    await this.db.insert('consent_unknown_log', consent.unknown);
    await this.decideDamagedLines(content.damagedDecisions);
    await this.db.insert('loader_state', [
      { stream: batch.stream, last_sequence: batch.sequence, loaded_at: toDateTimeText(new Date()) },
    ]);
    return {
      sequence: batch.sequence,
      inserted,
      duplicates: events.length - inserted,
      rejected: rejects.length,
      alreadyLoaded: false,
    };
  }

  /**
   * What `loadBatch` does with the segment's content short of keeping it: every line parsed and expanded into
   * rows, and the event rows sent through the server's parser into a throw-away table.
   */
  async checkBatch(batch: EventBatch): Promise<void> {
    const { eventRows } = prepareSegment(batch);
    const check = `wal_check_${safeName(batch.stream)}`;
    await this.db.command(`DROP TABLE IF EXISTS ${check}`);
    await this.db.command(`CREATE TABLE ${check} AS event_log ENGINE = Memory`);
    try {
      await this.db.insert(check, eventRows);
    } finally {
      await this.db.command(`DROP TABLE IF EXISTS ${check}`);
    }
  }

  async listDamagedLines(
    filter: DamagedLineFilter,
    page: { readonly limit: number; readonly offset?: number; readonly withRaw?: boolean },
  ): Promise<DamagedLineRow[]> {
    const columns = `id, stream, load_seq, line_no, damage, reason, bytes, found_at, status, status_at, status_by${page.withRaw ? ', raw' : ''}`;
    const rows = await this.finalRows(
      `SELECT * FROM ${finalRead('wal_damaged_lines', columns, damagedWhere(filter))}
       ORDER BY found_at, stream, load_seq, line_no
       LIMIT ${integer(page.offset ?? 0)}, ${integer(page.limit)}`,
    );
    return rows.map(damagedRowOf);
  }

  async countDamagedLines(): Promise<{ status: DamagedLineStatus; count: number }[]> {
    const rows = await this.finalRows(
      `SELECT status, count() AS count FROM ${finalRead('wal_damaged_lines', 'status')}
       GROUP BY status ORDER BY status`,
    );
    return rows.map((row) => ({ status: String(row.status) as DamagedLineStatus, count: Number(row.count) }));
  }

  /**
   * A decision on set-aside lines is a newer version of each held row, versioned by the decision's time, so a
   * reloaded segment writes the same version again and a reloaded set-aside (version 0) never hides it.
   */
  private async decideDamagedLines(decisions: readonly DamagedLineStatusRecord[]): Promise<void> {
    for (const record of decisions) {
      for (const ids of chunked([...new Set(record.ids)])) {
        await this.db.command(
          `INSERT INTO wal_damaged_lines (${DAMAGED_COLUMNS.join(', ')})
           SELECT ${DAMAGED_COLUMNS.slice(0, -4).join(', ')},
                  ${quote(record.status)}, toDateTime(${quote(toDateTimeText(record.at))}, 'UTC'),
                  ${quote(record.by)}, toUInt64(${integer(Date.parse(record.at))})
           FROM (SELECT * FROM wal_damaged_lines FINAL WHERE id IN (${ids.map(quote).join(', ')}))
           WHERE status = 'held'`,
          { ...this.db.insertSettings, optimize_move_to_prewhere: 0 },
        );
      }
    }
  }

  /**
   * Quarantine, violations, then decisions; each step skips what an earlier (crashed) load of the same
   * segment, or an earlier segment with a retried event, already wrote, so replaying it changes nothing.
   */
  private async loadGovernance(
    quarantines: readonly QuarantineRecord[],
    flags: readonly FlagRecord[],
    statuses: readonly QuarantineStatusRecord[],
    batch: EventBatch,
  ): Promise<void> {
    const held = firstById(quarantines);
    const storedIds = await this.existing(
      held.map((record) => record.id),
      (list) => `SELECT id AS key FROM quarantine_log WHERE id IN (${list})`,
    );
    await this.db.insert(
      'quarantine_log',
      held.filter((record) => !storedIds.has(record.id)).map((record) => toQuarantineRow(record, batch)),
    );

    const violations = [
      ...held.flatMap((record) => toViolationRows(record, 'quarantined', batch)),
      ...firstById(flags).flatMap((record) => toViolationRows(record, 'flagged', batch)),
    ];
    const storedViolations = await this.existing(
      [...new Set(violations.map((row) => row.message_id))],
      (list) =>
        `SELECT concat(message_id, '\\0', outcome, '\\0', path, '\\0', rule) AS key
         FROM contract_violation_log WHERE message_id IN (${list})`,
    );
    await this.db.insert(
      'contract_violation_log',
      violations.filter((row) => !storedViolations.has(violationKey(row))),
    );

    for (const record of statuses) {
      const at = Date.parse(record.at);
      for (const ids of chunked([...new Set(record.ids)])) {
        await this.db.command(
          `INSERT INTO quarantine_log (${QUARANTINE_COLUMNS.join(', ')})
           SELECT ${QUARANTINE_COLUMNS.slice(0, -5).join(', ')},
                  ${quote(record.status)}, toDateTime(${quote(toDateTimeText(record.at))}, 'UTC'),
                  ${quote(record.by)}, toUInt64(${integer(at)}), toUInt64(${integer(batch.sequence)})
           FROM (SELECT * FROM quarantine_log FINAL WHERE id IN (${ids.map(quote).join(', ')}))
           WHERE status = 'held'`,
          // Only a held event can be decided on; the status test must see FINAL's rows, not raw parts.
          { ...this.db.insertSettings, optimize_move_to_prewhere: 0 },
        );
      }
    }
  }

  /** Which keys `query` already finds for `ids`, asked in slices short enough for one query's text. */
  private async existing(ids: readonly string[], query: (list: string) => string): Promise<Set<string>> {
    const found = new Set<string>();
    for (const slice of chunked(ids)) {
      const answer = await this.db.json(query(slice.map(quote).join(', ')));
      for (const row of answer.data) found.add(String(row.key));
    }
    return found;
  }

  async lastLoadedSequence(stream: string): Promise<number> {
    const answer = await this.db.json(
      `SELECT max(last_sequence) AS s FROM loader_state WHERE stream = ${quote(stream)}`,
    );
    return Number(answer.data[0]?.s ?? 0);
  }

  async count(): Promise<number> {
    return this.countOf('SELECT count() AS n FROM event_log FINAL');
  }

  async countRejected(): Promise<number> {
    return this.countOf('SELECT count() AS n FROM rejected_events');
  }

  async timeline(options: { interval: 'hour' | 'day'; from?: Date; to?: Date }): Promise<TimelinePoint[]> {
    const bucket = options.interval === 'hour' ? 'toStartOfHour(timestamp)' : 'toStartOfDay(timestamp)';
    const filters = ['1'];
    if (options.from) filters.push(`timestamp >= toDateTime(${quote(toDateTimeText(options.from))}, 'UTC')`);
    if (options.to) filters.push(`timestamp < toDateTime(${quote(toDateTimeText(options.to))}, 'UTC')`);
    return this.rows<TimelinePoint>(
      `SELECT ${bucket} AS bucket, type, count() AS count FROM event_log FINAL WHERE ${filters.join(' AND ')}
       GROUP BY bucket, type ORDER BY bucket, type`,
    );
  }

  countsByType(): Promise<NamedCount[]> {
    return this.rows<NamedCount>(
      'SELECT type AS name, count() AS count FROM event_log FINAL GROUP BY type ORDER BY count DESC, name',
    );
  }

  topEventNames(limit: number): Promise<NamedCount[]> {
    // FINAL in a subquery: on 18.16, FINAL adds the sort key's `ifNull(event, '')` as a column of its own, which
    // then clashes with the same expression in the select list.
    return this.rows<NamedCount>(
      `SELECT multiIf(type = 'track', ifNull(event, ''),
                      type IN ('page', 'screen'), concat(type, ': ', ifNull(name, '(unnamed)')),
                      type) AS name,
              count() AS count
       FROM (SELECT type, event, name FROM event_log FINAL)
       GROUP BY name ORDER BY count DESC, name LIMIT ${integer(limit)}`,
    );
  }

  countsBySource(): Promise<NamedCount[]> {
    return this.rows<NamedCount>(
      'SELECT source AS name, count() AS count FROM event_log FINAL GROUP BY source ORDER BY count DESC, name',
    );
  }

  async recent(options: { limit: number; afterLoadSeq?: number }): Promise<EventSummary[]> {
    const rows = await this.rows<EventSummary>(
      `SELECT * FROM ${finalRead(
        'event_log',
        `message_id AS messageId, type, event, user_id AS userId, anonymous_id AS anonymousId, source,
         timestamp, received_at AS receivedAt, load_seq AS loadSeq, properties`,
        `load_seq > ${integer(options.afterLoadSeq ?? 0)}`,
      )}
       ORDER BY receivedAt DESC, messageId LIMIT ${integer(options.limit)}`,
    );
    return rows.map((row) => ({
      ...row,
      properties: typeof row.properties === 'string' ? JSON.parse(row.properties) : row.properties,
    }));
  }

  recentRejects(limit: number): Promise<Record<string, unknown>[]> {
    return this.rows(
      `SELECT received_at, source, message_id, type, reason_code, reason, field, payload
       FROM rejected_events ORDER BY received_at DESC LIMIT ${integer(limit)}`,
    );
  }

  // ClickHouse moves WHERE conditions on non-key columns to PREWHERE, which runs before FINAL collapses
  // versions: `status = 'held'` would then match the superseded held version of a decided line.
  private async finalRows(sql: string): Promise<Record<string, unknown>[]> {
    return toPlainRows(await this.db.json(sql, { optimize_move_to_prewhere: 0 })).rows;
  }

  private async rows<T>(sql: string): Promise<T[]> {
    return toPlainRows(await this.db.json(sql)).rows as T[];
  }

  private async countOf(sql: string): Promise<number> {
    return Number((await this.db.json(sql)).data[0]?.n ?? 0);
  }
}

interface SegmentContent {
  readonly events: EventRecord[];
  readonly rejects: { record: RejectRecord; line: number }[];
  readonly quarantines: QuarantineRecord[];
  readonly flags: FlagRecord[];
  readonly statuses: QuarantineStatusRecord[];
  readonly observations: IdentityObservationRecord[];
  readonly consents: { record: ConsentRecord; line: number }[];
  readonly damagedDecisions: DamagedLineStatusRecord[];
}

/** A segment read and turned into event rows: everything that can fail on its content, before any write. */
function prepareSegment(batch: EventBatch): {
  content: SegmentContent;
  eventRows: Record<string, unknown>[];
} {
  const content = readSegment(batch.file);
  return { content, eventRows: firstCopies(content.events).map((row) => toEventRow(row, batch)) };
}

function readSegment(file: string): SegmentContent {
  const content: SegmentContent = {
    events: [],
    rejects: [],
    quarantines: [],
    flags: [],
    statuses: [],
    observations: [],
    consents: [],
    damagedDecisions: [],
  };
  const lines = readFileSync(file, 'utf8').split('\n');
  lines.forEach((text, index) => {
    if (text.trim() === '') return;
    // The line's checksum (`#`, checked by the loader) is not part of the record.
    const { '#': _checksum, ...record } = JSON.parse(text) as WalRecord & { '#'?: string };
    if (record.k === 'q') content.events.push(...expandRequestRecord(record));
    else if (record.k === 'r') content.rejects.push({ record, line: index + 1 });
    else if (record.k === 'x') content.quarantines.push(record);
    else if (record.k === 'f') content.flags.push(record);
    else if (record.k === 's') content.statuses.push(record);
    else if (record.k === 'i') content.observations.push(record);
    else if (record.k === 'c') content.consents.push({ record, line: index + 1 });
    else if (record.k === 'd') content.damagedDecisions.push(record);
  });
  return content;
}

// A retried quarantined or flagged event inside one segment keeps its first copy, as events do.
function firstById<T extends { readonly id: string }>(records: readonly T[]): T[] {
  const seen = new Set<string>();
  return records.filter((record) => {
    if (seen.has(record.id)) return false;
    seen.add(record.id);
    return true;
  });
}

// ClickHouse parses at most `max_query_size` (256 KiB by default) of a query: id lists go in slices.
const CHUNK_COUNT = 1000;
const CHUNK_CHARS = 64 * 1024;

/** `values` in slices short enough to quote into one query's text. */
export function chunked(values: readonly string[]): string[][] {
  const chunks: string[][] = [];
  let current: string[] = [];
  let chars = 0;
  for (const value of values) {
    if (current.length > 0 && (current.length >= CHUNK_COUNT || chars + value.length > CHUNK_CHARS)) {
      chunks.push(current);
      current = [];
      chars = 0;
    }
    current.push(value);
    chars += value.length + 4;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** quarantine_log's columns in table order; the last five are the status and version a decision replaces. */
const QUARANTINE_COLUMNS = [
  'id',
  'received_at',
  'source',
  'type',
  'event',
  'contract',
  'contract_version',
  'violations',
  'payload',
  'ip',
  'user_agent',
  'agent',
  'status',
  'status_at',
  'status_by',
  'version',
  'load_seq',
] as const;

function toQuarantineRow(record: QuarantineRecord, batch: EventBatch): Record<string, unknown> {
  return {
    id: record.id,
    received_at: toDateTimeText(record.received_at),
    source: record.source,
    type: record.type,
    event: record.event,
    contract: record.contract,
    contract_version: record.contract_version,
    violations: JSON.stringify(record.violations),
    payload: JSON.stringify(record.payload),
    ip: record.ip,
    user_agent: record.ua,
    agent: json(record.agent),
    status: 'held',
    status_at: null,
    status_by: null,
    // Any decision (versioned by its time) outranks the held row and any held copy of a retry.
    version: 0,
    load_seq: batch.sequence,
  };
}

// A type, not an interface, so rows pass as plain records to `insert`.
type ViolationRow = {
  readonly message_id: string;
  readonly received_at: string;
  readonly source: string;
  readonly type: string;
  readonly event: string | null;
  readonly contract: string | null;
  readonly outcome: 'quarantined' | 'flagged';
  readonly path: string;
  readonly rule: string;
  readonly message: string;
  readonly value: string | null;
  readonly load_seq: number;
};

function toViolationRows(
  record: QuarantineRecord | FlagRecord,
  outcome: ViolationRow['outcome'],
  batch: EventBatch,
): ViolationRow[] {
  return record.violations.map((violation: StoredViolation) => ({
    message_id: record.id,
    received_at: toDateTimeText(record.received_at),
    source: record.source,
    type: record.type,
    event: record.event,
    contract: record.contract,
    outcome,
    path: violation.path,
    rule: violation.rule,
    message: violation.message,
    value: violation.value ?? null,
    load_seq: batch.sequence,
  }));
}

// The sort key of contract_violation_log, as the loader's existence query spells it.
function violationKey(row: ViolationRow): string {
  return `${row.message_id}\0${row.outcome}\0${row.path}\0${row.rule}`;
}

// A retry inside one segment keeps its first copy, as on DuckDB.
function firstCopies(events: readonly EventRecord[]): EventRecord[] {
  const seen = new Set<string>();
  return events.filter((event) => {
    if (seen.has(event.message_id)) return false;
    seen.add(event.message_id);
    return true;
  });
}

// `DateTime` texts (YYYY-MM-DD hh:mm:ss) order as their times do.
function earliestRow(rows: readonly Record<string, unknown>[]): string {
  let min = String(rows[0]!.received_at);
  for (const row of rows) if (String(row.received_at) < min) min = String(row.received_at);
  return min;
}

const json = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));
const time = (value: string | null) => (value === null ? null : toDateTimeText(value));

function toEventRow(event: EventRecord, batch: EventBatch): Record<string, unknown> {
  return {
    ...event,
    timestamp: toDateTimeText(event.timestamp),
    original_timestamp: time(event.original_timestamp),
    sent_at: time(event.sent_at),
    received_at: toDateTimeText(event.received_at),
    properties: json(event.properties),
    traits: json(event.traits),
    context: json(event.context),
    integrations: json(event.integrations),
    extra: json(event.extra),
    stream: batch.stream,
    load_seq: batch.sequence,
  };
}

function toRejectRow(record: RejectRecord, line: number, batch: EventBatch): Record<string, unknown> {
  const { k: _kind, ...fields } = record;
  return {
    ...fields,
    received_at: toDateTimeText(record.received_at),
    stream: batch.stream,
    load_seq: batch.sequence,
    line_no: line,
  };
}

/** `line_no` numbers the segment's observations from 1 in file order, as DuckDB's loader does. */
function toObservationRow(
  record: IdentityObservationRecord,
  lineNo: number,
  batch: EventBatch,
): Record<string, unknown> {
  return {
    stream: batch.stream,
    load_seq: batch.sequence,
    line_no: lineNo,
    message_id: record.id,
    at_ms: Date.parse(record.at),
    identifiers: record.ids,
  };
}

/** wal_damaged_lines' columns in table order; the last four are the status and version a decision replaces. */
const DAMAGED_COLUMNS = [
  'id',
  'stream',
  'load_seq',
  'line_no',
  'damage',
  'reason',
  'bytes',
  'raw',
  'found_at',
  'status',
  'status_at',
  'status_by',
  'version',
] as const;

function toDamagedRow(line: DamagedLineInput, batch: EventBatch): Record<string, unknown> {
  return {
    id: damagedLineId(batch.stream, batch.sequence, line.lineNo),
    stream: batch.stream,
    load_seq: batch.sequence,
    line_no: line.lineNo,
    damage: line.damage,
    reason: line.reason,
    bytes: line.raw.length,
    // Base64: the line may not be UTF-8, and JSONEachRow carries text.
    raw: line.raw.toString('base64'),
    found_at: toDateTimeText(new Date()),
    status: 'held',
    status_at: null,
    status_by: null,
    version: 0,
  };
}

function damagedWhere(filter: DamagedLineFilter): string {
  const conditions = ['1'];
  if (filter.status) conditions.push(`status = ${quote(filter.status)}`);
  if (filter.ids) conditions.push(filter.ids.length ? `id IN (${filter.ids.map(quote).join(', ')})` : '0');
  return conditions.join(' AND ');
}

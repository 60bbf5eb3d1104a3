import type { DuckDBConnection } from '@duckdb/node-api';
import { damagedRowOf } from '../damaged-line-row.js';
import {
  type BatchLoadReport,
  type DamagedLineFilter,
  type DamagedLineRow,
  damagedLineId,
  type EventBatch,
  type EventRepository,
  type EventSummary,
  type NamedCount,
  type TimelinePoint,
} from '../store.js';
import type { DamagedLineStatus } from '../wal-format.js';
import { loadConsentLines } from './duckdb-consent.js';
import { loadIdentityLines } from './duckdb-identity.js';
import { type DuckDbSession, readOn, rowsOf, runOn, type SqlParam } from './duckdb-session.js';
import { parseJsonColumn } from './duckdb-values.js';
import { EXPAND_SEGMENT_SQL, READ_SEGMENT_SQL } from './duckdb-wal-sql.js';

const EVENT_COLUMNS = `message_id, type, event, name, category, user_id, anonymous_id, group_id, previous_id,
  timestamp, original_timestamp, sent_at, received_at, properties, traits, context, integrations,
  extra, source, ip, user_agent, browser, browser_version, os, device_type`;

export class DuckDbEvents implements EventRepository {
  constructor(
    private readonly writer: DuckDbSession,
    private readonly reader: DuckDbSession,
  ) {}

  /**
   * Loads one WAL segment in one transaction together with the loader's position and the lines the loader set
   * aside, so a crash before COMMIT loads nothing and a crash after it finds the segment already recorded.
   */
  loadBatch(batch: EventBatch): Promise<BatchLoadReport> {
    return this.writer.exclusive((c) => loadSegment(c, batch, 'commit'));
  }

  /** The same load, rolled back: whatever the engine refuses in the segment's content is thrown, nothing kept. */
  async checkBatch(batch: EventBatch): Promise<void> {
    await this.writer.exclusive((c) => loadSegment(c, batch, 'rollback'));
  }

  async listDamagedLines(
    filter: DamagedLineFilter,
    page: { readonly limit: number; readonly offset?: number; readonly withRaw?: boolean },
  ): Promise<DamagedLineRow[]> {
    const { where, params } = damagedWhere(filter);
    params.push(page.limit, page.offset ?? 0);
    const rows = await this.reader.all<Record<string, unknown>>(
      `SELECT id, stream, load_seq, line_no, damage, reason, bytes, found_at, status, status_at, status_by
              ${page.withRaw ? ', raw' : ''}
       FROM wal_damaged_lines ${where}
       ORDER BY found_at, stream, load_seq, line_no LIMIT $${params.length - 1} OFFSET $${params.length}`,
      params,
    );
    return rows.map(damagedRowOf);
  }

  countDamagedLines(): Promise<{ status: DamagedLineStatus; count: number }[]> {
    return this.reader.all(
      'SELECT status, count(*) AS count FROM wal_damaged_lines GROUP BY status ORDER BY status',
    );
  }

  async lastLoadedSequence(stream: string): Promise<number> {
    const rows = await this.reader.all<{ s: number }>(
      'SELECT last_sequence AS s FROM loader_state WHERE stream = $1',
      [stream],
    );
    return rows[0]?.s ?? 0;
  }

  async count(): Promise<number> {
    return (await this.reader.all<{ n: number }>('SELECT count(*) AS n FROM event_log'))[0]!.n;
  }

  async countRejected(): Promise<number> {
    return (await this.reader.all<{ n: number }>('SELECT count(*) AS n FROM rejected_events'))[0]!.n;
  }

  timeline(options: { interval: 'hour' | 'day'; from?: Date; to?: Date }): Promise<TimelinePoint[]> {
    const unit = options.interval === 'hour' ? 'hour' : 'day';
    const filters: string[] = [];
    const params: string[] = [];
    if (options.from) {
      params.push(options.from.toISOString());
      filters.push(`timestamp >= $${params.length}::TIMESTAMPTZ`);
    }
    if (options.to) {
      params.push(options.to.toISOString());
      filters.push(`timestamp < $${params.length}::TIMESTAMPTZ`);
    }
    return this.reader.all<TimelinePoint>(
      `SELECT date_trunc('${unit}', timestamp) AS bucket, type, count(*) AS count
       FROM event_log ${filters.length ? `WHERE ${filters.join(' AND ')}` : ''}
       GROUP BY ALL ORDER BY bucket, type`,
      params,
    );
  }

  countsByType(): Promise<NamedCount[]> {
    return this.reader.all<NamedCount>(
      'SELECT type AS name, count(*) AS count FROM event_log GROUP BY type ORDER BY count DESC, name',
    );
  }

  topEventNames(limit: number): Promise<NamedCount[]> {
    return this.reader.all<NamedCount>(
      // Page and screen names share a list with track events, so they say what they are.
      `SELECT CASE WHEN type = 'track' THEN event
                   WHEN type IN ('page', 'screen') THEN type || ': ' || coalesce(name, '(unnamed)')
                   ELSE type END AS name,
              count(*) AS count FROM event_log
       GROUP BY ALL ORDER BY count DESC, name LIMIT $1`,
      [limit],
    );
  }

  countsBySource(): Promise<NamedCount[]> {
    return this.reader.all<NamedCount>(
      'SELECT source AS name, count(*) AS count FROM event_log GROUP BY source ORDER BY count DESC, name',
    );
  }

  async recent(options: { limit: number; afterLoadSeq?: number }): Promise<EventSummary[]> {
    const rows = await this.reader.all<EventSummary>(
      `SELECT message_id AS "messageId", type, event, user_id AS "userId", anonymous_id AS "anonymousId", source,
              timestamp, received_at AS "receivedAt", load_seq AS "loadSeq", properties
       FROM event_log WHERE load_seq > $1 ORDER BY received_at DESC LIMIT $2`,
      [options.afterLoadSeq ?? 0, options.limit],
    );
    return rows.map((row) => ({ ...row, properties: parseJsonColumn(row.properties) }));
  }

  recentRejects(limit: number): Promise<Record<string, unknown>[]> {
    return this.reader.all(
      `SELECT received_at, source, message_id, type, reason_code, reason, field, payload
       FROM rejected_events ORDER BY received_at DESC LIMIT $1`,
      [limit],
    );
  }
}

/**
 * Loads a segment on the writer connection inside one transaction, which `ending` commits (a load) or rolls
 * back (a check of what the engine makes of the content).
 */
async function loadSegment(
  c: DuckDBConnection,
  batch: EventBatch,
  ending: 'commit' | 'rollback',
): Promise<BatchLoadReport> {
  await runOn(c, 'BEGIN TRANSACTION');
  try {
    if (ending === 'commit') {
      const state = rowsOf<{ last_sequence: number }>(
        await readOn(c, 'SELECT last_sequence FROM loader_state WHERE stream = $1', [batch.stream]),
      );
      if ((state[0]?.last_sequence ?? 0) >= batch.sequence) {
        await runOn(c, 'ROLLBACK');
        return { sequence: batch.sequence, inserted: 0, duplicates: 0, rejected: 0, alreadyLoaded: true };
      }
    }
    await runOn(c, READ_SEGMENT_SQL, [batch.file]);
    await runOn(c, EXPAND_SEGMENT_SQL);
    const accepted = rowsOf<{ n: number }>(await readOn(c, 'SELECT count(*) AS n FROM wal_events'))[0]!.n;
    // A retry carries the same message_id: keep the first copy within the batch, and drop any copy
    // whose id is already stored within the de-duplication window.
    const windowFilter =
      batch.dedupeWindowHours > 0
        ? `AND l.received_at >= (SELECT min(received_at) FROM wal_events) - to_hours(${Math.ceil(batch.dedupeWindowHours)})`
        : '';
    const inserted = await runOn(
      c,
      `INSERT INTO event_log
       SELECT ${EVENT_COLUMNS}, $1 AS load_seq FROM (
         SELECT *, row_number() OVER (PARTITION BY message_id ORDER BY received_at, idx) AS copy
         FROM wal_events
       ) b
       WHERE copy = 1
         AND NOT EXISTS (SELECT 1 FROM event_log l WHERE l.message_id = b.message_id ${windowFilter})`,
      [batch.sequence],
    );
    const rejected = await runOn(
      c,
      `INSERT INTO rejected_events
       SELECT received_at, source, message_id, type, reason_code, reason, field, payload ->> '$', $1
       FROM wal_lines WHERE k = 'r'`,
      [batch.sequence],
    );
    await loadGovernanceLines(c, batch.sequence);
    // Identity observations ride in the same transaction: resolution reads them by (stream, load_seq).
    await loadIdentityLines(c, batch.stream, batch.sequence);
    await loadConsentLines(c, batch.stream, batch.sequence);
    await loadDamagedLines(c, batch);
    await runOn(
      c,
      `INSERT INTO loader_state VALUES ($1, $2, now())
       ON CONFLICT (stream) DO UPDATE SET last_sequence = excluded.last_sequence, loaded_at = excluded.loaded_at`,
      [batch.stream, batch.sequence],
    );
    await runOn(c, ending === 'commit' ? 'COMMIT' : 'ROLLBACK');
    await runOn(c, 'DROP TABLE IF EXISTS wal_events');
    await runOn(c, 'DROP TABLE IF EXISTS wal_lines');
    return {
      sequence: batch.sequence,
      inserted,
      duplicates: accepted - inserted,
      rejected,
      alreadyLoaded: false,
    };
  } catch (error) {
    await runOn(c, 'ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/**
 * The lines the loader set aside from this segment, and decisions (`d` lines) on lines set aside earlier. A
 * decision applies to a held line only, so a replay is marked once, by the load that stored it.
 */
async function loadDamagedLines(c: DuckDBConnection, batch: EventBatch): Promise<void> {
  for (const line of batch.damaged ?? []) {
    await runOn(
      c,
      `INSERT INTO wal_damaged_lines
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now(), 'held', NULL, NULL)`,
      [
        damagedLineId(batch.stream, batch.sequence, line.lineNo),
        batch.stream,
        batch.sequence,
        line.lineNo,
        line.damage,
        line.reason,
        line.raw.length,
        line.raw.toString('base64'),
      ],
    );
  }
  await runOn(
    c,
    `UPDATE wal_damaged_lines SET status = d.status, status_at = d.decided_at, status_by = d.decided_by
     FROM (SELECT unnest(ids) AS id, status, "at" AS decided_at, "by" AS decided_by FROM wal_lines WHERE k = 'd') d
     WHERE wal_damaged_lines.id = d.id AND wal_damaged_lines.status = 'held'`,
  );
}

function damagedWhere(filter: DamagedLineFilter): { where: string; params: SqlParam[] } {
  const conditions: string[] = [];
  const params: SqlParam[] = [];
  if (filter.status) {
    params.push(filter.status);
    conditions.push(`status = $${params.length}`);
  }
  if (filter.ids) {
    if (filter.ids.length === 0) conditions.push('false');
    for (const id of filter.ids) params.push(id);
    if (filter.ids.length > 0) {
      const first = params.length - filter.ids.length + 1;
      conditions.push(`id IN (${filter.ids.map((_, i) => `$${first + i}`).join(', ')})`);
    }
  }
  return { where: conditions.length ? `WHERE ${conditions.join(' AND ')}` : '', params };
}

const VIOLATIONS_SHAPE = JSON.stringify([
  { path: 'VARCHAR', rule: 'VARCHAR', message: 'VARCHAR', value: 'VARCHAR' },
]);

/**
 * Quarantine, flag and status lines of the segment in `wal_lines`, inside the loader's transaction.
 * A retried held event (same id) is held once; a flagged event's violations are recorded only when
 * the event itself was stored by this load, so a retry does not count twice.
 */
async function loadGovernanceLines(c: DuckDBConnection, sequence: number): Promise<void> {
  const kinds = rowsOf<{ x: number; f: number; s: number }>(
    await readOn(
      c,
      `SELECT count(*) FILTER (WHERE k = 'x') AS x, count(*) FILTER (WHERE k = 'f') AS f,
              count(*) FILTER (WHERE k = 's') AS s FROM wal_lines`,
    ),
  )[0]!;
  if (kinds.x > 0) {
    await runOn(
      c,
      `CREATE OR REPLACE TEMP TABLE held_now AS
       SELECT * FROM (
         SELECT *, row_number() OVER (PARTITION BY id ORDER BY received_at) AS copy FROM wal_lines WHERE k = 'x'
       ) x
       WHERE copy = 1 AND NOT EXISTS (SELECT 1 FROM quarantine_log q WHERE q.id = x.id)`,
    );
    await runOn(
      c,
      `INSERT INTO quarantine_log
       SELECT id, received_at, source, type, event, contract, contract_version, violations, payload,
              ip, ua, agent, 'held', NULL, NULL, $1
       FROM held_now`,
      [sequence],
    );
    await insertViolations(c, 'held_now', 'quarantined', sequence);
    await runOn(c, 'DROP TABLE held_now');
  }
  if (kinds.f > 0) {
    await runOn(
      c,
      `CREATE OR REPLACE TEMP TABLE flagged_now AS
       SELECT * FROM (
         SELECT *, row_number() OVER (PARTITION BY id ORDER BY received_at) AS copy FROM wal_lines WHERE k = 'f'
       ) f
       WHERE copy = 1 AND id IN (SELECT message_id FROM event_log WHERE load_seq = $1)`,
      [sequence],
    );
    await insertViolations(c, 'flagged_now', 'flagged', sequence);
    await runOn(c, 'DROP TABLE flagged_now');
  }
  if (kinds.s > 0) {
    await runOn(
      c,
      `UPDATE quarantine_log SET status = d.status, status_at = d.decided_at, status_by = d.decided_by
       FROM (SELECT unnest(ids) AS id, status, "at" AS decided_at, "by" AS decided_by FROM wal_lines WHERE k = 's') d
       WHERE quarantine_log.id = d.id AND quarantine_log.status = 'held'`,
    );
  }
}

async function insertViolations(
  c: DuckDBConnection,
  table: string,
  outcome: 'quarantined' | 'flagged',
  sequence: number,
): Promise<void> {
  await runOn(
    c,
    `INSERT INTO contract_violation_log
     SELECT id, received_at, source, type, event, contract, '${outcome}', v.path, v.rule, v.message, v.value, $1
     FROM (SELECT *, unnest(json_transform(violations, '${VIOLATIONS_SHAPE}')) AS v FROM ${table})`,
    [sequence],
  );
}

import type {
  GovernanceRepository,
  QuarantinedEventRow,
  QuarantineFilter,
  StatusCount,
  ViolationCount,
  ViolationTimelinePoint,
} from '../store.js';
import type { ParsedAgent, QuarantineStatus, StoredViolation } from '../wal-format.js';
import type { ClickHouseConnection } from './clickhouse-connection.js';
import { finalRead, integer, quote, toDateTimeText } from './clickhouse-sql.js';
import { textOrNull } from './clickhouse-values.js';

/**
 * Quarantined events and contract violations on ClickHouse, read through FINAL so a reloaded segment or a
 * retried event counts once and a quarantined event shows its latest decision. Written only by the loader
 * (`ClickHouseEvents.loadBatch`).
 */
export class ClickHouseGovernance implements GovernanceRepository {
  constructor(private readonly db: ClickHouseConnection) {}

  async listQuarantined(
    filter: QuarantineFilter,
    page: { readonly limit: number; readonly offset?: number; readonly withPayload?: boolean },
  ): Promise<QuarantinedEventRow[]> {
    const payloadColumns = page.withPayload ? ', payload, ip, user_agent, agent' : '';
    const columns = `id, received_at, source, type, event, contract, contract_version, violations,
              status, status_at, status_by${payloadColumns}`;
    const sql = `SELECT * FROM ${finalRead('quarantine_log', columns, this.where(filter))}
       ORDER BY received_at DESC, id
       LIMIT ${integer(page.offset ?? 0)}, ${integer(page.limit)}`;
    const rows = await this.rows(sql);
    return rows.map((row) => {
      const base: QuarantinedEventRow = {
        id: String(row.id),
        receivedAt: String(row.received_at),
        source: String(row.source),
        type: String(row.type),
        event: textOrNull(row.event),
        contract: textOrNull(row.contract),
        contractVersion: textOrNull(row.contract_version),
        violations: JSON.parse(String(row.violations)) as StoredViolation[],
        status: String(row.status) as QuarantineStatus,
        statusAt: textOrNull(row.status_at),
        statusBy: textOrNull(row.status_by),
      };
      if (!page.withPayload) return base;
      return {
        ...base,
        payload: JSON.parse(String(row.payload)) as Record<string, unknown>,
        ip: textOrNull(row.ip),
        userAgent: textOrNull(row.user_agent),
        agent:
          row.agent === null || row.agent === undefined
            ? null
            : (JSON.parse(String(row.agent)) as ParsedAgent),
      };
    });
  }

  async countQuarantined(filter: QuarantineFilter): Promise<StatusCount[]> {
    const rows = await this.rows(
      `SELECT status, count() AS count FROM quarantine_log FINAL WHERE ${this.where(filter)}
       GROUP BY status ORDER BY status`,
    );
    return rows.map((row) => ({ status: String(row.status) as QuarantineStatus, count: Number(row.count) }));
  }

  async violationTimeline(options: {
    interval: 'hour' | 'day';
    from?: Date;
    to?: Date;
  }): Promise<ViolationTimelinePoint[]> {
    const rows = await this.rows(
      `SELECT ${bucketOf(options.interval)} AS bucket, ${GOVERNED_EVENT_NAME} AS event_name, outcome,
              uniqExact(message_id) AS count
       FROM contract_violations WHERE ${timeRange(options)}
       GROUP BY bucket, event_name, outcome ORDER BY bucket, event_name, outcome`,
    );
    // Held events later replayed are stored events too; rates must not count them twice.
    const replayed = await this.rows(
      `SELECT ${bucketOf(options.interval)} AS bucket, ${GOVERNED_EVENT_NAME} AS event_name, 'replayed' AS outcome,
              count() AS count
       FROM quarantine_log FINAL WHERE status = 'replayed' AND ${timeRange(options)}
       GROUP BY bucket, event_name ORDER BY bucket, event_name`,
    );
    rows.push(...replayed);
    return rows.map((row) => ({
      bucket: String(row.bucket),
      event: String(row.event_name),
      outcome: String(row.outcome) as ViolationTimelinePoint['outcome'],
      count: Number(row.count),
    }));
  }

  async eventTimeline(options: {
    interval: 'hour' | 'day';
    from?: Date;
    to?: Date;
  }): Promise<{ bucket: string; event: string; count: number }[]> {
    // Bucketed by received_at, like violations (which know no other time), so the two divide into rates.
    const rows = await this.rows(
      `SELECT ${bucketOf(options.interval)} AS bucket, ${STORED_EVENT_NAME} AS event_name, count() AS count
       FROM event_log FINAL WHERE ${timeRange(options)}
       GROUP BY bucket, event_name ORDER BY bucket, event_name`,
    );
    return rows.map((row) => ({
      bucket: String(row.bucket),
      event: String(row.event_name),
      count: Number(row.count),
    }));
  }

  async topViolations(options: { limit: number; from?: Date }): Promise<ViolationCount[]> {
    const rows = await this.rows(
      `SELECT contract, ${GOVERNED_EVENT_NAME} AS event_name, path, rule,
              count() AS count, max(received_at) AS last_seen
       FROM contract_violations WHERE ${timeRange({ from: options.from })}
       GROUP BY contract, event_name, path, rule
       ORDER BY count DESC, last_seen DESC, event_name, path, rule
       LIMIT ${integer(options.limit)}`,
    );
    return rows.map((row) => ({
      contract: textOrNull(row.contract),
      event: String(row.event_name),
      path: String(row.path),
      rule: String(row.rule),
      count: Number(row.count),
      lastSeen: String(row.last_seen),
    }));
  }

  private where(filter: QuarantineFilter): string {
    const conditions = ['1'];
    const equal = (column: string, value: string | undefined) => {
      if (value !== undefined) conditions.push(`${column} = ${quote(value)}`);
    };
    equal('status', filter.status);
    equal('contract', filter.contract);
    equal('event', filter.event);
    equal('type', filter.type);
    equal('source', filter.source);
    if (filter.rule !== undefined) {
      // GLOBAL: on a cluster the subquery runs once and its ids go to every shard.
      conditions.push(
        `id GLOBAL IN (SELECT message_id FROM contract_violations
                       WHERE outcome = 'quarantined' AND rule = ${quote(filter.rule)})`,
      );
    }
    conditions.push(timeRange(filter));
    if (filter.ids !== undefined) {
      conditions.push(filter.ids.length === 0 ? '0' : `id IN (${filter.ids.map(quote).join(', ')})`);
    }
    return conditions.join(' AND ');
  }

  private rows(sql: string): Promise<Record<string, unknown>[]> {
    // ClickHouse moves WHERE conditions on non-key columns to PREWHERE, which runs before FINAL collapses
    // versions: `status = 'held'` would then match the superseded held version of a decided event.
    return this.db.rows(sql, { optimize_move_to_prewhere: 0 });
  }
}

/** Named as topEventNames names stored events: track → event, page/screen → `page: <name>`, else the type. */
const STORED_EVENT_NAME = `multiIf(type = 'track', ifNull(event, ''),
  type IN ('page', 'screen'), concat(type, ': ', ifNull(name, '(unnamed)')), type)`;

/**
 * The same names from the governance relations, whose `event` holds the page or screen name. (A track
 * call always has an event name by the time a contract sees it; '(unnamed)' only mirrors the DuckDB side.)
 */
const GOVERNED_EVENT_NAME = `multiIf(type = 'track', ifNull(event, '(unnamed)'),
  type IN ('page', 'screen'), concat(type, ': ', ifNull(event, '(unnamed)')), type)`;

function bucketOf(interval: 'hour' | 'day'): string {
  return interval === 'hour' ? 'toStartOfHour(received_at)' : 'toStartOfDay(received_at)';
}

/** `received_at` in [from, to). */
function timeRange(range: { readonly from?: Date | undefined; readonly to?: Date | undefined }): string {
  const conditions = ['1'];
  if (range.from) conditions.push(`received_at >= toDateTime(${quote(toDateTimeText(range.from))}, 'UTC')`);
  if (range.to) conditions.push(`received_at < toDateTime(${quote(toDateTimeText(range.to))}, 'UTC')`);
  return conditions.join(' AND ');
}

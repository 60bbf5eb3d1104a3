import type {
  GovernanceRepository,
  QuarantinedEventRow,
  QuarantineFilter,
  StatusCount,
  ViolationCount,
  ViolationTimelinePoint,
} from '../store.js';
import type { DuckDbSession, SqlParam } from './duckdb-session.js';
import { parseJsonColumn } from './duckdb-values.js';

/** Names events the way `topEventNames` does, from the governance tables' `event` (page/screen name there). */
const EVENT_LABEL = `CASE WHEN type = 'track' THEN coalesce(event, '(unnamed)')
  WHEN type IN ('page', 'screen') THEN type || ': ' || coalesce(event, '(unnamed)') ELSE type END`;
const STORED_EVENT_LABEL = `CASE WHEN type = 'track' THEN coalesce(event, '(unnamed)')
  WHEN type IN ('page', 'screen') THEN type || ': ' || coalesce(name, '(unnamed)') ELSE type END`;

export class DuckDbGovernance implements GovernanceRepository {
  constructor(private readonly reader: DuckDbSession) {}

  async listQuarantined(
    filter: QuarantineFilter,
    page: { limit: number; offset?: number; withPayload?: boolean },
  ): Promise<QuarantinedEventRow[]> {
    const { where, params } = whereOf(filter);
    params.push(page.limit, page.offset ?? 0);
    const rows = await this.reader.all<Record<string, unknown>>(
      `SELECT id, received_at, source, type, event, contract, contract_version, violations, status, status_at,
              status_by ${page.withPayload ? ', payload, ip, user_agent, agent' : ''}
       FROM quarantine_log ${where}
       ORDER BY received_at DESC, id LIMIT $${params.length - 1} OFFSET $${params.length}`,
      params,
    );
    return rows.map((row) => ({
      id: row.id as string,
      receivedAt: row.received_at as string,
      source: row.source as string,
      type: row.type as string,
      event: (row.event as string | null) ?? null,
      contract: (row.contract as string | null) ?? null,
      contractVersion: (row.contract_version as string | null) ?? null,
      violations: parseJsonColumn(row.violations) as QuarantinedEventRow['violations'],
      status: row.status as QuarantinedEventRow['status'],
      statusAt: (row.status_at as string | null) ?? null,
      statusBy: (row.status_by as string | null) ?? null,
      ...(page.withPayload
        ? {
            payload: parseJsonColumn(row.payload) as Record<string, unknown>,
            ip: (row.ip as string | null) ?? null,
            userAgent: (row.user_agent as string | null) ?? null,
            agent: (parseJsonColumn(row.agent) as QuarantinedEventRow['agent']) ?? null,
          }
        : {}),
    }));
  }

  async countQuarantined(filter: QuarantineFilter): Promise<StatusCount[]> {
    const { where, params } = whereOf(filter);
    return this.reader.all<StatusCount>(
      `SELECT status, count(*) AS count FROM quarantine_log ${where} GROUP BY status ORDER BY status`,
      params,
    );
  }

  violationTimeline(options: {
    interval: 'hour' | 'day';
    from?: Date;
    to?: Date;
  }): Promise<ViolationTimelinePoint[]> {
    const { where, params } = timeRange(options);
    return this.reader.all<ViolationTimelinePoint>(
      `SELECT date_trunc('${unitOf(options.interval)}', received_at) AS bucket, ${EVENT_LABEL} AS event, outcome,
              count(DISTINCT message_id) AS count
       FROM contract_violation_log ${where}
       GROUP BY ALL
       UNION ALL
       -- Held events later replayed are stored events too; rates must not count them twice.
       SELECT date_trunc('${unitOf(options.interval)}', received_at), ${EVENT_LABEL}, 'replayed', count(*)
       FROM quarantine_log ${where ? `${where} AND` : 'WHERE'} status = 'replayed'
       GROUP BY ALL
       ORDER BY bucket, event, outcome`,
      params,
    );
  }

  eventTimeline(options: {
    interval: 'hour' | 'day';
    from?: Date;
    to?: Date;
  }): Promise<{ bucket: string; event: string; count: number }[]> {
    const { where, params } = timeRange(options);
    return this.reader.all(
      `SELECT date_trunc('${unitOf(options.interval)}', received_at) AS bucket, ${STORED_EVENT_LABEL} AS event,
              count(*) AS count
       FROM event_log ${where}
       GROUP BY ALL ORDER BY bucket, event`,
      params,
    );
  }

  topViolations(options: { limit: number; from?: Date }): Promise<ViolationCount[]> {
    const { where, params } = timeRange(options);
    params.push(options.limit);
    return this.reader.all<ViolationCount>(
      `SELECT contract, ${EVENT_LABEL} AS event, path, rule, count(*) AS count, max(received_at) AS "lastSeen"
       FROM contract_violation_log ${where}
       GROUP BY contract, ${EVENT_LABEL}, path, rule
       ORDER BY count DESC, "lastSeen" DESC, event, path, rule LIMIT $${params.length}`,
      params,
    );
  }
}

function whereOf(filter: QuarantineFilter): { where: string; params: SqlParam[] } {
  const clauses: string[] = [];
  const params: SqlParam[] = [];
  const add = (sql: (placeholder: string) => string, value: SqlParam) => {
    params.push(value);
    clauses.push(sql(`$${params.length}`));
  };
  if (filter.status) add((p) => `status = ${p}`, filter.status);
  if (filter.contract) add((p) => `contract = ${p}`, filter.contract);
  if (filter.event) add((p) => `event = ${p}`, filter.event);
  if (filter.type) add((p) => `type = ${p}`, filter.type);
  if (filter.source) add((p) => `source = ${p}`, filter.source);
  if (filter.from) add((p) => `received_at >= ${p}::TIMESTAMPTZ`, filter.from.toISOString());
  if (filter.to) add((p) => `received_at < ${p}::TIMESTAMPTZ`, filter.to.toISOString());
  if (filter.rule) {
    add(
      (p) =>
        `id IN (SELECT message_id FROM contract_violation_log WHERE outcome = 'quarantined' AND rule = ${p})`,
      filter.rule,
    );
  }
  if (filter.ids) {
    if (filter.ids.length === 0) clauses.push('false');
    else {
      const placeholders = filter.ids.map((id) => {
        params.push(id);
        return `$${params.length}`;
      });
      clauses.push(`id IN (${placeholders.join(', ')})`);
    }
  }
  return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

function timeRange(options: { from?: Date; to?: Date }): { where: string; params: SqlParam[] } {
  const clauses: string[] = [];
  const params: SqlParam[] = [];
  if (options.from) {
    params.push(options.from.toISOString());
    clauses.push(`received_at >= $${params.length}::TIMESTAMPTZ`);
  }
  if (options.to) {
    params.push(options.to.toISOString());
    clauses.push(`received_at < $${params.length}::TIMESTAMPTZ`);
  }
  return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

function unitOf(interval: 'hour' | 'day'): string {
  return interval === 'hour' ? 'hour' : 'day';
}

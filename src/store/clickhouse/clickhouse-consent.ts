import type { ConsentSource } from '../../privacy/consent-capture.js';
import {
  CONSENT_PURPOSES,
  type ConsentDefaults,
  type ConsentPurpose,
} from '../../privacy/consent-purposes.js';
import {
  CONSENT_DEFAULTS_KEY,
  type ConsentHistoryRow,
  type ConsentRepository,
  consentFlagColumn,
  defaultsText,
  MIGRATION_DEFAULTS,
  type OverviewAxis,
  type OverviewIncrements,
  type PurposeReader,
  purposeView,
  SOURCE_STRENGTH,
} from '../consent-types.js';
import type { IdentityCursors } from '../identity-types.js';
import type { Migration } from '../migration.js';
import type { QueryResult } from '../query-result.js';
import type { ReadQueryOptions } from '../store.js';
import type { ConsentRecord } from '../wal-format.js';
import type { ClickHouseConnection } from './clickhouse-connection.js';
import { chunked } from './clickhouse-events.js';
import { ClickHouseMetadata } from './clickhouse-keys.js';
import { integer, quote, toDateTimeText } from './clickhouse-sql.js';

const TIME = "DateTime('UTC')";
const FLAG_LIST = CONSENT_PURPOSES.map(consentFlagColumn);
const EVENT_COLUMNS = `message_id, type, event, name, category, user_id, anonymous_id, group_id, previous_id,
  timestamp, original_timestamp, sent_at, received_at, properties, traits, context, integrations,
  extra, source, ip, user_agent, browser, browser_version, os, device_type`;

/** See CLICKHOUSE identity: FINAL reads must not have conditions moved before FINAL picks the newest row. */
const FINAL_READ = { optimize_move_to_prewhere: 0 } as const;

function purposeViewSql(purpose: ConsentPurpose, defaults: ConsentDefaults): string {
  const fallback = defaults[purpose] === 'granted' ? 1 : 0;
  return `CREATE VIEW ${purposeView(purpose)} AS SELECT ${EVENT_COLUMNS}, person_id
    FROM events WHERE ifNull(${consentFlagColumn(purpose)}, ${fallback}) = 1`;
}

/**
 * Consent on ClickHouse: the history (`consent_log`) and unknown category names, keyed by where each row came
 * from in its segment so a replayed segment collapses under FINAL; per-purpose flags as Nullable(UInt8) columns
 * of `identity_links` (1, 0, NULL for no decision), which `events` carries through its one join and the
 * purpose views filter on. Decision times are epoch milliseconds, as identity's are. A category is '' when
 * there is none (it is part of the sorting key); the view shows NULL.
 */
export const CLICKHOUSE_CONSENT_MIGRATION: Migration = {
  id: '006-consent',
  statements: [
    `CREATE TABLE consent_log (
      identifier String, purpose String, granted UInt8, source String, category String, at_ms Int64,
      received_at ${TIME}, message_id String, stream String, load_seq UInt64, line_no UInt32
    ) ENGINE = ReplacingMergeTree() ORDER BY (stream, load_seq, line_no, identifier, purpose, source, category)`,
    `CREATE TABLE consent_unknown_log (
      category String, message_id String, received_at ${TIME}, stream String, load_seq UInt64, line_no UInt32
    ) ENGINE = ReplacingMergeTree() ORDER BY (stream, load_seq, line_no, category)`,
    `ALTER TABLE identity_links ${FLAG_LIST.map((column) => `ADD COLUMN ${column} Nullable(UInt8)`).join(', ')}`,
    'DROP TABLE IF EXISTS events',
    `CREATE VIEW events AS SELECT
      ${EVENT_COLUMNS}, person_id, ${FLAG_LIST.join(', ')}
    FROM (
      SELECT
        ${EVENT_COLUMNS},
        multiIf(isNotNull(user_id), concat('user_id:', assumeNotNull(user_id)),
                isNotNull(anonymous_id), concat('anonymous_id:', assumeNotNull(anonymous_id)),
                '') AS identity_key
      FROM event_log FINAL
    )
    GLOBAL ANY LEFT JOIN (
      SELECT identifier AS identity_key, if(deleted = 0, toNullable(person_id), NULL) AS person_id,
        ${FLAG_LIST.map((column) => `if(deleted = 0, ${column}, NULL) AS ${column}`).join(', ')}
      FROM identity_links FINAL
    ) USING identity_key`,
    `CREATE VIEW consents AS SELECT
      person_id, identifier_type, identifier_value, purpose, granted, source, category, at, received_at, message_id
    FROM (
      SELECT identifier, substring(identifier, 1, position(identifier, ':') - 1) AS identifier_type,
        substring(identifier, position(identifier, ':') + 1) AS identifier_value, purpose, granted, source,
        if(category = '', NULL, toNullable(category)) AS category,
        toDateTime(intDiv(at_ms, 1000), 'UTC') AS at, received_at, message_id
      FROM consent_log FINAL
    )
    GLOBAL ANY LEFT JOIN (
      SELECT identifier, if(deleted = 0, toNullable(person_id), NULL) AS person_id FROM identity_links FINAL
    ) USING identifier`,
    ...CONSENT_PURPOSES.map((purpose) => purposeViewSql(purpose, MIGRATION_DEFAULTS)),
  ],
};

/** The rows a segment's consent lines give `consent_log` and `consent_unknown_log` (same rows on a replay). */
export function consentRowsOf(
  records: readonly { readonly record: ConsentRecord; readonly line: number }[],
  stream: string,
  sequence: number,
): { history: Record<string, unknown>[]; unknown: Record<string, unknown>[] } {
  const history: Record<string, unknown>[] = [];
  const unknown: Record<string, unknown>[] = [];
  for (const { record, line } of records) {
    const shared = {
      message_id: record.id,
      received_at: toDateTimeText(record.received_at),
      stream,
      load_seq: sequence,
      line_no: line,
    };
    for (const identifier of record.ids) {
      for (const decision of record.consent) {
        if (!(CONSENT_PURPOSES as readonly string[]).includes(decision.purpose)) continue;
        const atMs = Date.parse(decision.at);
        if (Number.isNaN(atMs)) continue;
        history.push({
          identifier,
          purpose: decision.purpose,
          granted: decision.granted ? 1 : 0,
          source: decision.source,
          category: decision.category ?? '',
          at_ms: atMs,
          ...shared,
        });
      }
    }
    for (const category of new Set(record.unknown ?? [])) unknown.push({ category, ...shared });
  }
  return { history, unknown };
}

export class ClickHouseConsent implements ConsentRepository {
  private readonly metadata: ClickHouseMetadata;

  constructor(
    private readonly db: ClickHouseConnection,
    private readonly query: (sql: string, options: ReadQueryOptions) => Promise<QueryResult>,
  ) {
    this.metadata = new ClickHouseMetadata(db);
  }

  async changedAfter(
    cursors: IdentityCursors,
  ): Promise<{ identifiers: string[]; cursors: Map<string, number> }> {
    const named = [...cursors];
    const after = named.map(([stream, seq]) => `(stream = ${quote(stream)} AND load_seq > ${integer(seq)})`);
    if (named.length > 0) after.push(`stream NOT IN (${named.map(([stream]) => quote(stream)).join(', ')})`);
    const rows = await this.db.rows(
      `SELECT stream, max(load_seq) AS seq, groupUniqArray(identifier) AS identifiers FROM consent_log
       WHERE ${after.length > 0 ? after.join(' OR ') : '1'}
       GROUP BY stream`,
    );
    const identifiers = new Set<string>();
    for (const row of rows) for (const identifier of row.identifiers as string[]) identifiers.add(identifier);
    return {
      identifiers: [...identifiers],
      cursors: new Map(rows.map((row) => [String(row.stream), Number(row.seq)])),
    };
  }

  async historyOf(identifiers: readonly string[]): Promise<ConsentHistoryRow[]> {
    const history: (ConsentHistoryRow & { order: string })[] = [];
    for (const keys of chunked([...new Set(identifiers)])) {
      const rows = await this.db.rows(
        `SELECT identifier, purpose, granted, source, category, at_ms, message_id, load_seq, line_no
         FROM consent_log FINAL WHERE identifier IN (${keys.map(quote).join(', ')})`,
        FINAL_READ,
      );
      for (const row of rows) {
        history.push({
          identifier: String(row.identifier),
          purpose: String(row.purpose) as ConsentPurpose,
          granted: Number(row.granted) === 1,
          source: String(row.source) as ConsentSource,
          category: row.category === '' || row.category === null ? null : String(row.category),
          at: new Date(Number(row.at_ms)).toISOString(),
          messageId: String(row.message_id),
          order: `${String(Number(row.at_ms)).padStart(16, '0')}|${String(row.load_seq).padStart(20, '0')}|${String(row.line_no).padStart(10, '0')}|${String(row.identifier)}|${String(row.purpose)}`,
        });
      }
    }
    history.sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0));
    return history.map(({ order: _order, ...row }) => row);
  }

  async identifiersWithHistory(): Promise<string[]> {
    const rows = await this.db.rows('SELECT DISTINCT identifier FROM consent_log');
    return rows.map((row) => String(row.identifier));
  }

  async overview(axis: OverviewAxis, defaults: ConsentDefaults): Promise<OverviewIncrements> {
    const from = integer(axis.fromMs);
    const to = integer(axis.toMs);
    const step = integer(axis.stepMs);
    const bucketOf = (ms: string) => `if(${ms} < ${from}, -1, intDiv(${ms} - ${from}, ${step}))`;
    const defaultOf = `multiIf(${CONSENT_PURPOSES.map(
      (purpose) => `purpose = '${purpose}', ${defaults[purpose] === 'granted' ? 1 : 0}`,
    ).join(', ')}, 0)`;
    const strength = `multiIf(${Object.entries(SOURCE_STRENGTH)
      .map(([source, rank]) => `source = '${source}', ${rank}`)
      .join(', ')}, 0)`;
    const livePersons = `SELECT person_id, first_seen_ms AS first_ms
      FROM (SELECT person_id, first_seen_ms, merged_into FROM identity_persons FINAL) WHERE isNull(merged_into)`;
    const [people, granted, unknown] = await Promise.all([
      this.db.rows(
        `SELECT ${bucketOf('first_ms')} AS bucket, count() AS count FROM (${livePersons})
         WHERE first_ms < ${to} GROUP BY bucket`,
        FINAL_READ,
      ),
      // Per person and purpose, every decision as one sorting key (time, source strength, denial last), so
      // the last one up to a moment is the standing then; each step counts its change from the one before.
      this.db.rows(
        `SELECT ${bucketOf('t')} AS bucket, purpose, sum(d) AS delta
         FROM (
          SELECT purpose, d, greatest(intDiv(k, 8), first_ms) AS t
          FROM (
           SELECT purpose, first_ms, ks,
             arrayMap(x -> 1 - x % 2, ks) AS gs,
             arrayMap((g, p) -> g - p, gs, arrayPushFront(arrayPopBack(gs), toInt64(${defaultOf}))) AS ds
           FROM (
             SELECT person_id, purpose, arraySort(groupArray(k)) AS ks
             FROM (
               SELECT identifier, purpose, toInt64(at_ms * 8 + ${strength} * 2 + (1 - granted)) AS k
               FROM consent_log FINAL
             )
             GLOBAL ANY INNER JOIN (
               SELECT identifier, person_id
               FROM (SELECT identifier, person_id, deleted FROM identity_links FINAL) WHERE deleted = 0
             ) USING identifier
             GROUP BY person_id, purpose
           )
           GLOBAL ANY INNER JOIN (${livePersons}) USING person_id
          )
          ARRAY JOIN ks AS k, ds AS d
         )
         WHERE d != 0 AND t < ${to}
         GROUP BY bucket, purpose`,
        FINAL_READ,
      ),
      this.db.rows(
        `SELECT category, count() AS count FROM consent_unknown_log FINAL
         GROUP BY category ORDER BY count DESC, category LIMIT 100`,
      ),
    ]);
    return {
      people: people.map((row) => ({ bucket: Number(row.bucket), count: Number(row.count) })),
      granted: granted.map((row) => ({
        bucket: Number(row.bucket),
        purpose: String(row.purpose) as ConsentPurpose,
        delta: Number(row.delta),
      })),
      unknownCategories: unknown.map((row) => ({ category: String(row.category), count: Number(row.count) })),
    };
  }

  async applyDefaults(defaults: ConsentDefaults): Promise<boolean> {
    const wanted = defaultsText(defaults);
    const recorded = (await this.metadata.get(CONSENT_DEFAULTS_KEY)) ?? defaultsText(MIGRATION_DEFAULTS);
    // The views themselves are checked too: `refinery migrate` copies the metadata, not the views.
    if (recorded === wanted && (await this.viewsFollow(defaults))) return false;
    // No transactional DDL: each view is replaced in turn, and the defaults are recorded last, so an
    // interrupted change is redone at the next start.
    for (const purpose of CONSENT_PURPOSES) {
      await this.db.onEveryNode(`DROP TABLE IF EXISTS ${purposeView(purpose)}`);
      await this.db.onEveryNode(purposeViewSql(purpose, defaults));
    }
    await this.metadata.set(CONSENT_DEFAULTS_KEY, wanted);
    return true;
  }

  /** Whether every purpose view exists and falls back to the given default. */
  private async viewsFollow(defaults: ConsentDefaults): Promise<boolean> {
    const rows = await this.db.rows(
      `SELECT name, create_table_query FROM system.tables
       WHERE database = currentDatabase() AND name IN (${CONSENT_PURPOSES.map((p) => quote(purposeView(p))).join(', ')})`,
    );
    const definitions = new Map(rows.map((row) => [String(row.name), String(row.create_table_query)]));
    return CONSENT_PURPOSES.every((purpose) => {
      const fallback = /ifNull\(consent_\w+, (\d)\)/.exec(definitions.get(purposeView(purpose)) ?? '')?.[1];
      return fallback === (defaults[purpose] === 'granted' ? '1' : '0');
    });
  }

  forPurpose(purpose: ConsentPurpose): PurposeReader {
    return {
      purpose,
      relation: purposeView(purpose),
      query: (sql, options) => this.query(sql, { ...options, purpose }),
    };
  }
}

import type { Migration } from '../migration.js';
import { CLICKHOUSE_CONSENT_MIGRATION } from './clickhouse-consent.js';
import { CLICKHOUSE_IMPORT_EMAIL_HASH_MIGRATION } from './clickhouse-imports.js';
import { CLICKHOUSE_PRIVACY_MIGRATION } from './clickhouse-privacy.js';

const NULLABLE_TEXT = 'Nullable(String)';
const TIME = "DateTime('UTC')";
const DECIMAL = 'Nullable(Decimal(18, 4))';

/**
 * Schema history for ClickHouse, written for 18.16 (Debian's) and current releases alike: no DateTime64,
 * no JSON type, no transactions. Tables that are updated in place are ReplacingMergeTree keyed by what
 * identifies a row, and read through FINAL views, so a replayed insert never shows twice.
 */
/**
 * How each table is split across a cluster's shards: rows with the same key land on the same shard, so
 * FINAL on each shard sees every copy of a row (a retried message, a key's versions).
 */
export const SHARDING_KEYS: Readonly<Record<string, string>> = {
  event_log: 'cityHash64(message_id)',
  reject_log: 'cityHash64(stream)',
  loader_state: 'cityHash64(stream)',
  api_keys: 'cityHash64(id)',
  metadata: 'cityHash64(key)',
  import_log: 'cityHash64(import_id)',
  import_reject_log: 'cityHash64(import_id)',
  // Every line of an order on one shard, so FINAL there sees an order's replaced lines and tombstones.
  order_line_data: 'cityHash64(order_id)',
  customer_data: 'cityHash64(customer_id)',
  product_data: 'cityHash64(product_id)',
  // A quarantined event's versions (held, then replayed or discarded) meet on one shard, and so do the
  // copies of a retried event's violations.
  quarantine_log: 'cityHash64(id)',
  contract_violation_log: 'cityHash64(message_id)',
  // Identity: a segment's observations together; every version of a person, link, merge, refusal or
  // cursor on the shard of its key; a pending write and its applied marker together.
  identity_observation_log: 'cityHash64(stream, load_seq)',
  identity_persons: 'cityHash64(person_id)',
  identity_links: 'cityHash64(identifier)',
  identity_merge_log: 'cityHash64(from_id)',
  identity_refusal_log: 'cityHash64(refusal_key)',
  identity_cursors: 'cityHash64(stream)',
  identity_change_log: 'cityHash64(version)',
  // Consent: a segment's history rows together, like its identity observations.
  consent_log: 'cityHash64(stream, load_seq)',
  consent_unknown_log: 'cityHash64(stream, load_seq)',
  // A data-subject request's versions meet on one shard.
  privacy_requests: 'cityHash64(id)',
  // A set-aside log line's versions (held, then replayed or discarded) meet on one shard.
  wal_damaged_lines: 'cityHash64(id)',
};

/**
 * On a cluster, a table becomes a `<name>_local` table on every node plus a `Distributed` table under the
 * original name; everything else (views, queries) is unchanged.
 */
export function forCluster(statement: string, cluster: string, database: string): string[] {
  // A column added to a sharded table goes to every node's local table and to the Distributed one.
  const altered = /^\s*ALTER TABLE (\w+) /.exec(statement)?.[1];
  if (altered && SHARDING_KEYS[altered]) {
    return [statement.replace(`ALTER TABLE ${altered} `, `ALTER TABLE ${altered}_local `), statement];
  }
  const match = /^\s*CREATE TABLE (\w+) /.exec(statement);
  const table = match?.[1];
  if (!table || !SHARDING_KEYS[table]) return [statement];
  return [
    statement.replace(`CREATE TABLE ${table} `, `CREATE TABLE ${table}_local `),
    `CREATE TABLE ${table} AS ${table}_local
     ENGINE = Distributed(${cluster}, ${database}, ${table}_local, ${SHARDING_KEYS[table]})`,
  ];
}

export const CLICKHOUSE_MIGRATIONS: readonly Migration[] = [
  {
    id: '001-events',
    statements: [
      `CREATE TABLE event_log (
        message_id String, type String, event ${NULLABLE_TEXT}, name ${NULLABLE_TEXT}, category ${NULLABLE_TEXT},
        user_id ${NULLABLE_TEXT}, anonymous_id ${NULLABLE_TEXT}, group_id ${NULLABLE_TEXT}, previous_id ${NULLABLE_TEXT},
        timestamp ${TIME}, original_timestamp Nullable(${TIME}), sent_at Nullable(${TIME}), received_at ${TIME},
        properties ${NULLABLE_TEXT}, traits ${NULLABLE_TEXT}, context ${NULLABLE_TEXT}, integrations ${NULLABLE_TEXT},
        extra ${NULLABLE_TEXT}, source String, ip ${NULLABLE_TEXT}, user_agent ${NULLABLE_TEXT},
        browser ${NULLABLE_TEXT}, browser_version ${NULLABLE_TEXT}, os ${NULLABLE_TEXT}, device_type ${NULLABLE_TEXT},
        stream String, load_seq UInt64
      ) ENGINE = ReplacingMergeTree(load_seq)
      PARTITION BY toYYYYMM(timestamp)
      ORDER BY (type, ifNull(event, ''), toDate(timestamp), message_id)`,
      `CREATE TABLE reject_log (
        received_at ${TIME}, source ${NULLABLE_TEXT}, message_id ${NULLABLE_TEXT}, type ${NULLABLE_TEXT},
        reason_code String, reason String, field ${NULLABLE_TEXT}, payload String,
        stream String, load_seq UInt64, line_no UInt32
      ) ENGINE = ReplacingMergeTree()
      PARTITION BY toYYYYMM(received_at)
      ORDER BY (stream, load_seq, line_no)`,
      `CREATE TABLE loader_state (stream String, last_sequence UInt64, loaded_at ${TIME})
      ENGINE = ReplacingMergeTree(last_sequence) ORDER BY stream`,
      `CREATE VIEW events AS SELECT
        message_id, type, event, name, category, user_id, anonymous_id, group_id, previous_id,
        timestamp, original_timestamp, sent_at, received_at, properties, traits, context, integrations,
        extra, source, ip, user_agent, browser, browser_version, os, device_type
      FROM event_log FINAL`,
      `CREATE VIEW rejected_events AS SELECT
        received_at, source, message_id, type, reason_code, reason, field, payload, load_seq
      FROM reject_log FINAL`,
    ],
  },
  {
    id: '002-keys-and-metadata',
    statements: [
      `CREATE TABLE api_keys (
        id String, kind String, name String, source ${NULLABLE_TEXT}, hash String, prefix String,
        created_at ${TIME}, revoked_at Nullable(${TIME}), version UInt64
      ) ENGINE = ReplacingMergeTree(version) ORDER BY id`,
      'CREATE TABLE metadata (key String, value String, version UInt64) ENGINE = ReplacingMergeTree(version) ORDER BY key',
    ],
  },
  {
    // Imports: the same public views as DuckDB's (column names and meaning), over ReplacingMergeTree tables.
    // Re-importing a key writes a newer `version` of its row; FINAL shows the newest. An order that shrinks
    // gets a tombstone (`deleted = 1`, newer version) for each line the new import no longer has, so FINAL
    // shows exactly the lines of its latest import. No partitions: a replacement must meet the row it
    // replaces in the same partition for FINAL to collapse them.
    id: '003-imports',
    statements: [
      `CREATE TABLE import_log (
        import_id String, file String, target String, format String, source ${NULLABLE_TEXT},
        started_at ${TIME}, finished_at ${TIME},
        rows_read UInt64, imported UInt64, rejected UInt64, skipped UInt64, replaced UInt64,
        mapping String
      ) ENGINE = ReplacingMergeTree() ORDER BY import_id`,
      `CREATE TABLE import_reject_log (
        import_id String, line UInt64, reason String, field ${NULLABLE_TEXT}, row ${NULLABLE_TEXT}
      ) ENGINE = ReplacingMergeTree() ORDER BY (import_id, line)`,
      `CREATE TABLE order_line_data (
        order_id String, line_number Int32, ordered_at ${TIME},
        customer_id ${NULLABLE_TEXT}, email ${NULLABLE_TEXT}, channel ${NULLABLE_TEXT}, store ${NULLABLE_TEXT},
        product_id ${NULLABLE_TEXT}, product_name ${NULLABLE_TEXT}, category ${NULLABLE_TEXT},
        quantity Float64, unit_price ${DECIMAL}, amount ${DECIMAL},
        currency ${NULLABLE_TEXT}, country ${NULLABLE_TEXT}, status ${NULLABLE_TEXT}, extra ${NULLABLE_TEXT},
        import_id String, imported_at ${TIME}, deleted UInt8, version UInt64
      ) ENGINE = ReplacingMergeTree(version) ORDER BY (order_id, line_number)`,
      `CREATE TABLE customer_data (
        customer_id String, email ${NULLABLE_TEXT}, phone ${NULLABLE_TEXT}, first_name ${NULLABLE_TEXT},
        last_name ${NULLABLE_TEXT}, name ${NULLABLE_TEXT}, city ${NULLABLE_TEXT}, postal_code ${NULLABLE_TEXT},
        country ${NULLABLE_TEXT}, created_at Nullable(${TIME}), extra ${NULLABLE_TEXT},
        import_id String, imported_at ${TIME}, version UInt64
      ) ENGINE = ReplacingMergeTree(version) ORDER BY customer_id`,
      `CREATE TABLE product_data (
        product_id String, name ${NULLABLE_TEXT}, category ${NULLABLE_TEXT}, brand ${NULLABLE_TEXT},
        price ${DECIMAL}, currency ${NULLABLE_TEXT}, extra ${NULLABLE_TEXT},
        import_id String, imported_at ${TIME}, version UInt64
      ) ENGINE = ReplacingMergeTree(version) ORDER BY product_id`,
      `CREATE VIEW imports AS SELECT
        import_id, file, target, format, source, started_at, finished_at,
        rows_read, imported, rejected, skipped, replaced, mapping
      FROM import_log FINAL`,
      'CREATE VIEW import_rejects AS SELECT import_id, line, reason, field, row FROM import_reject_log FINAL',
      `CREATE VIEW orders AS SELECT
        order_id, line_number, ordered_at, customer_id, email, channel, store, product_id, product_name, category,
        quantity, unit_price, amount, currency, country, status, extra, import_id, imported_at
      FROM order_line_data FINAL WHERE deleted = 0`,
      `CREATE VIEW order_summary AS SELECT
        order_id,
        min(ordered_at) AS ordered_at,
        any(customer_id) AS customer_id,
        any(email) AS email,
        any(channel) AS channel,
        any(store) AS store,
        any(status) AS status,
        count() AS lines,
        sum(quantity) AS items,
        sum(amount) AS total,
        any(currency) AS currency,
        any(country) AS country
      FROM orders GROUP BY order_id`,
      `CREATE VIEW customers AS SELECT
        customer_id, email, phone, first_name, last_name, name, city, postal_code, country, created_at,
        extra, import_id, imported_at
      FROM customer_data FINAL`,
      `CREATE VIEW products AS SELECT
        product_id, name, category, brand, price, currency, extra, import_id, imported_at
      FROM product_data FINAL`,
    ],
  },
  {
    // Governance: events held back by an enforced contract, and the violations of held and flagged events.
    // A decision (replayed, discarded) is a newer version of the quarantined row, versioned by the decision's
    // time in milliseconds, so a reloaded segment writes the same version again and a held retry (version 0)
    // never hides a decision. Violations are keyed by what identifies one, so a retried event's copies collapse.
    // No partitions, for the same reason as the import tables: versions must meet in one partition.
    id: '004-governance',
    statements: [
      `CREATE TABLE quarantine_log (
        id String, received_at ${TIME}, source String, type String,
        event ${NULLABLE_TEXT}, contract ${NULLABLE_TEXT}, contract_version ${NULLABLE_TEXT},
        violations String, payload String,
        ip ${NULLABLE_TEXT}, user_agent ${NULLABLE_TEXT}, agent ${NULLABLE_TEXT},
        status String, status_at Nullable(${TIME}), status_by ${NULLABLE_TEXT},
        version UInt64, load_seq UInt64
      ) ENGINE = ReplacingMergeTree(version) ORDER BY id`,
      `CREATE TABLE contract_violation_log (
        message_id String, received_at ${TIME}, source String, type String,
        event ${NULLABLE_TEXT}, contract ${NULLABLE_TEXT}, outcome String,
        path String, rule String, message String, value ${NULLABLE_TEXT},
        load_seq UInt64
      ) ENGINE = ReplacingMergeTree() ORDER BY (message_id, outcome, path, rule)`,
      `CREATE VIEW quarantined_events AS SELECT
        id, received_at, source, type, event, contract, contract_version, violations,
        status, status_at, status_by
      FROM quarantine_log FINAL`,
      `CREATE VIEW contract_violations AS SELECT
        message_id, received_at, source, type, event, contract, outcome, path, rule, message, value
      FROM contract_violation_log FINAL`,
    ],
  },
  {
    // Identity: observations as loaded (the graph's input; a reloaded segment writes the same keys again),
    // and the graph's state as ReplacingMergeTree(version) tables keyed by what identifies a row. A link that
    // must disappear gets a tombstone (`deleted = 1`, newer version). Times are epoch milliseconds (Int64),
    // since 18.16 has no DateTime64 and a restored graph must order persons exactly as the one in memory did;
    // the views show them as DateTime. A save is first recorded whole in `identity_change_log` and then
    // applied (see ClickHouseIdentity). Views read FINAL in a subquery and filter outside it, so a status
    // filter never moves to PREWHERE, which would run before FINAL has picked the newest version.
    id: '005-identity',
    statements: [
      `CREATE TABLE identity_observation_log (
        stream String, load_seq UInt64, line_no UInt32, message_id String, at_ms Int64, identifiers Array(String)
      ) ENGINE = ReplacingMergeTree() ORDER BY (stream, load_seq, line_no)`,
      `CREATE TABLE identity_persons (
        person_id String, seq UInt64, first_seen_ms Int64, merged_into ${NULLABLE_TEXT}, version UInt64
      ) ENGINE = ReplacingMergeTree(version) ORDER BY person_id`,
      `CREATE TABLE identity_links (
        identifier String, identifier_type String, identifier_value String, person_id String,
        deleted UInt8, version UInt64
      ) ENGINE = ReplacingMergeTree(version) ORDER BY identifier`,
      `CREATE TABLE identity_merge_log (
        from_id String, into_id String, via_type String, via_value String, at_ms Int64,
        message_id ${NULLABLE_TEXT}, ordinal UInt32, version UInt64
      ) ENGINE = ReplacingMergeTree(version) ORDER BY from_id`,
      `CREATE TABLE identity_refusal_log (
        refusal_key String, reason String, identifier_type String, identifier_value String,
        held_by ${NULLABLE_TEXT}, person_id String, limit_type ${NULLABLE_TEXT}, limit_value Nullable(Int64),
        would_hold Nullable(Int64), count UInt64, first_at_ms Int64, first_message_id ${NULLABLE_TEXT},
        last_at_ms Int64, last_message_id ${NULLABLE_TEXT}, version UInt64
      ) ENGINE = ReplacingMergeTree(version) ORDER BY refusal_key`,
      `CREATE TABLE identity_cursors (stream String, load_seq UInt64, version UInt64)
      ENGINE = ReplacingMergeTree(version) ORDER BY stream`,
      // One row per save holding all its rows (JSON) until applied; the applied marker (empty, applied = 1)
      // replaces it, so merges reclaim the space.
      `CREATE TABLE identity_change_log (version UInt64, changes String, applied UInt8)
      ENGINE = ReplacingMergeTree(applied) ORDER BY version`,
      'DROP TABLE IF EXISTS events',
      // One JOIN per SELECT on 18.16: the event's identity key is computed in a subquery and joined with
      // USING. GLOBAL: on a cluster the links are read once and sent along, whatever runs the join.
      `CREATE VIEW events AS SELECT
        message_id, type, event, name, category, user_id, anonymous_id, group_id, previous_id,
        timestamp, original_timestamp, sent_at, received_at, properties, traits, context, integrations,
        extra, source, ip, user_agent, browser, browser_version, os, device_type, person_id
      FROM (
        SELECT
          message_id, type, event, name, category, user_id, anonymous_id, group_id, previous_id,
          timestamp, original_timestamp, sent_at, received_at, properties, traits, context, integrations,
          extra, source, ip, user_agent, browser, browser_version, os, device_type,
          multiIf(isNotNull(user_id), concat('user_id:', assumeNotNull(user_id)),
                  isNotNull(anonymous_id), concat('anonymous_id:', assumeNotNull(anonymous_id)),
                  '') AS identity_key
        FROM event_log FINAL
      )
      GLOBAL ANY LEFT JOIN (
        SELECT identifier AS identity_key, if(deleted = 0, toNullable(person_id), NULL) AS person_id
        FROM identity_links FINAL
      ) USING identity_key`,
      `CREATE VIEW persons AS SELECT person_id, first_seen_at, identifier_count
      FROM (
        SELECT person_id, toDateTime(intDiv(first_seen_ms, 1000), 'UTC') AS first_seen_at
        FROM (SELECT person_id, first_seen_ms, merged_into FROM identity_persons FINAL)
        WHERE isNull(merged_into)
      )
      GLOBAL ANY LEFT JOIN (
        SELECT person_id, count() AS identifier_count
        FROM (SELECT person_id, deleted FROM identity_links FINAL)
        WHERE deleted = 0 GROUP BY person_id
      ) USING person_id`,
      `CREATE VIEW identities AS SELECT person_id, identifier_type, identifier_value
      FROM (SELECT person_id, identifier_type, identifier_value, deleted FROM identity_links FINAL)
      WHERE deleted = 0`,
      `CREATE VIEW identity_merges AS SELECT
        from_id AS merged_person_id, into_id AS person_id, via_type, via_value,
        toDateTime(intDiv(at_ms, 1000), 'UTC') AS at, message_id
      FROM identity_merge_log FINAL`,
      `CREATE VIEW identity_refusals AS SELECT
        reason, identifier_type, identifier_value, held_by, person_id, limit_type, limit_value, would_hold,
        count, toDateTime(intDiv(first_at_ms, 1000), 'UTC') AS first_at, first_message_id,
        toDateTime(intDiv(last_at_ms, 1000), 'UTC') AS last_at, last_message_id
      FROM identity_refusal_log FINAL`,
    ],
  },
  CLICKHOUSE_CONSENT_MIGRATION,
  CLICKHOUSE_PRIVACY_MIGRATION,
  {
    // Write-ahead-log lines the loader set aside instead of failing their segment (see DuckDB's migration).
    // Keyed by id (`<stream>.<sequence>.<line>`): a reloaded segment writes the same row again. A decision is
    // a newer version, versioned by its time in milliseconds. No partitions: versions must meet in one.
    id: '020-wal-damaged-lines',
    statements: [
      `CREATE TABLE wal_damaged_lines (
        id String, stream String, load_seq UInt64, line_no UInt32, damage String, reason String,
        bytes UInt64, raw String, found_at ${TIME},
        status String, status_at Nullable(${TIME}), status_by ${NULLABLE_TEXT}, version UInt64
      ) ENGINE = ReplacingMergeTree(version) ORDER BY id`,
    ],
  },
  CLICKHOUSE_IMPORT_EMAIL_HASH_MIGRATION,
];

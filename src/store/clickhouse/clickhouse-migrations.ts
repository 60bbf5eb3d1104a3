import type { Migration } from '../migration.js';

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
};

/**
 * On a cluster, a table becomes a `<name>_local` table on every node plus a `Distributed` table under the
 * original name; everything else (views, queries) is unchanged.
 */
export function forCluster(statement: string, cluster: string, database: string): string[] {
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
];

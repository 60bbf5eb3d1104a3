import type { Migration } from '../duckdb/duckdb-migrations.js';

const NULLABLE_TEXT = 'Nullable(String)';
const TIME = "DateTime('UTC')";

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
];

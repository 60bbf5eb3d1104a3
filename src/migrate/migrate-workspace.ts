import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { loadWorkspaceConfig } from '../config/workspace-config.js';
import { RefineryError } from '../core/errors.js';
import { findRunningServer } from '../runtime/server-file.js';
import {
  API_KEYS_COPY,
  CONTRACT_VIOLATIONS_COPY,
  type CopySpec,
  CUSTOMERS_COPY,
  copyFromDuckDb,
  DAMAGED_LINES_COPY,
  eventsCopy,
  IDENTITY_COPIES,
  IMPORT_LOG_COPY,
  IMPORT_REJECTS_COPY,
  LOADER_STATE_COPY,
  METADATA_COPY,
  ORDER_LINES_COPY,
  PRIVACY_REQUESTS_COPY,
  PRODUCTS_COPY,
  QUARANTINE_COPY,
  rejectedEventsCopy,
} from '../store/clickhouse/clickhouse-imports.js';
import { ClickHouseStore, parseClickHouseUrl } from '../store/clickhouse/clickhouse-store.js';
import { toStoreError as duckDbStoreError } from '../store/duckdb/duckdb-errors.js';
import { rowsOf } from '../store/duckdb/duckdb-session.js';
import { DuckDbStore } from '../store/duckdb/duckdb-store.js';
import { workspacePaths } from '../workspace/workspace-paths.js';

/** The `stream` migrated events and rejects carry in ClickHouse (DuckDB does not keep one per row). */
export const MIGRATED_STREAM = 'duckdb-migration';

export interface MigrateOptions {
  /** The workspace folder (its refinery.yaml must name a DuckDB store). */
  readonly dir: string;
  /** `clickhouse://[user[:password]@]host:port/database[?cluster=…&nodes=…]`. */
  readonly url: string;
  readonly onProgress?: (progress: MigrateProgress) => void;
  /** Rows per ClickHouse INSERT (default 50 000). */
  readonly chunkRows?: number;
}

export interface MigrateProgress {
  /** The table being copied. */
  readonly table: string;
  /** Rows copied so far, over all tables. */
  readonly copied: number;
  readonly total: number;
  /** 0..1 */
  readonly fraction: number;
}

/** One line of the count check: rows in the DuckDB workspace and in ClickHouse, through the same relation. */
export interface CountCheck {
  readonly relation: string;
  readonly source: number;
  readonly target: number;
  readonly ok: boolean;
}

export interface MigrateReport {
  /** The DuckDB file copied from. */
  readonly from: string;
  /** The ClickHouse URL copied to, without its password. */
  readonly to: string;
  /** Rows copied per ClickHouse table. */
  readonly copied: Readonly<Record<string, number>>;
  readonly checks: readonly CountCheck[];
  /** True when every count matches. */
  readonly ok: boolean;
}

interface TableCopy {
  readonly spec: CopySpec;
  /** DuckDB table to count for the progress total. */
  readonly source: string;
}

/**
 * The order tables are copied in. The loader position goes last: a migration stopped half-way never
 * tells the ClickHouse store a WAL segment is loaded whose events it does not hold yet.
 */
const TABLES: readonly TableCopy[] = [
  { spec: eventsCopy(MIGRATED_STREAM), source: 'event_log' },
  { spec: rejectedEventsCopy(MIGRATED_STREAM), source: 'rejected_events' },
  { spec: IMPORT_LOG_COPY, source: 'import_log' },
  { spec: IMPORT_REJECTS_COPY, source: 'import_reject_log' },
  { spec: ORDER_LINES_COPY, source: 'order_line_data' },
  { spec: CUSTOMERS_COPY, source: 'customer_data' },
  { spec: PRODUCTS_COPY, source: 'product_data' },
  { spec: QUARANTINE_COPY, source: 'quarantine_log' },
  { spec: CONTRACT_VIOLATIONS_COPY, source: 'contract_violation_log' },
  { spec: DAMAGED_LINES_COPY, source: 'wal_damaged_lines' },
  { spec: PRIVACY_REQUESTS_COPY, source: 'privacy_requests' },
  { spec: API_KEYS_COPY, source: 'api_keys' },
  { spec: METADATA_COPY, source: 'metadata' },
  ...IDENTITY_COPIES.map((spec) => ({ spec, source: spec.table })),
  { spec: LOADER_STATE_COPY, source: 'loader_state' },
];

/** What the count check compares: the public relation on both sides (FINAL tables where there is none). */
const CHECKS: readonly { relation: string; duckdb: string; clickhouse: string }[] = [
  ...[
    'events',
    'rejected_events',
    'orders',
    'customers',
    'products',
    'imports',
    'import_rejects',
    'quarantined_events',
    'contract_violations',
    'persons',
    'identities',
    'identity_merges',
    'identity_refusals',
    'consents',
  ].map((name) => ({ relation: name, duckdb: name, clickhouse: name })),
  { relation: 'api keys', duckdb: 'api_keys', clickhouse: 'api_keys FINAL' },
  { relation: 'metadata', duckdb: 'metadata', clickhouse: 'metadata FINAL' },
  { relation: 'set-aside log lines', duckdb: 'wal_damaged_lines', clickhouse: 'wal_damaged_lines FINAL' },
  { relation: 'privacy requests', duckdb: 'privacy_requests', clickhouse: 'privacy_requests FINAL' },
];

/**
 * Copies a DuckDB workspace's data into ClickHouse: events (message ids kept), rejected events, API keys
 * (their hashes, so every key keeps working), metadata, the loader position per collector stream (so the
 * ClickHouse store loads only WAL segments DuckDB had not), imports with their rows (sealed values and email
 * hashes as they are) and rejects, held events, the identity graph and consent, set-aside log lines and
 * data-subject requests. Rows are
 * streamed in chunks; every target table is a ReplacingMergeTree read through FINAL, so running it twice
 * doubles nothing. Ends with a count check per relation, in the report.
 */
export async function migrateWorkspace(options: MigrateOptions): Promise<MigrateReport> {
  if (!/^clickhouses?:\/\//.test(options.url)) {
    throw new RefineryError(
      'REFINERY_ERR_CONFIG_INVALID',
      `--url "${options.url}" is not a ClickHouse URL (clickhouse://host:port/database).`,
      { field: 'url' },
    );
  }
  parseClickHouseUrl(options.url);
  const config = loadWorkspaceConfig(options.dir);
  if (!config.store.url.startsWith('duckdb:')) {
    throw new RefineryError(
      'REFINERY_ERR_NOT_SUPPORTED',
      `refinery.yaml already names the store ${redact(config.store.url)}; refinery migrate copies a DuckDB workspace into ClickHouse.`,
      { field: 'store.url' },
    );
  }
  const paths = workspacePaths(options.dir, config);
  const server = findRunningServer(paths.serverFile);
  if (server) {
    throw new RefineryError(
      'REFINERY_ERR_SERVER_RUNNING',
      `A Refinery server (pid ${server.pid}, ${server.url}) is running on this workspace and holds its database. ` +
        'Stop the server first, then run refinery migrate again.',
      { pid: server.pid },
    );
  }

  // Bring the file's schema up to date (this also fails cleanly when another process holds it), then read
  // it read-only.
  const upgrade = await DuckDbStore.open({ path: paths.databaseFile });
  try {
    await upgrade.migrate();
  } finally {
    await upgrade.close();
  }
  const instance = await openReadOnly(paths.databaseFile);
  try {
    const source = await instance.connect();
    try {
      await source.run("SET TimeZone = 'UTC'");
      const target = await ClickHouseStore.open({ url: options.url });
      try {
        await target.migrate();
        const copied = await copyTables(source, target, options);
        const checks = await countCheck(source, target);
        return {
          from: paths.databaseFile,
          to: redact(options.url),
          copied,
          checks,
          ok: checks.every((check) => check.ok),
        };
      } finally {
        await target.close();
      }
    } finally {
      source.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}

async function openReadOnly(file: string): Promise<DuckDBInstance> {
  try {
    return await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
  } catch (error) {
    throw duckDbStoreError(error);
  }
}

async function copyTables(
  source: DuckDBConnection,
  target: ClickHouseStore,
  options: MigrateOptions,
): Promise<Record<string, number>> {
  const sizes: number[] = [];
  for (const table of TABLES) sizes.push(await countOf(source, table.source));
  const total = sizes.reduce((sum, n) => sum + n, 0);
  const copied: Record<string, number> = {};
  let done = 0;
  for (const table of TABLES) {
    const name = table.spec.table;
    const report = (n: number) =>
      options.onProgress?.({
        table: name,
        copied: done + n,
        total,
        fraction: total === 0 ? 1 : (done + n) / total,
      });
    report(0);
    const n = await copyFromDuckDb(source, table.spec, target.connection, {
      onRows: report,
      ...(options.chunkRows ? { chunkRows: options.chunkRows } : {}),
    });
    copied[name] = n;
    done += n;
  }
  options.onProgress?.({ table: '', copied: done, total, fraction: 1 });
  return copied;
}

async function countCheck(source: DuckDBConnection, target: ClickHouseStore): Promise<CountCheck[]> {
  const checks: CountCheck[] = [];
  for (const check of CHECKS) {
    const sourceCount = await countOf(source, check.duckdb);
    const answer = await target.connection.json(`SELECT count() AS n FROM ${check.clickhouse}`);
    const targetCount = Number(answer.data[0]?.n ?? 0);
    checks.push({
      relation: check.relation,
      source: sourceCount,
      target: targetCount,
      ok: sourceCount === targetCount,
    });
  }
  // Loader positions: every stream DuckDB knows must be at least as far in ClickHouse.
  const positions = rowsOf<{ stream: string; last_sequence: number }>(
    await source.runAndReadAll('SELECT stream, last_sequence FROM loader_state'),
  );
  let matching = 0;
  for (const position of positions) {
    const answer = await target.connection.json(
      `SELECT max(last_sequence) AS s FROM loader_state WHERE stream = '${position.stream.replace(/[\\']/g, '\\$&')}'`,
    );
    if (Number(answer.data[0]?.s ?? 0) >= Number(position.last_sequence)) matching++;
  }
  checks.push({
    relation: 'loader positions',
    source: positions.length,
    target: matching,
    ok: matching === positions.length,
  });
  return checks;
}

async function countOf(source: DuckDBConnection, relation: string): Promise<number> {
  try {
    const rows = rowsOf<{ n: number }>(await source.runAndReadAll(`SELECT count(*) AS n FROM ${relation}`));
    return Number(rows[0]?.n ?? 0);
  } catch (error) {
    throw duckDbStoreError(error, relation);
  }
}

/** A store URL safe to print: the password replaced. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

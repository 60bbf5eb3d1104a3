import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { type DuckDBConnection, DuckDBInstance, type DuckDBResult } from '@duckdb/node-api';
import { CONSENT_FLAG_COLUMNS } from '../consent-types.js';
import { toStoreError as duckDbStoreError } from '../duckdb/duckdb-errors.js';
import { DuckDbImports, IMPORT_MIGRATIONS } from '../duckdb/duckdb-imports.js';
import { DUCKDB_MIGRATIONS } from '../duckdb/duckdb-migrations.js';
import { DuckDbSession } from '../duckdb/duckdb-session.js';
import type {
  ImportFormat,
  ImportProgress,
  ImportRejectRow,
  ImportReport,
  ImportRepository,
  ImportSpec,
  ImportTarget,
} from '../import-types.js';
import { MAX_CUSTOMER_RECORDS } from '../import-types.js';
import type { Migration } from '../migration.js';
import type { ClickHouseConnection } from './clickhouse-connection.js';
import { toStoreError } from './clickhouse-errors.js';
import { finalRead, integer, quote, safeName, toDateTimeText } from './clickhouse-sql.js';
import { toPlainRows } from './clickhouse-values.js';

/**
 * The keyed hash of an imported row's email, beside its sealed value, so an erasure finds the row without the
 * address (DuckDB's migration of the same id says why). A column of the tables only, not of the views.
 */
export const CLICKHOUSE_IMPORT_EMAIL_HASH_MIGRATION: Migration = {
  id: '030-import-email-hash',
  statements: [
    'ALTER TABLE customer_data ADD COLUMN email_hash Nullable(String)',
    'ALTER TABLE order_line_data ADD COLUMN email_hash Nullable(String)',
  ],
};

/** Rows per INSERT when copying from DuckDB: large enough for ClickHouse parts, small enough for memory. */
export const COPY_CHUNK_ROWS = 50_000;

/** The stream name imported events carry in ClickHouse's `event_log` (collected ones carry their collector's). */
const IMPORT_STREAM = 'import';

// ---------------------------------------------------------------------------------------------------------
// Copying rows from a DuckDB database into ClickHouse tables.

/** One ClickHouse column and the DuckDB expression that yields its JSONEachRow value. */
type CopyColumn = readonly [name: string, expression: string];

/** How the rows of one DuckDB relation become rows of one ClickHouse table. */
export interface CopySpec {
  /** The ClickHouse table written to. */
  readonly table: string;
  /** The DuckDB relation (table, view or subquery) read from. */
  readonly from: string;
  readonly columns: readonly CopyColumn[];
}

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;
const duckString = (value: string) => `'${value.replaceAll("'", "''")}'`;
/** A column as it is: text, numbers (decimals print as exact JSON numbers, which is what ClickHouse reads). */
const plain = (name: string): CopyColumn => [name, ident(name)];
/** A TIMESTAMPTZ as ClickHouse `DateTime('UTC')` text, whole seconds (cut, as the rest of the engine does). */
const time = (name: string): CopyColumn => [
  name,
  `strftime(${ident(name)} AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S')`,
];
/** A JSON value as JSON text (ClickHouse keeps JSON in String columns). */
const jsonText = (name: string): CopyColumn => [name, `CAST(${ident(name)} AS VARCHAR)`];
const fixed = (name: string, expression: string): CopyColumn => [name, expression];

/** `version` of replaceable rows copied as they are: when their import started, in milliseconds. */
const IMPORT_VERSION = fixed('version', 'epoch_ms(imported_at)');

/** Times kept in milliseconds on ClickHouse's identity tables (so a restored graph orders merges exactly). */
const millis = (name: string, from: string): CopyColumn => [name, `epoch_ms(${ident(from)})`];

/**
 * The identity graph and the observations it was built from, as they are: person ids, merges and cursors keep
 * their meaning on ClickHouse, and the next resolution continues where DuckDB's stopped.
 */
export const IDENTITY_COPIES: readonly CopySpec[] = [
  {
    table: 'identity_observation_log',
    from: 'identity_observation_log',
    columns: [
      ...['stream', 'load_seq', 'line_no', 'message_id'].map(plain),
      millis('at_ms', 'at'),
      plain('identifiers'),
    ],
  },
  {
    table: 'identity_persons',
    from: 'identity_persons',
    columns: [
      plain('person_id'),
      plain('seq'),
      millis('first_seen_ms', 'first_seen_at'),
      plain('merged_into'),
      plain('version'),
    ],
  },
  {
    table: 'identity_links',
    from: 'identity_links',
    columns: [
      ...['identifier', 'identifier_type', 'identifier_value', 'person_id'].map(plain),
      fixed('deleted', '0'),
      plain('version'),
      // Consent flags: DuckDB's booleans as ClickHouse's 1, 0 or null.
      ...CONSENT_FLAG_COLUMNS.map((column) => fixed(column, `CAST(${ident(column)} AS INTEGER)`)),
    ],
  },
  {
    table: 'identity_merge_log',
    from: '(SELECT *, row_number() OVER (ORDER BY "at", version) AS ordinal FROM identity_merge_log)',
    columns: [
      ...['from_id', 'into_id', 'via_type', 'via_value'].map(plain),
      millis('at_ms', 'at'),
      ...['message_id', 'ordinal', 'version'].map(plain),
    ],
  },
  {
    table: 'identity_refusal_log',
    from: 'identity_refusal_log',
    columns: [
      ...['refusal_key', 'reason', 'identifier_type', 'identifier_value', 'held_by', 'person_id'].map(plain),
      ...['limit_type', 'limit_value', 'would_hold', 'count'].map(plain),
      millis('first_at_ms', 'first_at'),
      plain('first_message_id'),
      millis('last_at_ms', 'last_at'),
      plain('last_message_id'),
      plain('version'),
    ],
  },
  {
    table: 'identity_cursors',
    from: 'identity_cursors',
    columns: [plain('stream'), plain('load_seq'), fixed('version', '0')],
  },
  // The consent history as loaded (its cursors are among identity_cursors, prefixed `consent:`).
  {
    table: 'consent_log',
    from: 'consent_log',
    columns: [
      ...['identifier', 'purpose'].map(plain),
      fixed('granted', 'CAST(granted AS INTEGER)'),
      plain('source'),
      fixed('category', "coalesce(category, '')"),
      millis('at_ms', 'at'),
      time('received_at'),
      ...['message_id', 'stream', 'load_seq', 'line_no'].map(plain),
    ],
  },
  {
    table: 'consent_unknown_log',
    from: '(SELECT *, row_number() OVER () AS line_no FROM consent_unknown_log)',
    columns: [
      plain('category'),
      plain('message_id'),
      time('received_at'),
      ...['stream', 'load_seq', 'line_no'].map(plain),
    ],
  },
];

export const ORDER_LINES_COPY: CopySpec = {
  table: 'order_line_data',
  from: 'order_line_data',
  columns: [
    plain('order_id'),
    plain('line_number'),
    time('ordered_at'),
    ...['customer_id', 'email', 'channel', 'store', 'product_id', 'product_name', 'category'].map(plain),
    ...['quantity', 'unit_price', 'amount', 'currency', 'country', 'status'].map(plain),
    jsonText('extra'),
    plain('import_id'),
    time('imported_at'),
    fixed('deleted', '0'),
    IMPORT_VERSION,
    plain('email_hash'),
  ],
};

export const CUSTOMERS_COPY: CopySpec = {
  table: 'customer_data',
  from: 'customer_data',
  columns: [
    ...['customer_id', 'email', 'phone', 'first_name', 'last_name', 'name', 'city', 'postal_code'].map(plain),
    plain('country'),
    time('created_at'),
    jsonText('extra'),
    plain('import_id'),
    time('imported_at'),
    IMPORT_VERSION,
    plain('email_hash'),
  ],
};

export const PRODUCTS_COPY: CopySpec = {
  table: 'product_data',
  from: 'product_data',
  columns: [
    ...['product_id', 'name', 'category', 'brand', 'price', 'currency'].map(plain),
    jsonText('extra'),
    plain('import_id'),
    time('imported_at'),
    IMPORT_VERSION,
  ],
};

export const IMPORT_LOG_COPY: CopySpec = {
  table: 'import_log',
  from: 'import_log',
  columns: [
    ...['import_id', 'file', 'target', 'format', 'source'].map(plain),
    time('started_at'),
    time('finished_at'),
    ...['rows_read', 'imported', 'rejected', 'skipped', 'replaced'].map(plain),
    jsonText('mapping'),
  ],
};

export const IMPORT_REJECTS_COPY: CopySpec = {
  table: 'import_reject_log',
  from: 'import_reject_log',
  columns: ['import_id', 'line', 'reason', 'field', 'row'].map(plain),
};

/** `event_log` rows; `stream` names whose write-ahead log they came from (ClickHouse keeps it per row). */
export function eventsCopy(stream: string): CopySpec {
  return {
    table: 'event_log',
    from: 'event_log',
    columns: [
      ...['message_id', 'type', 'event', 'name', 'category', 'user_id', 'anonymous_id', 'group_id'].map(
        plain,
      ),
      plain('previous_id'),
      ...['timestamp', 'original_timestamp', 'sent_at', 'received_at'].map(time),
      ...['properties', 'traits', 'context', 'integrations', 'extra'].map(jsonText),
      ...['source', 'ip', 'user_agent', 'browser', 'browser_version', 'os', 'device_type'].map(plain),
      fixed('stream', duckString(stream)),
      plain('load_seq'),
    ],
  };
}

/**
 * DuckDB's `rejected_events` into ClickHouse's `reject_log`, which is keyed by (stream, load_seq, line_no):
 * rows get a deterministic number within their segment, so copying twice writes the same keys.
 */
export function rejectedEventsCopy(stream: string): CopySpec {
  return {
    table: 'reject_log',
    from: '(SELECT *, row_number() OVER (PARTITION BY load_seq ORDER BY rowid) AS line_no FROM rejected_events)',
    columns: [
      time('received_at'),
      ...['source', 'message_id', 'type', 'reason_code', 'reason', 'field', 'payload'].map(plain),
      fixed('stream', duckString(stream)),
      plain('load_seq'),
      plain('line_no'),
    ],
  };
}

/** Held, replayed and discarded events; a decided row's version is its decision time, as the loader writes it. */
export const QUARANTINE_COPY: CopySpec = {
  table: 'quarantine_log',
  from: 'quarantine_log',
  columns: [
    plain('id'),
    time('received_at'),
    ...['source', 'type', 'event', 'contract', 'contract_version'].map(plain),
    ...['violations', 'payload'].map(jsonText),
    ...['ip', 'user_agent'].map(plain),
    jsonText('agent'),
    plain('status'),
    time('status_at'),
    plain('status_by'),
    fixed('version', 'CASE WHEN status_at IS NULL THEN 0 ELSE epoch_ms(status_at) END'),
    plain('load_seq'),
  ],
};

export const CONTRACT_VIOLATIONS_COPY: CopySpec = {
  table: 'contract_violation_log',
  from: 'contract_violation_log',
  columns: [
    plain('message_id'),
    time('received_at'),
    ...['source', 'type', 'event', 'contract', 'outcome', 'path', 'rule', 'message', 'value'].map(plain),
    plain('load_seq'),
  ],
};

/**
 * Log lines the loader set aside, with their decisions: a decided line's version is its decision's time in
 * milliseconds, as the loader writes it, so a decision taken later on ClickHouse still outranks the copy.
 */
export const DAMAGED_LINES_COPY: CopySpec = {
  table: 'wal_damaged_lines',
  from: 'wal_damaged_lines',
  columns: [
    ...['id', 'stream', 'load_seq', 'line_no', 'damage', 'reason', 'bytes', 'raw'].map(plain),
    time('found_at'),
    plain('status'),
    time('status_at'),
    plain('status_by'),
    fixed('version', 'CASE WHEN status_at IS NULL THEN 0 ELSE epoch_ms(status_at) END'),
  ],
};

/**
 * Data-subject requests (subjects as keyed hashes and a masked form, as stored). ClickHouse versions a request's
 * changes by the clock in microseconds, a closed one a step above its open one (see ClickHouse's privacy store).
 */
export const PRIVACY_REQUESTS_COPY: CopySpec = {
  table: 'privacy_requests',
  from: 'privacy_requests',
  columns: [
    ...['id', 'kind', 'subject', 'subject_hashes', 'person_id', 'purpose', 'status'].map(plain),
    millis('received_ms', 'received_at'),
    millis('due_ms', 'due_at'),
    millis('completed_ms', 'completed_at'),
    plain('actor'),
    jsonText('result'),
    fixed(
      'version',
      "epoch_ms(coalesce(completed_at, received_at)) * 1000 + CASE WHEN status = 'open' THEN 0 ELSE 1 END",
    ),
  ],
};

export const API_KEYS_COPY: CopySpec = {
  table: 'api_keys',
  from: 'api_keys',
  columns: [
    ...['id', 'kind', 'name', 'source', 'hash', 'prefix'].map(plain),
    time('created_at'),
    time('revoked_at'),
    // A revocation in ClickHouse writes version + 1; a key revoked before the copy starts one higher.
    fixed('version', 'CASE WHEN revoked_at IS NULL THEN 1 ELSE 2 END'),
  ],
};

export const METADATA_COPY: CopySpec = {
  table: 'metadata',
  from: 'metadata',
  // Version 1: anything ClickHouse's store sets later (versioned by the clock) wins over the copy.
  columns: [plain('key'), plain('value'), fixed('version', '1')],
};

export const LOADER_STATE_COPY: CopySpec = {
  table: 'loader_state',
  from: 'loader_state',
  columns: [
    plain('stream'),
    plain('last_sequence'),
    fixed('loaded_at', "strftime(coalesce(loaded_at, now()) AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S')"),
  ],
};

/** DuckDB SQL yielding one JSONEachRow line per row of `spec` (optionally filtered). */
export function copySql(spec: CopySpec, where?: string): string {
  const fields = spec.columns.map(([name, expression]) => `${duckString(name)}: ${expression}`).join(', ');
  return `SELECT CAST(to_json({${fields}}) AS VARCHAR) AS line FROM ${spec.from}${where ? ` WHERE ${where}` : ''}`;
}

export interface CopyOptions {
  /** Called after every chunk with the rows copied so far. */
  readonly onRows?: (copied: number) => void;
  /** ClickHouse table to write instead of `spec.table` (a staging table of the same columns). */
  readonly into?: string;
  readonly where?: string;
  readonly chunkRows?: number;
}

/**
 * Streams the rows of `spec` out of DuckDB and into ClickHouse as JSONEachRow, `COPY_CHUNK_ROWS` at a
 * time, so memory stays bounded whatever the table's size. Returns the number of rows copied.
 */
export async function copyFromDuckDb(
  source: DuckDBConnection,
  spec: CopySpec,
  target: ClickHouseConnection,
  options: CopyOptions = {},
): Promise<number> {
  const sql = copySql(spec, options.where);
  const table = options.into ?? spec.table;
  const chunkRows = options.chunkRows ?? COPY_CHUNK_ROWS;
  let result: DuckDBResult;
  try {
    result = await source.stream(sql);
  } catch (error) {
    throw duckDbStoreError(error, sql);
  }
  let lines: string[] = [];
  let copied = 0;
  const flush = async () => {
    if (lines.length === 0) return;
    await insertJsonLines(target, table, lines);
    copied += lines.length;
    lines = [];
    options.onRows?.(copied);
  };
  try {
    for await (const rows of result.yieldRowsJson()) {
      for (const row of rows) lines.push(row[0] as string);
      if (lines.length >= chunkRows) await flush();
    }
  } catch (error) {
    throw duckDbStoreError(error, sql);
  }
  await flush();
  return copied;
}

/** One INSERT of ready-made JSONEachRow lines, streamed as the request body. */
export async function insertJsonLines(
  target: ClickHouseConnection,
  table: string,
  lines: readonly string[],
): Promise<void> {
  if (lines.length === 0) return;
  try {
    const result = await target.client.exec({
      query: `INSERT INTO ${table} FORMAT JSONEachRow`,
      values: Readable.from([Buffer.from(`${lines.join('\n')}\n`)], { objectMode: false }),
      clickhouse_settings: target.insertSettings,
    });
    for await (const _ of result.stream) {
      // An INSERT answers with an empty body; reading it frees the connection.
    }
  } catch (error) {
    throw toStoreError(error, `INSERT INTO ${table}`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Imports.

interface TargetTable {
  readonly copy: CopySpec;
  readonly key: string;
  /** Rows that count as present (orders also hold tombstones of lines a later import dropped). */
  readonly live: string;
}

const TARGET_TABLES: Readonly<Record<Exclude<ImportTarget, 'events'>, TargetTable>> = {
  orders: { copy: ORDER_LINES_COPY, key: 'order_id', live: 'deleted = 0' },
  customers: { copy: CUSTOMERS_COPY, key: 'customer_id', live: '1' },
  products: { copy: PRODUCTS_COPY, key: 'product_id', live: '1' },
};

/** Share of the progress bar spent reading and validating in DuckDB; the rest is copying into ClickHouse. */
const LOCAL_SHARE = 0.6;

/**
 * File imports on ClickHouse. Files are read and validated by DuckDB's own readers — the very pipeline of
 * the DuckDB engine (`DuckDbImports`), run on a scratch DuckDB database — so both engines accept, convert
 * and reject exactly the same rows. The scratch database's rows are then copied into ClickHouse:
 *
 * - customers and products: a newer `version` of the row (ReplacingMergeTree, read through FINAL);
 * - orders: the new lines with a newer `version`, plus a tombstone (`deleted = 1`, same newer version) for
 *   every stored line of a re-imported order that the new file no longer has, so the `orders` view shows
 *   exactly the lines of each order's latest import (no mutations, no subqueries in the views);
 * - events: inserted unless their message_id is already stored, as on DuckDB.
 *
 * The version is the import's start time in milliseconds, or one above the highest version the keys already
 * have, so a re-import always wins even against clock skew.
 */
export class ClickHouseImports implements ImportRepository {
  constructor(private readonly db: ClickHouseConnection) {}

  async columnsOf(file: string, format: ImportFormat): Promise<string[]> {
    const scratch = await Scratch.open(false);
    try {
      return await scratch.imports.columnsOf(file, format);
    } finally {
      await scratch.close();
    }
  }

  async run(spec: ImportSpec, onProgress?: (progress: ImportProgress) => void): Promise<ImportReport> {
    let last = 0;
    const emit = (phase: ImportProgress['phase'], fraction: number) => {
      last = Math.max(last, Math.min(1, fraction));
      onProgress?.({ phase, fraction: last });
    };
    const scratch = await Scratch.open(true);
    try {
      const local = await scratch.imports.run(spec, (p) =>
        emit(p.phase === 'done' ? 'writing' : p.phase, p.fraction * LOCAL_SHARE),
      );
      const total = Math.max(1, local.imported + local.rejected);
      const copied = (n: number) => emit('writing', LOCAL_SHARE + (1 - LOCAL_SHARE) * 0.99 * (n / total));
      const source = scratch.reader.connection;
      const where = `import_id = ${duckString(spec.importId)}`;

      let written: { imported: number; skipped: number; replaced: number };
      if (spec.target === 'events') {
        const inserted = await this.writeEvents(spec, source, (n) => copied(n));
        written = {
          imported: inserted,
          skipped: local.skipped + (local.imported - inserted),
          replaced: 0,
        };
      } else {
        written = { ...(await this.writeRows(spec, source, (n) => copied(n))), skipped: local.skipped };
      }
      await copyFromDuckDb(source, IMPORT_REJECTS_COPY, this.db, {
        where,
        onRows: (n) => copied(local.imported + n),
      });
      await this.db.insert('import_log', [
        {
          import_id: spec.importId,
          file: spec.fileName,
          target: spec.target,
          format: spec.format,
          source: spec.source,
          started_at: toDateTimeText(spec.startedAt),
          finished_at: toDateTimeText(new Date()),
          rows_read: local.rowsRead,
          imported: written.imported,
          rejected: local.rejected,
          skipped: written.skipped,
          replaced: written.replaced,
          mapping: JSON.stringify(spec.mapping),
        },
      ]);
      emit('done', 1);
      return { ...local, ...written };
    } finally {
      await scratch.close();
    }
  }

  async rejects(importId: string, limit: number): Promise<ImportRejectRow[]> {
    const answer = await this.db.json(
      `SELECT line, reason, field, row FROM import_rejects WHERE import_id = ${quote(importId)}
       ORDER BY line LIMIT ${integer(limit)}`,
    );
    return toPlainRows(answer).rows as unknown as ImportRejectRow[];
  }

  async customersOf(customerIds: readonly string[]): Promise<Record<string, unknown>[]> {
    if (customerIds.length === 0) return [];
    const answer = await this.db.json(
      `SELECT * FROM customers WHERE customer_id IN (${customerIds.map((id) => quote(id)).join(', ')})
       ORDER BY customer_id LIMIT ${MAX_CUSTOMER_RECORDS}`,
    );
    return toPlainRows(answer).rows.map((row) => ({
      ...row,
      extra: typeof row.extra === 'string' ? (JSON.parse(row.extra) as unknown) : row.extra,
    }));
  }

  async customerIdsOfEmails(emailHashes: readonly string[]): Promise<string[]> {
    if (emailHashes.length === 0) return [];
    const hashes = `(${emailHashes.map((hash) => quote(hash)).join(', ')})`;
    // Latest versions only (an email a re-import replaced names no one any more); de-duplicated here, not in SQL
    // over a FINAL read (see finalRead).
    const answers = await Promise.all([
      this.db.json(`SELECT customer_id FROM ${finalRead('customer_data', 'customer_id, email_hash')}
        WHERE email_hash IN ${hashes}`),
      this.db.json(`SELECT customer_id FROM ${finalRead('order_line_data', 'customer_id, email_hash, deleted')}
        WHERE deleted = 0 AND customer_id IS NOT NULL AND email_hash IN ${hashes}`),
    ]);
    const ids = answers.flatMap((answer) => toPlainRows(answer).rows.map((row) => String(row.customer_id)));
    return [...new Set(ids)].sort();
  }

  async history(limit: number): Promise<Record<string, unknown>[]> {
    const answer = await this.db.json(
      `SELECT * FROM imports ORDER BY started_at DESC, import_id DESC LIMIT ${integer(limit)}`,
    );
    return toPlainRows(answer).rows.map((row) => ({
      ...row,
      mapping: typeof row.mapping === 'string' ? (JSON.parse(row.mapping) as unknown) : row.mapping,
    }));
  }

  /** Orders, customers or products: stage, measure what is replaced, then write the newer version. */
  private async writeRows(
    spec: ImportSpec,
    source: DuckDBConnection,
    onRows: (copied: number) => void,
  ): Promise<{ imported: number; replaced: number }> {
    const target = TARGET_TABLES[spec.target as Exclude<ImportTarget, 'events'>];
    const { table } = target.copy;
    const key = target.key;
    return this.withStaging(spec, table, async (staging) => {
      const imported = await copyFromDuckDb(source, target.copy, this.db, {
        into: staging,
        where: `import_id = ${duckString(spec.importId)}`,
        onRows,
      });
      const inStaging = `${key} ${this.globalIn} (SELECT ${key} FROM ${staging})`;
      const before = await this.db.json(
        `SELECT countIf(${target.live}) AS replaced, max(version) AS version FROM ${table} FINAL WHERE ${inStaging}`,
      );
      const replaced = Number(before.data[0]?.replaced ?? 0);
      const version = Math.max(spec.startedAt.getTime(), Number(before.data[0]?.version ?? 0) + 1);
      const names = target.copy.columns.map(([name]) => name);
      const select = (overrides: Record<string, string>) =>
        names.map((name) => overrides[name] ?? name).join(', ');
      await this.db.command(
        `INSERT INTO ${table} (${names.join(', ')})
         SELECT ${select({ version: `toUInt64(${integer(version)})` })} FROM ${staging}`,
        this.db.insertSettings,
      );
      if (spec.target === 'orders') {
        // Lines of a re-imported order that the new file no longer has: a tombstone hides each of them.
        await this.db.command(
          `INSERT INTO ${table} (${names.join(', ')})
           SELECT ${select({ deleted: 'toUInt8(1)', version: `toUInt64(${integer(version)})` })}
           FROM ${table} FINAL
           WHERE deleted = 0 AND ${inStaging}
             AND (order_id, line_number) ${this.globalIn.replace('IN', 'NOT IN')}
                 (SELECT order_id, line_number FROM ${staging})`,
          this.db.insertSettings,
        );
      }
      return { imported, replaced };
    });
  }

  /** Events: inserted unless their message_id is already stored (imports keep no de-duplication window). */
  private async writeEvents(
    spec: ImportSpec,
    source: DuckDBConnection,
    onRows: (copied: number) => void,
  ): Promise<number> {
    return this.withStaging(spec, 'event_log', async (staging) => {
      await copyFromDuckDb(source, eventsCopy(IMPORT_STREAM), this.db, { into: staging, onRows });
      const fresh = 'message_id NOT IN (SELECT message_id FROM event_log)';
      const counted = await this.db.json(`SELECT count() AS n FROM ${staging} WHERE ${fresh}`);
      const inserted = Number(counted.data[0]?.n ?? 0);
      if (inserted > 0) {
        await this.db.command(
          `INSERT INTO event_log SELECT * FROM ${staging} WHERE ${fresh}`,
          this.db.insertSettings,
        );
      }
      return inserted;
    });
  }

  /**
   * A scratch table of `like`'s columns on the node this store talks to (a Log table: on disk, so a large
   * import does not have to fit in ClickHouse's memory), dropped afterwards.
   */
  private async withStaging<T>(spec: ImportSpec, like: string, work: (staging: string) => Promise<T>) {
    const staging = `import_staging_${safeName(spec.importId)}`;
    await this.db.command(`DROP TABLE IF EXISTS ${staging}`);
    await this.db.command(`CREATE TABLE ${staging} AS ${like} ENGINE = Log`);
    try {
      return await work(staging);
    } finally {
      await this.db.command(`DROP TABLE IF EXISTS ${staging}`).catch(() => undefined);
    }
  }

  /** A subquery over a local staging table from a query over Distributed tables must be sent along. */
  private get globalIn(): string {
    return this.db.cluster ? 'GLOBAL IN' : 'IN';
  }
}

/** A throwaway DuckDB database with the DuckDB engine's import tables, in a temporary folder. */
class Scratch {
  private constructor(
    private readonly instance: DuckDBInstance,
    readonly imports: DuckDbImports,
    private readonly importer: DuckDbSession,
    readonly reader: DuckDbSession,
    private readonly dir: string | undefined,
  ) {}

  /** `onDisk`: a database file (imports may be larger than memory); else in memory (for reading headers). */
  static async open(onDisk: boolean): Promise<Scratch> {
    const dir = onDisk ? mkdtempSync(join(tmpdir(), 'refinery-import-')) : undefined;
    try {
      const instance = await DuckDBInstance.create(dir ? join(dir, 'scratch.duckdb') : ':memory:');
      const importer = new DuckDbSession(await instance.connect());
      const reader = new DuckDbSession(await instance.connect());
      // Times without an offset are read as UTC, as the DuckDB store does.
      await importer.run("SET TimeZone = 'UTC'");
      await reader.run("SET TimeZone = 'UTC'");
      if (onDisk) {
        for (const migration of [...DUCKDB_MIGRATIONS, ...IMPORT_MIGRATIONS]) {
          for (const statement of migration.statements) await importer.run(statement);
        }
      }
      return new Scratch(instance, new DuckDbImports(importer, reader), importer, reader, dir);
    } catch (error) {
      if (dir) rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.imports.idle();
    this.importer.close();
    await this.reader.exclusive(async () => undefined);
    this.reader.close();
    this.instance.closeSync();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}

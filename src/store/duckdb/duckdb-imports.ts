import type { DuckDBConnection } from '@duckdb/node-api';
import { RefineryError } from '../../core/errors.js';
import { type FieldType, TARGETS } from '../../imports/targets.js';
import type {
  ImportFormat,
  ImportProgress,
  ImportRejectRow,
  ImportReport,
  ImportRepository,
  ImportRowCheck,
  ImportSealer,
  ImportSpec,
  ImportTarget,
} from '../import-types.js';
import { MAX_CUSTOMER_RECORDS } from '../import-types.js';
import type { Migration } from '../migration.js';
import { type DuckDbSession, readOn, rowsOf, runOn } from './duckdb-session.js';

/**
 * Physical tables hold imported rows; the public relations (`orders`, `customers`, …) are views over them,
 * as for events, so later work (erasure, consent) can change what a view shows without touching the writer.
 */
export const IMPORT_MIGRATIONS: readonly Migration[] = [
  {
    id: '003-import-log',
    statements: [
      `CREATE TABLE import_log (
        import_id VARCHAR PRIMARY KEY,
        file VARCHAR NOT NULL,
        target VARCHAR NOT NULL,
        format VARCHAR NOT NULL,
        source VARCHAR,
        started_at TIMESTAMPTZ NOT NULL,
        finished_at TIMESTAMPTZ NOT NULL,
        rows_read BIGINT NOT NULL,
        imported BIGINT NOT NULL,
        rejected BIGINT NOT NULL,
        skipped BIGINT NOT NULL,
        replaced BIGINT NOT NULL,
        mapping JSON NOT NULL
      )`,
      `CREATE TABLE import_reject_log (
        import_id VARCHAR NOT NULL,
        line BIGINT NOT NULL,
        reason VARCHAR NOT NULL,
        field VARCHAR,
        "row" VARCHAR
      )`,
      `CREATE VIEW imports AS SELECT
        import_id, file, target, format, source, started_at, finished_at,
        rows_read, imported, rejected, skipped, replaced, mapping
      FROM import_log`,
      'CREATE VIEW import_rejects AS SELECT import_id, line, reason, field, "row" FROM import_reject_log',
    ],
  },
  {
    id: '004-orders-customers-products',
    statements: [
      `CREATE TABLE order_line_data (
        order_id VARCHAR NOT NULL,
        line_number INTEGER NOT NULL,
        ordered_at TIMESTAMPTZ NOT NULL,
        customer_id VARCHAR,
        email VARCHAR,
        channel VARCHAR,
        store VARCHAR,
        product_id VARCHAR,
        product_name VARCHAR,
        category VARCHAR,
        quantity DOUBLE NOT NULL,
        unit_price DECIMAL(18,4),
        amount DECIMAL(18,4),
        currency VARCHAR,
        country VARCHAR,
        status VARCHAR,
        extra JSON,
        import_id VARCHAR NOT NULL,
        imported_at TIMESTAMPTZ NOT NULL
      )`,
      `CREATE TABLE customer_data (
        customer_id VARCHAR NOT NULL,
        email VARCHAR,
        phone VARCHAR,
        first_name VARCHAR,
        last_name VARCHAR,
        name VARCHAR,
        city VARCHAR,
        postal_code VARCHAR,
        country VARCHAR,
        created_at TIMESTAMPTZ,
        extra JSON,
        import_id VARCHAR NOT NULL,
        imported_at TIMESTAMPTZ NOT NULL
      )`,
      `CREATE TABLE product_data (
        product_id VARCHAR NOT NULL,
        name VARCHAR,
        category VARCHAR,
        brand VARCHAR,
        price DECIMAL(18,4),
        currency VARCHAR,
        extra JSON,
        import_id VARCHAR NOT NULL,
        imported_at TIMESTAMPTZ NOT NULL
      )`,
      `CREATE VIEW orders AS SELECT
        order_id, line_number, ordered_at, customer_id, email, channel, store, product_id, product_name, category,
        quantity, unit_price, amount, currency, country, status, extra, import_id, imported_at
      FROM order_line_data`,
      `CREATE VIEW order_summary AS SELECT
        order_id,
        min(ordered_at) AS ordered_at,
        any_value(customer_id) AS customer_id,
        any_value(email) AS email,
        any_value(channel) AS channel,
        any_value(store) AS store,
        any_value(status) AS status,
        count(*) AS lines,
        sum(quantity) AS items,
        sum(amount) AS total,
        any_value(currency) AS currency,
        any_value(country) AS country
      FROM orders GROUP BY order_id`,
      `CREATE VIEW customers AS SELECT
        customer_id, email, phone, first_name, last_name, name, city, postal_code, country, created_at,
        extra, import_id, imported_at
      FROM customer_data`,
      `CREATE VIEW products AS SELECT
        product_id, name, category, brand, price, currency, extra, import_id, imported_at
      FROM product_data`,
    ],
  },
  {
    // Imported personal values are sealed (see src/imports/import-sealing.ts); the keyed hash of a row's email,
    // as the identity graph holds emails, lets an erasure find the row without the address. Not in the views.
    id: '030-import-email-hash',
    statements: [
      'ALTER TABLE customer_data ADD COLUMN email_hash VARCHAR',
      'ALTER TABLE order_line_data ADD COLUMN email_hash VARCHAR',
    ],
  },
];

/** How many rejects a report carries for immediate display; all of them are in `import_rejects`. */
const SAMPLE_REJECTS = 20;
/** How much of an offending row is kept in `import_rejects.row`. */
const MAX_REJECT_ROW_CHARS = 2000;
/** JSON objects looked at to list an NDJSON/JSON file's keys before the import (the import itself reads all). */
const COLUMN_SAMPLE_OBJECTS = 100_000;
const PROGRESS_POLL_MS = 100;

const T = {
  csvRead: 'refinery_import_csv',
  csvRejects: 'refinery_import_csv_rejects',
  csvScans: 'refinery_import_csv_scans',
  jsonRead: 'refinery_import_json',
  rows: 'refinery_import_rows',
  checked: 'refinery_import_checked',
  contractRefusals: 'refinery_import_contract_refusals',
  sealed: 'refinery_import_sealed',
} as const;

const EVENT_TYPES = ['track', 'identify', 'page', 'screen', 'group', 'alias'];
const WHITESPACE = ' \t\r\n';

/**
 * Conversion helpers, created on the importer's own connection. Every value arrives as text; each macro
 * returns NULL when the text is not a valid value of its type, and the validation turns that into a reason.
 */
const MACROS = [
  // A number, optionally after a currency sign; NaN and infinities are not numbers here.
  `CREATE OR REPLACE TEMP MACRO refinery_num(v) AS (
    CASE WHEN isfinite(TRY_CAST(regexp_replace(v, '^[$€£¥] ?', '') AS DOUBLE))
      THEN TRY_CAST(regexp_replace(v, '^[$€£¥] ?', '') AS DOUBLE) END)`,
  `CREATE OR REPLACE TEMP MACRO refinery_dec(v) AS (
    CASE WHEN refinery_num(v) IS NOT NULL THEN TRY_CAST(regexp_replace(v, '^[$€£¥] ?', '') AS DECIMAL(18,4)) END)`,
  `CREATE OR REPLACE TEMP MACRO refinery_int(v) AS (
    CASE WHEN refinery_num(v) = trunc(refinery_num(v)) AND abs(refinery_num(v)) < 2147483648
      THEN CAST(refinery_num(v) AS INTEGER) END)`,
  // Dates: epoch seconds/ms, US month-first with slashes, European day-first with dots, YYYY/MM/DD,
  // YYYYMMDD, and everything DuckDB's own cast takes (ISO 8601 with or without offset, date only).
  // Times without an offset are read in the session time zone, which the store pins to UTC.
  `CREATE OR REPLACE TEMP MACRO refinery_ts(v) AS (CASE
    WHEN regexp_full_match(v, '\\d{10}(\\.\\d+)?') THEN to_timestamp(CAST(v AS DOUBLE))
    WHEN regexp_full_match(v, '\\d{13}') THEN CAST(epoch_ms(CAST(v AS BIGINT)) AS TIMESTAMPTZ)
    WHEN regexp_full_match(v, '\\d{8}') THEN CAST(try_strptime(v, '%Y%m%d') AS TIMESTAMPTZ)
    WHEN regexp_matches(v, '^\\d{1,2}/\\d{1,2}/\\d{4}') THEN CAST(try_strptime(v, [
      '%m/%d/%Y %H:%M:%S', '%m/%d/%Y %H:%M', '%m/%d/%Y %I:%M:%S %p', '%m/%d/%Y %I:%M %p', '%m/%d/%Y'
    ]) AS TIMESTAMPTZ)
    WHEN regexp_matches(v, '^\\d{1,2}\\.\\d{1,2}\\.\\d{4}') THEN CAST(try_strptime(v, [
      '%d.%m.%Y %H:%M:%S', '%d.%m.%Y %H:%M', '%d.%m.%Y'
    ]) AS TIMESTAMPTZ)
    WHEN regexp_matches(v, '^\\d{4}/\\d{1,2}/\\d{1,2}') THEN CAST(try_strptime(v, [
      '%Y/%m/%d %H:%M:%S', '%Y/%m/%d %H:%M', '%Y/%m/%d'
    ]) AS TIMESTAMPTZ)
    ELSE TRY_CAST(v AS TIMESTAMPTZ) END)`,
  `CREATE OR REPLACE TEMP MACRO refinery_email(v) AS (
    CASE WHEN regexp_full_match(v, '[^@\\s]+@[^@\\s]+\\.[^@\\s]+') THEN v END)`,
  `CREATE OR REPLACE TEMP MACRO refinery_object(v) AS (
    CASE WHEN json_type(TRY_CAST(v AS JSON)) = 'OBJECT' THEN TRY_CAST(v AS JSON) END)`,
  `CREATE OR REPLACE TEMP MACRO refinery_event_type(v) AS (
    CASE WHEN lower(v) IN (${EVENT_TYPES.map((t) => `'${t}'`).join(', ')}) THEN lower(v) END)`,
  // A cell as a JSON value for `extra`/`properties`: plain numbers (no leading zeros, so codes such as 00123
  // stay text), true/false and JSON objects/arrays keep their type; everything else is a string.
  `CREATE OR REPLACE TEMP MACRO refinery_cell(v) AS (CASE
    WHEN v IS NULL THEN NULL
    WHEN regexp_full_match(v, '-?(0|[1-9]\\d{0,14})(\\.\\d+)?') THEN CAST(v AS JSON)
    WHEN v IN ('true', 'false') THEN CAST(v AS JSON)
    WHEN left(v, 1) IN ('{', '[') AND json_valid(v) THEN CAST(v AS JSON)
    ELSE to_json(v) END)`,
];

interface FieldSql {
  /** SQL type of the converted value. */
  readonly sqlType: string;
  convert(value: string): string;
  /** Wording of the reason when text is present but does not convert. */
  readonly problem: string;
}

const FIELD_SQL: Readonly<Record<FieldType, FieldSql>> = {
  text: { sqlType: 'VARCHAR', convert: (v) => v, problem: '' },
  integer: { sqlType: 'INTEGER', convert: (v) => `refinery_int(${v})`, problem: 'is not a whole number' },
  number: { sqlType: 'DOUBLE', convert: (v) => `refinery_num(${v})`, problem: 'is not a number' },
  decimal: {
    sqlType: 'DECIMAL(18,4)',
    convert: (v) => `refinery_dec(${v})`,
    problem: 'is not a number (or has more than 14 digits before the point)',
  },
  timestamp: { sqlType: 'TIMESTAMPTZ', convert: (v) => `refinery_ts(${v})`, problem: 'is not a date/time' },
  email: { sqlType: 'VARCHAR', convert: (v) => `refinery_email(${v})`, problem: 'is not an email address' },
  json: { sqlType: 'JSON', convert: (v) => `refinery_object(${v})`, problem: 'is not a JSON object' },
  event_type: {
    sqlType: 'VARCHAR',
    convert: (v) => `refinery_event_type(${v})`,
    problem: `is not one of ${EVENT_TYPES.join(', ')}`,
  },
};

/** What the reading step leaves behind: `refinery_import_rows(line, error, raw, c0 … cN)`, all text. */
interface StagedFile {
  readonly columns: readonly string[];
}

export class DuckDbImports implements ImportRepository {
  private prepared = false;

  constructor(
    private readonly importer: DuckDbSession,
    private readonly reader: DuckDbSession,
  ) {}

  columnsOf(file: string, format: ImportFormat): Promise<string[]> {
    return this.importer.exclusive(async (c) => {
      try {
        if (format === 'csv' || format === 'tsv') return (await csvHeader(c, file, format)).names;
        if (format === 'parquet')
          return uniqueNames((await parquetColumns(c, file)).map((column) => column.name));
        return uniqueNames(
          await jsonKeys(
            c,
            `read_json_objects(${sqlString(file)}, ${jsonOptions(format)})`,
            COLUMN_SAMPLE_OBJECTS,
          ),
        );
      } catch (error) {
        throw unreadable(error, file, format);
      }
    });
  }

  run(spec: ImportSpec, onProgress?: (progress: ImportProgress) => void): Promise<ImportReport> {
    const progress = new ProgressReporter(onProgress);
    return this.importer.exclusive(async (c) => {
      await this.prepare(c);
      try {
        progress.emit('reading', 0);
        let staged: StagedFile;
        try {
          staged = await withProgress(c, stageFile(c, spec), (f) =>
            progress.emit('reading', 0.05 + 0.55 * f),
          );
        } catch (error) {
          throw unreadable(error, spec.file, spec.format);
        }
        progress.emit('validating', 0.6);
        const columnIndex = new Map(staged.columns.map((name, i) => [name, i]));
        for (const [field, column] of Object.entries(spec.mapping)) {
          if (!columnIndex.has(column)) {
            throw new RefineryError(
              'REFINERY_ERR_IMPORT_MAPPING',
              `Field "${field}" is mapped to column "${column}", which ${spec.fileName} does not have.`,
              { field: 'map', column, targetField: field, columns: [...staged.columns] },
            );
          }
        }
        await withProgress(c, runOn(c, checkSql(spec, staged)), (f) =>
          progress.emit('validating', 0.6 + 0.2 * f),
        );
        if (spec.rowCheck) await applyRowCheck(c, spec, spec.rowCheck);
        if (spec.sealer) {
          await applySealer(c, spec, spec.sealer, (f) => progress.emit('validating', 0.8 + 0.15 * f));
        }
        progress.emit('writing', spec.sealer ? 0.95 : 0.8);
        const report = await withProgress(c, this.write(c, spec, staged), (f) =>
          progress.emit('writing', (spec.sealer ? 0.95 : 0.8) + (spec.sealer ? 0.04 : 0.19) * f),
        );
        progress.emit('done', 1);
        return report;
      } finally {
        await dropScratch(c);
      }
    });
  }

  rejects(importId: string, limit: number): Promise<ImportRejectRow[]> {
    return this.reader.all<ImportRejectRow>(
      'SELECT line, reason, field, "row" FROM import_rejects WHERE import_id = $1 ORDER BY line LIMIT $2',
      [importId, limit],
    );
  }

  async customersOf(customerIds: readonly string[]): Promise<Record<string, unknown>[]> {
    if (customerIds.length === 0) return [];
    const rows = await this.reader.all(
      `SELECT * FROM customers WHERE customer_id IN (SELECT unnest(from_json($1, '["VARCHAR"]')))
       ORDER BY customer_id LIMIT ${MAX_CUSTOMER_RECORDS}`,
      [JSON.stringify(customerIds)],
    );
    return rows.map((row) => ({
      ...row,
      extra: typeof row.extra === 'string' ? JSON.parse(row.extra) : row.extra,
    }));
  }

  async customerIdsOfEmails(emailHashes: readonly string[]): Promise<string[]> {
    if (emailHashes.length === 0) return [];
    const hashes = `(SELECT unnest(from_json($1, '["VARCHAR"]')))`;
    const rows = await this.reader.all<{ customer_id: string }>(
      `SELECT customer_id FROM customer_data WHERE email_hash IN ${hashes}
       UNION SELECT customer_id FROM order_line_data WHERE customer_id IS NOT NULL AND email_hash IN ${hashes}
       ORDER BY customer_id`,
      [JSON.stringify(emailHashes)],
    );
    return rows.map((row) => row.customer_id);
  }

  async history(limit: number): Promise<Record<string, unknown>[]> {
    const rows = await this.reader.all('SELECT * FROM imports ORDER BY started_at DESC LIMIT $1', [limit]);
    return rows.map((row) => ({
      ...row,
      mapping: typeof row.mapping === 'string' ? (JSON.parse(row.mapping) as unknown) : row.mapping,
    }));
  }

  /** Resolves once no import is running on this repository's session. */
  async idle(): Promise<void> {
    await this.importer.exclusive(async () => undefined);
  }

  close(): void {
    this.importer.close();
  }

  private async prepare(c: DuckDBConnection): Promise<void> {
    if (this.prepared) return;
    await runOn(c, 'SET enable_progress_bar_print = false');
    await runOn(c, 'SET enable_progress_bar = true');
    for (const macro of MACROS) await runOn(c, macro);
    this.prepared = true;
  }

  /** Writes the valid rows, the rejects and the import's record in one transaction. */
  private async write(c: DuckDBConnection, spec: ImportSpec, staged: StagedFile): Promise<ImportReport> {
    const counts = rowsOf<{ total: number; ok: number }>(
      await readOn(c, `SELECT count(*) AS total, count(*) FILTER (WHERE ok) AS ok FROM ${T.checked}`),
    )[0]!;
    const importedAt = sqlString(spec.startedAt.toISOString());
    await runOn(c, 'BEGIN TRANSACTION');
    try {
      let replaced = 0;
      let imported: number;
      if (spec.target === 'events') {
        imported = await runOn(c, insertEventsSql(spec, importedAt));
      } else {
        const { table, key } = TABLE_OF[spec.target];
        replaced = await runOn(
          c,
          `DELETE FROM ${table} WHERE ${key} IN (SELECT f_${key} FROM ${T.checked} WHERE ok)`,
        );
        imported = await runOn(c, insertRowsSql(spec, importedAt));
      }
      // With personal values sealed, a reject keeps no clear one: personal columns of its excerpt are redacted,
      // and a line that did not parse (whose columns are unknown) keeps no excerpt.
      const excerpt = spec.sealer ? 'CASE WHEN raw IS NULL THEN reject_json END' : 'coalesce(raw, row_json)';
      const rejected = await runOn(
        c,
        `INSERT INTO import_reject_log
         SELECT $1, line, reason, field, left(${excerpt}, ${MAX_REJECT_ROW_CHARS})
         FROM ${T.checked} WHERE NOT ok ORDER BY line`,
        [spec.importId],
      );
      const skipped = counts.ok - imported;
      await runOn(
        c,
        `INSERT INTO import_log VALUES ($1, $2, $3, $4, $5, $6::TIMESTAMPTZ, now(), $7, $8, $9, $10, $11, $12::JSON)`,
        [
          spec.importId,
          spec.fileName,
          spec.target,
          spec.format,
          spec.source,
          spec.startedAt.toISOString(),
          counts.total,
          imported,
          rejected,
          skipped,
          replaced,
          JSON.stringify(spec.mapping),
        ],
      );
      await runOn(c, 'COMMIT');
      const sampleRejects = rowsOf<ImportRejectRow>(
        await readOn(
          c,
          `SELECT line, reason, field, "row" FROM import_reject_log WHERE import_id = $1 ORDER BY line LIMIT ${SAMPLE_REJECTS}`,
          [spec.importId],
        ),
      );
      const mapped = new Set(Object.values(spec.mapping));
      return {
        importId: spec.importId,
        target: spec.target,
        file: spec.fileName,
        format: spec.format,
        rowsRead: counts.total,
        imported,
        rejected,
        skipped,
        replaced,
        mapping: spec.mapping,
        unmappedColumns: staged.columns.filter((column) => !mapped.has(column)),
        sampleRejects,
      };
    } catch (error) {
      await runOn(c, 'ROLLBACK').catch(() => undefined);
      throw error;
    }
  }
}

const TABLE_OF: Readonly<Record<Exclude<ImportTarget, 'events'>, { table: string; key: string }>> = {
  orders: { table: 'order_line_data', key: 'order_id' },
  customers: { table: 'customer_data', key: 'customer_id' },
  products: { table: 'product_data', key: 'product_id' },
};

// ---------------------------------------------------------------------------------------------------------
// Reading: every format ends up in refinery_import_rows(line BIGINT, error VARCHAR, raw VARCHAR, c0.. VARCHAR).

async function stageFile(c: DuckDBConnection, spec: ImportSpec): Promise<StagedFile> {
  await dropScratch(c);
  if (spec.format === 'csv' || spec.format === 'tsv') return stageCsv(c, spec.file, spec.format);
  if (spec.format === 'parquet') return stageParquet(c, spec.file);
  return stageJson(c, spec.file, spec.format);
}

/**
 * The header of a CSV/TSV file, read by DuckDB's CSV reader. DuckDB's dialect sniffer is not used: one
 * broken line near the top (an unterminated quote) makes it fail or guess a wrong delimiter, and reporting
 * exactly such lines is the point. The delimiter is the commonest of , ; | and tab in the first line (tab for TSV).
 */
async function csvHeader(
  c: DuckDBConnection,
  file: string,
  format: 'csv' | 'tsv',
): Promise<{ delimiter: string; names: string[] }> {
  const first = rowsOf<{ line: string | null }>(
    await readOn(
      c,
      `SELECT line FROM read_csv(${sqlString(file)}, columns = {'line': 'VARCHAR'}, header = false,
         auto_detect = false, delim = '\x1f', quote = '', escape = '') LIMIT 1`,
    ),
  )[0];
  if (!first?.line) {
    throw new RefineryError('REFINERY_ERR_IMPORT_FORMAT', `${file} is empty or starts with an empty line.`, {
      field: 'file',
    });
  }
  const header = first.line;
  let delimiter = format === 'tsv' ? '\t' : ',';
  if (format === 'csv') {
    let best = 0;
    for (const candidate of [',', ';', '\t', '|']) {
      const count = header.split(candidate).length - 1;
      if (count > best) {
        best = count;
        delimiter = candidate;
      }
    }
  }
  const upperBound = header.split(delimiter).length;
  const names = Array.from({ length: upperBound }, (_, i) => `c${i}`);
  const tokens = rowsOf<Record<string, string | null>>(
    await readOn(
      c,
      `SELECT * FROM read_csv(${sqlString(file)}, columns = ${varcharColumns(names)}, header = false,
         auto_detect = false, delim = ${sqlString(delimiter)}, quote = '"', escape = '"',
         null_padding = true, ignore_errors = true) LIMIT 1`,
    ),
  )[0];
  const values = names.map((name) => tokens?.[name] ?? null);
  // A quoted header containing the delimiter makes the upper bound too high; the surplus reads as NULL.
  while (values.length > 1 && values[values.length - 1] === null) values.pop();
  return { delimiter, names: uniqueNames(values) };
}

async function stageCsv(c: DuckDBConnection, file: string, format: 'csv' | 'tsv'): Promise<StagedFile> {
  const { delimiter, names } = await csvHeader(c, file, format);
  const internal = names.map((_, i) => `c${i}`);
  await runOn(c, `DROP TABLE IF EXISTS ${T.csvRejects}`);
  await runOn(c, `DROP TABLE IF EXISTS ${T.csvScans}`);
  // DuckDB's reader keeps file order (preserve_insertion_order), so rowid is the position among good records;
  // lines it cannot parse go to the rejects table with the record number where they start.
  await runOn(
    c,
    `CREATE TEMP TABLE ${T.csvRead} AS SELECT * FROM read_csv(${sqlString(file)},
       columns = ${varcharColumns(internal)}, header = true, auto_detect = false,
       delim = ${sqlString(delimiter)}, quote = '"', escape = '"',
       store_rejects = true, rejects_table = '${T.csvRejects}', rejects_scan = '${T.csvScans}')`,
  );
  const newlines = internal.length
    ? `length(concat_ws('', ${internal.join(', ')})) - length(replace(concat_ws('', ${internal.join(', ')}), chr(10), ''))`
    : '0';
  const rawExists = await tableExists(c, T.csvRejects);
  // DuckDB numbers records, not physical lines: the header is 1 and a record with quoted line breaks counts
  // once. Record number of good row k = k + 2 + (broken records before it); the physical line adds the line
  // breaks inside the values of the good rows before it. Broken record m (1-based, at record L) has
  // L - 1 - m good rows before it.
  const broken = rawExists
    ? `SELECT line AS record, row_number() OVER (ORDER BY line) AS m,
         first(error_type ORDER BY column_idx) AS error_type, first(error_message ORDER BY column_idx) AS message,
         first(csv_line) AS csv_line
       FROM ${T.csvRejects} GROUP BY line`
    : 'SELECT NULL::BIGINT AS record, NULL::BIGINT AS m, NULL AS error_type, NULL AS message, NULL AS csv_line WHERE false';
  await runOn(
    c,
    `CREATE TEMP TABLE ${T.rows} AS
     WITH good AS (
       SELECT rowid AS k, *, ${newlines} AS nl FROM ${T.csvRead}
     ), spans AS (
       SELECT *, coalesce(sum(nl) OVER (ORDER BY k ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
       FROM good
     ), broken AS (${broken}),
     thresholds AS (SELECT record - 1 - m AS t, max(m) AS m FROM broken GROUP BY ALL)
     SELECT s.k + 2 + coalesce(th.m, 0) + s.before AS line, NULL::VARCHAR AS error, NULL::VARCHAR AS raw,
            ${internal.map((name) => `s.${name}`).join(', ')}
     FROM spans s ASOF LEFT JOIN thresholds th ON s.k >= th.t
     UNION ALL
     SELECT b.record + coalesce(s.before, (SELECT coalesce(sum(nl), 0) FROM good)) AS line,
            ${csvReason()} AS error, b.csv_line AS raw,
            ${internal.map((name) => `NULL::VARCHAR AS ${name}`).join(', ')}
     FROM broken b LEFT JOIN spans s ON s.k = b.record - 1 - b.m`,
  );
  return { columns: names };
}

function csvReason(): string {
  return `CASE b.error_type
    WHEN 'UNQUOTED VALUE' THEN 'not valid CSV: a quote is never closed (' || b.message ||
      '); the lines after it were read as part of this value'
    WHEN 'TOO MANY COLUMNS' THEN 'not valid CSV: more fields than the header (' || b.message || ')'
    WHEN 'MISSING COLUMNS' THEN 'not valid CSV: fewer fields than the header (' || b.message || ')'
    ELSE 'not valid CSV: ' || b.message END`;
}

async function parquetColumns(c: DuckDBConnection, file: string): Promise<{ name: string; type: string }[]> {
  const rows = rowsOf<{ column_name: string; column_type: string }>(
    await readOn(c, `DESCRIBE SELECT * FROM read_parquet(${sqlString(file)})`),
  );
  return rows.map((row) => ({ name: row.column_name, type: row.column_type }));
}

async function stageParquet(c: DuckDBConnection, file: string): Promise<StagedFile> {
  const columns = await parquetColumns(c, file);
  const names = uniqueNames(columns.map((column) => column.name));
  const casts = columns.map((column, i) => {
    const nested = /^(STRUCT|MAP|UNION)\b|\]$/.test(column.type);
    const ref = sqlIdentifier(column.name);
    return `${nested ? `CAST(to_json(${ref}) AS VARCHAR)` : `CAST(${ref} AS VARCHAR)`} AS c${i}`;
  });
  await runOn(
    c,
    `CREATE TEMP TABLE ${T.rows} AS
     SELECT file_row_number + 1 AS line, NULL::VARCHAR AS error, NULL::VARCHAR AS raw${casts.length ? ', ' : ''}${casts.join(', ')}
     FROM read_parquet(${sqlString(file)}, file_row_number = true)`,
  );
  return { columns: names };
}

function jsonOptions(format: ImportFormat): string {
  return `format = ${format === 'ndjson' ? "'newline_delimited'" : "'auto'"}, ignore_errors = true`;
}

/** Object keys in order of first appearance. */
async function jsonKeys(c: DuckDBConnection, relation: string, limit?: number): Promise<string[]> {
  const rows = rowsOf<{ key: string }>(
    await readOn(
      c,
      `WITH objects AS (
         SELECT row_number() OVER () AS n, json FROM (SELECT json FROM ${relation}${limit ? ` LIMIT ${limit}` : ''})
       ), keys AS (
         SELECT n, unnest(json_keys(json)) AS key, generate_subscripts(json_keys(json), 1) AS pos
         FROM objects WHERE json_type(json) = 'OBJECT'
       )
       SELECT key FROM keys GROUP BY key ORDER BY min(n * 1000000 + pos)`,
    ),
  );
  return rows.map((row) => row.key);
}

/**
 * NDJSON and JSON arrays through DuckDB's JSON reader, one value per line (element). A line that is not
 * valid JSON reads as NULL in its place, so it is reported with its line; blank lines are skipped by the
 * reader and not counted.
 */
async function stageJson(c: DuckDBConnection, file: string, format: ImportFormat): Promise<StagedFile> {
  await runOn(
    c,
    `CREATE TEMP TABLE ${T.jsonRead} AS SELECT json FROM read_json_objects(${sqlString(file)}, ${jsonOptions(format)})`,
  );
  const keys = await jsonKeys(c, `(SELECT json FROM ${T.jsonRead} ORDER BY rowid)`);
  const names = uniqueNames(keys);
  const paths = keys.length ? `[${keys.map(sqlString).join(', ')}]` : '';
  await runOn(
    c,
    `CREATE TEMP TABLE ${T.rows} AS
     SELECT rowid + 1 AS line,
            CASE WHEN json IS NULL THEN 'not valid JSON'
                 WHEN json_type(json) <> 'OBJECT' THEN 'not a JSON object' END AS error,
            CASE WHEN json IS NULL OR json_type(json) <> 'OBJECT' THEN coalesce(CAST(json AS VARCHAR), '') END AS raw
            ${keys.map((_, i) => `, v[${i + 1}] AS c${i}`).join('')}
     FROM (SELECT rowid, json${paths ? `, json_extract_string(json, ${paths}) AS v` : ''} FROM ${T.jsonRead})`,
  );
  return { columns: names };
}

// ---------------------------------------------------------------------------------------------------------
// Validation: refinery_import_checked(line, ok, reason, field, raw, row_json, extra, f_<field> …).

function checkSql(spec: ImportSpec, staged: StagedFile): string {
  const definition = TARGETS[spec.target];
  const columnIndex = new Map(staged.columns.map((name, i) => [name, i]));
  const mappedColumns = new Set(Object.values(spec.mapping));
  const text = (field: string): string => {
    const column = spec.mapping[field];
    const index = column === undefined ? undefined : columnIndex.get(column);
    return index === undefined ? 'NULL::VARCHAR' : `NULLIF(trim(c${index}, ${sqlString(WHITESPACE)}), '')`;
  };

  const textColumns = definition.fields.map((f) => `${text(f.name)} AS v_${f.name}`);
  const typedColumns = definition.fields.map(
    (f) => `${FIELD_SQL[f.type].convert(`v_${f.name}`)} AS f_${f.name}`,
  );

  const problems: string[] = [];
  const personal = new Set(spec.sealer?.personalFields ?? []);
  for (const f of definition.fields) {
    if (f.required) problems.push(problem(`v_${f.name} IS NULL`, f.name, `'${f.name}: required but empty'`));
    if (f.type !== 'text') {
      // A reason is kept in the import rejects, so it never quotes a personal value.
      const shown = personal.has(f.name)
        ? "'(value withheld: personal) '"
        : `${quoted(`v_${f.name}`)} || ' '`;
      problems.push(
        problem(
          `v_${f.name} IS NOT NULL AND f_${f.name} IS NULL`,
          f.name,
          `'${f.name}: ' || ${shown} || '${FIELD_SQL[f.type].problem}'`,
        ),
      );
    }
  }
  if (spec.target === 'events') {
    problems.push(
      problem(
        "(v_type IS NULL OR f_type = 'track') AND f_event IS NULL",
        'event',
        "'event: required for track events but empty'",
      ),
      problem(
        'f_user_id IS NULL AND f_anonymous_id IS NULL',
        'user_id',
        "'user_id/anonymous_id: one of them is required but both are empty'",
      ),
    );
  }

  const unmapped = staged.columns
    .map((name, i) => ({ name, i }))
    .filter((column) => !mappedColumns.has(column.name));
  const extra = unmapped.length
    ? `NULLIF(CAST(to_json(map_from_entries(list_filter([${unmapped
        .map(
          (u) =>
            `{'k': ${sqlString(u.name)}, 'v': refinery_cell(NULLIF(trim(c${u.i}, ${sqlString(WHITESPACE)}), ''))}`,
        )
        .join(', ')}], e -> e.v IS NOT NULL))) AS VARCHAR), '{}')`
    : 'NULL::VARCHAR';
  const rowJson = staged.columns.length
    ? `CAST(json_object(${staged.columns.map((name, i) => `${sqlString(name)}, c${i}`).join(', ')}) AS VARCHAR)`
    : "'{}'";
  const withheld = new Set(spec.sealer?.personalColumns ?? []);
  const rejectJson = staged.columns.length
    ? `CAST(json_object(${staged.columns
        .map((name, i) =>
          withheld.has(name)
            ? `${sqlString(name)}, CASE WHEN c${i} IS NOT NULL THEN '[redacted]' END`
            : `${sqlString(name)}, c${i}`,
        )
        .join(', ')}) AS VARCHAR)`
    : "'{}'";

  // Keys that must be unique within one file; later copies are rejected and point at the first.
  const key = uniqueKey(spec);
  const keyCheck = key
    ? `CASE WHEN valid AND count(*) OVER (PARTITION BY valid, ${key.columns.join(', ')}) > 1
         AND line > min(line) OVER (PARTITION BY valid, ${key.columns.join(', ')})
       THEN ${key.reason} || ' appears again; first on line ' || min(line) OVER (PARTITION BY valid, ${key.columns.join(', ')}) END`
    : 'NULL::VARCHAR';

  return `CREATE TEMP TABLE ${T.checked} AS
    WITH text_values AS (
      SELECT line, error, raw, ${rowJson} AS row_json, ${rejectJson} AS reject_json, ${extra} AS extra,
        NULL::VARCHAR AS email_hash, ${textColumns.join(', ')}
      FROM ${T.rows}
    ), typed AS (
      SELECT *, ${typedColumns.join(', ')} FROM text_values
    ), problems AS (
      SELECT *, CASE WHEN error IS NOT NULL THEN [{'field': NULL::VARCHAR, 'reason': error}]
                ELSE list_filter([${problems.join(', ')}], p -> p IS NOT NULL) END AS found
      FROM typed
    ), flagged AS (
      SELECT *, len(found) = 0 AS valid FROM problems
    ), keyed AS (
      SELECT *, ${keyCheck} AS duplicate FROM flagged
    )
    SELECT * EXCLUDE (found, valid, duplicate),
      valid AND duplicate IS NULL AS ok,
      CASE WHEN duplicate IS NOT NULL THEN duplicate
           ELSE array_to_string(list_transform(found, p -> p.reason), '; ') END AS reason,
      CASE WHEN duplicate IS NOT NULL THEN ${key ? sqlString(key.field) : 'NULL'}
           ELSE found[1].field END AS field
    FROM keyed`;
}

const ROW_CHECK_PAGE = 50_000;

/**
 * Runs a row check (a dataset contract) over the rows that passed the target's own checks, page by page in
 * line order, and marks the refused ones not ok with the check's reason, so they land in the rejects.
 */
async function applyRowCheck(c: DuckDBConnection, spec: ImportSpec, check: ImportRowCheck): Promise<void> {
  const fields = TARGETS[spec.target].fields.map((f) => f.name);
  await runOn(
    c,
    `CREATE OR REPLACE TEMP TABLE ${T.contractRefusals} (line BIGINT, reason VARCHAR, field VARCHAR)`,
  );
  let after = -1;
  for (;;) {
    const rows = rowsOf<Record<string, unknown>>(
      await readOn(
        c,
        `SELECT line, extra AS refinery_extra, ${fields.map((name) => `f_${name} AS "${name}"`).join(', ')}
         FROM ${T.checked} WHERE ok AND line > $1 ORDER BY line LIMIT ${ROW_CHECK_PAGE}`,
        [after],
      ),
    );
    const refused: string[] = [];
    for (const row of rows) {
      const { line, refinery_extra: extra, ...fields } = row;
      // Columns no field claims are checked too, as text (they are kept in `extra`).
      const values =
        typeof extra === 'string' ? { ...(JSON.parse(extra) as Record<string, unknown>), ...fields } : fields;
      const problem = check(values);
      if (problem) {
        refused.push(
          `(${Number(line)}, ${sqlString(problem.reason)}, ${problem.field === null ? 'NULL' : sqlString(problem.field)})`,
        );
      }
    }
    if (refused.length > 0) await runOn(c, `INSERT INTO ${T.contractRefusals} VALUES ${refused.join(', ')}`);
    if (rows.length < ROW_CHECK_PAGE) break;
    after = Number(rows[rows.length - 1]!.line);
  }
  await runOn(
    c,
    `UPDATE ${T.checked} SET ok = false, reason = r.reason, field = r.field
     FROM ${T.contractRefusals} r WHERE ${T.checked}.line = r.line`,
  );
}

const SEAL_PAGE = 20_000;

/**
 * Replaces the personal values of the rows about to be written by their sealed form: the rows that hold any go
 * out to the sealer a page at a time, in line order, and come back through an appender into a scratch table
 * that one UPDATE applies (with each row's email hash, or its refusal when nothing could seal it).
 */
async function applySealer(
  c: DuckDBConnection,
  spec: ImportSpec,
  sealer: ImportSealer,
  onProgress: (fraction: number) => void,
): Promise<void> {
  const fields = new Map(TARGETS[spec.target].fields.map((f) => [f.name, f]));
  const written = sealer.columns;
  const sqlTypeOf = (name: string) =>
    name === 'extra' ? 'VARCHAR' : FIELD_SQL[fields.get(name)!.type].sqlType;
  const columnOf = (name: string) => (name === 'extra' ? 'extra' : `f_${name}`);
  await runOn(
    c,
    `CREATE OR REPLACE TEMP TABLE ${T.sealed} (line BIGINT, ${written.map((name) => `${sqlIdentifier(name)} VARCHAR`).join(', ')},
       email_hash VARCHAR, refused_field VARCHAR, refused_reason VARCHAR)`,
  );
  const readNames = [...new Set([...written, ...sealer.reads])].filter((name) => fields.has(name));
  const read = readNames.map((name) => {
    const type = FIELD_SQL[fields.get(name)!.type].sqlType;
    return `${type === 'VARCHAR' ? `f_${name}` : `CAST(f_${name} AS VARCHAR)`} AS ${sqlIdentifier(name)}`;
  });
  const holding = [
    ...written.map((name) => `${columnOf(name)} IS NOT NULL`),
    ...(fields.has('first_name') ? ['f_first_name IS NOT NULL', 'f_last_name IS NOT NULL'] : []),
  ];
  const total = Number(
    rowsOf<{ n: number }>(
      await readOn(c, `SELECT count(*) AS n FROM ${T.checked} WHERE ok AND (${holding.join(' OR ')})`),
    )[0]?.n ?? 0,
  );
  const appender = await c.createAppender(T.sealed, 'main', 'temp');
  let after = -1;
  let done = 0;
  try {
    for (;;) {
      const rows = rowsOf<Record<string, unknown>>(
        await readOn(
          c,
          `SELECT line, extra, ${read.join(', ')} FROM ${T.checked}
           WHERE ok AND line > $1 AND (${holding.join(' OR ')}) ORDER BY line LIMIT ${SEAL_PAGE}`,
          [after],
        ),
      );
      if (rows.length === 0) break;
      const sealed = await sealer.seal(rows);
      rows.forEach((row, index) => {
        const result = sealed[index]!;
        appender.appendBigInt(BigInt(Number(row.line)));
        for (const name of written) {
          const value = name in result.values ? result.values[name] : row[name];
          if (value === null || value === undefined) appender.appendNull();
          else appender.appendVarchar(String(value));
        }
        for (const value of [result.emailHash, result.refusal?.field, result.refusal?.reason]) {
          if (value === null || value === undefined) appender.appendNull();
          else appender.appendVarchar(value);
        }
        appender.endRow();
      });
      done += rows.length;
      onProgress(total === 0 ? 1 : done / total);
      after = Number(rows[rows.length - 1]!.line);
      if (rows.length < SEAL_PAGE) break;
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
  await runOn(
    c,
    `UPDATE ${T.checked} SET
       ${written.map((name) => `${columnOf(name)} = CAST(s.${sqlIdentifier(name)} AS ${sqlTypeOf(name)})`).join(', ')},
       email_hash = s.email_hash,
       ok = s.refused_reason IS NULL,
       reason = coalesce(s.refused_reason, ${T.checked}.reason),
       field = coalesce(s.refused_field, ${T.checked}.field)
     FROM ${T.sealed} s WHERE ${T.checked}.line = s.line`,
  );
}

function problem(condition: string, field: string, reason: string): string {
  return `CASE WHEN ${condition} THEN {'field': ${sqlString(field)}, 'reason': ${reason}} END`;
}

/** `"value"`, cut to a readable length, for reasons. */
function quoted(value: string): string {
  return `'"' || CASE WHEN length(${value}) > 80 THEN left(${value}, 77) || '...' ELSE ${value} END || '"'`;
}

function uniqueKey(spec: ImportSpec): { columns: string[]; reason: string; field: string } | undefined {
  switch (spec.target) {
    case 'customers':
      return {
        columns: ['f_customer_id'],
        reason: `'customer_id ' || ${quoted('f_customer_id')}`,
        field: 'customer_id',
      };
    case 'products':
      return {
        columns: ['f_product_id'],
        reason: `'product_id ' || ${quoted('f_product_id')}`,
        field: 'product_id',
      };
    case 'orders':
      return spec.mapping.line_number === undefined
        ? undefined
        : {
            columns: ['f_order_id', 'f_line_number'],
            reason: `'order_id ' || ${quoted('f_order_id')} || ' line_number ' || f_line_number`,
            field: 'line_number',
          };
    case 'events':
      return spec.mapping.message_id === undefined
        ? undefined
        : {
            columns: ['f_message_id'],
            reason: `'message_id ' || ${quoted('f_message_id')}`,
            field: 'message_id',
          };
  }
}

// ---------------------------------------------------------------------------------------------------------
// Writing.

function insertRowsSql(spec: ImportSpec, importedAt: string): string {
  const id = sqlString(spec.importId);
  const at = `CAST(${importedAt} AS TIMESTAMPTZ)`;
  const from = `FROM ${T.checked} WHERE ok`;
  switch (spec.target) {
    case 'orders':
      return `INSERT INTO order_line_data
        SELECT f_order_id,
          coalesce(f_line_number, row_number() OVER (PARTITION BY f_order_id ORDER BY line)),
          f_ordered_at, f_customer_id, f_email, f_channel, f_store, f_product_id, f_product_name, f_category,
          coalesce(f_quantity, 1), f_unit_price,
          coalesce(f_amount, TRY_CAST(round(coalesce(f_quantity, 1) * f_unit_price, 4) AS DECIMAL(18,4))),
          f_currency, f_country, f_status, extra, ${id}, ${at}, email_hash
        ${from}`;
    case 'customers':
      return `INSERT INTO customer_data
        SELECT f_customer_id, f_email, f_phone, f_first_name, f_last_name,
          coalesce(f_name, NULLIF(concat_ws(' ', f_first_name, f_last_name), '')),
          f_city, f_postal_code, f_country, f_created_at, extra, ${id}, ${at}, email_hash
        ${from}`;
    case 'products':
      return `INSERT INTO product_data
        SELECT f_product_id, f_name, f_category, f_brand, f_price, f_currency, extra, ${id}, ${at}
        ${from}`;
    case 'events':
      throw new Error('events are written by insertEventsSql');
  }
}

/**
 * Imported events go to `event_log` beside collected ones (load_seq 0). Without a message_id column the id
 * is derived from the row's content and its occurrence among identical rows, so importing the same file
 * again, or a file that repeats its rows, adds nothing twice; rows whose id is already stored are skipped.
 * Unmapped columns join `properties` (or `traits` for identify and group events).
 */
function insertEventsSql(spec: ImportSpec, importedAt: string): string {
  return `INSERT INTO event_log (message_id, type, event, name, category, user_id, anonymous_id, group_id,
      timestamp, received_at, properties, traits, context, source, load_seq)
    SELECT message_id, type, f_event, f_name, f_category, f_user_id, f_anonymous_id, f_group_id,
      f_timestamp, CAST(${importedAt} AS TIMESTAMPTZ),
      CASE WHEN type IN ('identify', 'group') THEN f_properties
           ELSE CAST(json_merge_patch(coalesce(extra, '{}'), coalesce(f_properties, '{}')) AS JSON) END,
      CASE WHEN type IN ('identify', 'group')
           THEN CAST(json_merge_patch(coalesce(extra, '{}'), coalesce(f_traits, '{}')) AS JSON)
           ELSE f_traits END,
      f_context, ${sqlString(spec.source)}, 0
    FROM (
      SELECT *, coalesce(f_type, 'track') AS type,
        coalesce(f_message_id, 'import-' || md5(row_json || '#' ||
          row_number() OVER (PARTITION BY md5(row_json) ORDER BY line))) AS message_id
      FROM ${T.checked} WHERE ok
    ) candidates
    WHERE NOT EXISTS (SELECT 1 FROM event_log l WHERE l.message_id = candidates.message_id)`;
}

// ---------------------------------------------------------------------------------------------------------
// Helpers.

class ProgressReporter {
  private last = 0;
  private lastPhase: ImportProgress['phase'] | undefined;

  constructor(private readonly listener?: (progress: ImportProgress) => void) {}

  emit(phase: ImportProgress['phase'], fraction: number): void {
    if (!this.listener) return;
    const next = Math.min(1, Math.max(this.last, fraction));
    if (next === this.last && phase === this.lastPhase) return;
    this.last = next;
    this.lastPhase = phase;
    this.listener({ phase, fraction: next });
  }
}

/** Runs `work` while reporting DuckDB's own progress estimate for the statement in flight (0..1). */
async function withProgress<T>(
  c: DuckDBConnection,
  work: Promise<T>,
  report: (fraction: number) => void,
): Promise<T> {
  const timer = setInterval(() => {
    const percentage = c.progress.percentage;
    if (percentage >= 0) report(Math.min(1, percentage / 100));
  }, PROGRESS_POLL_MS);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}

async function dropScratch(c: DuckDBConnection): Promise<void> {
  for (const table of Object.values(T))
    await runOn(c, `DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
}

async function tableExists(c: DuckDBConnection, name: string): Promise<boolean> {
  const rows = rowsOf<{ n: number }>(
    await readOn(c, 'SELECT count(*) AS n FROM duckdb_tables() WHERE table_name = $1', [name]),
  );
  return (rows[0]?.n ?? 0) > 0;
}

function unreadable(error: unknown, file: string, format: ImportFormat): RefineryError {
  if (error instanceof RefineryError && error.code !== 'REFINERY_ERR_STORE') return error;
  const cause = error instanceof RefineryError ? error.cause : error;
  const full = cause instanceof Error ? cause.message : String(cause);
  const message = full.split('\n')[0] ?? full;
  if (/invalid unicode/i.test(full)) {
    return new RefineryError(
      'REFINERY_ERR_IMPORT_FORMAT',
      `${file} is not UTF-8 (${message.replace(/^Invalid Input Error: /, '')}). Convert it first, for example ` +
        '`iconv -f latin1 -t utf-8 in.csv > out.csv`.',
      { field: 'file', format },
      { cause },
    );
  }
  return new RefineryError(
    'REFINERY_ERR_IMPORT_FORMAT',
    `Cannot read ${file} as ${format}: ${message}`,
    { field: 'file', format },
    { cause },
  );
}

/** Header names made usable as keys: empty ones become column_N, repeats get _2, _3 … */
function uniqueNames(values: readonly (string | null)[]): string[] {
  const seen = new Set<string>();
  return values.map((value, i) => {
    const base = value?.trim() ? value.trim() : `column_${i + 1}`;
    let name = base;
    for (let n = 2; seen.has(name); n++) name = `${base}_${n}`;
    seen.add(name);
    return name;
  });
}

function varcharColumns(names: readonly string[]): string {
  return `{${names.map((name) => `${sqlString(name)}: 'VARCHAR'`).join(', ')}}`;
}

function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

function sqlIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

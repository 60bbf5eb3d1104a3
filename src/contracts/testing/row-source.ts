import { dirname, resolve, sep } from 'node:path';
import {
  type DuckDBConnection,
  DuckDBInstance,
  type DuckDBTypeId,
  type Json,
  StatementType,
} from '@duckdb/node-api';
import { isRefineryError, RefineryError } from '../../core/errors.js';
import { asJsonObject } from '../../core/json-object.js';
import { toPlainValue } from '../../store/duckdb/duckdb-values.js';
import { QUERYABLE_RELATIONS } from '../../store/public-relations.js';
import type { QueryResult } from '../../store/query-result.js';
import {
  type ContractServer,
  EVENT_OBJECT_TYPES,
  type EventObjectType,
  type SchemaObject,
} from '../contract-model.js';

/** One row as a contract sees it. */
export interface SourceRow {
  /** What the schema object's properties describe: a file row, a dataset row, an event's properties or traits. */
  readonly record: Record<string, unknown>;
  /** The row's own columns; for events the stored event (message_id, received_at, …). */
  readonly columns: Readonly<Record<string, unknown>>;
}

/** The rows one schema object is tested against, read in chunks. */
export interface RowSource {
  /** Where the rows come from, for messages: a file path or `events where …`. */
  readonly origin: string;
  /**
   * How to judge a declared field's presence: `file`, it must be a column; `dataset`, a column or a key of
   * some row's `extra`; `events`, a key of some event's payload.
   */
  readonly kind: 'file' | 'dataset' | 'events';
  readonly columns: readonly string[];
  /** Columns naming a row in samples (`message_id` for events); empty when the schema's keys must do. */
  readonly keyColumns: readonly string[];
  chunks(): AsyncIterable<readonly SourceRow[]>;
  /**
   * Runs a `type: sql` quality rule over the same rows (row filter included) and returns its single value.
   * `${object}`, `{object}` and `{model}` stand for the rows, `{property}` for the rule's column.
   */
  scalar(query: string, property: string | null): Promise<unknown>;
}

export interface FileDataOptions {
  /** Where relative server paths resolve (datacontract-cli: the current folder). */
  readonly base: string;
  /** A SQL condition over the data's columns, applied as `WHERE (<filter>)`. */
  readonly filter?: string | undefined;
}

const FILE_FORMATS = ['csv', 'json', 'parquet'] as const;
type FileFormat = (typeof FILE_FORMATS)[number];

/**
 * The files a `type: local` server entry points at, read by an in-memory DuckDB. Globs over files with
 * different columns read as one relation (`union_by_name`), so old and new files can be tested together.
 *
 * @example
 * const data = await openFileData(contract.servers[0], { base: process.cwd() });
 * try { const rows = await data.forObject(contract.objects[0]); } finally { data.close(); }
 */
export async function openFileData(server: ContractServer, options: FileDataOptions): Promise<FileData> {
  if (server.type !== 'local') {
    throw new RefineryError(
      'REFINERY_ERR_CONTRACT_SERVER',
      `Server "${server.server}" is of type "${server.type}"; Refinery tests local files only (type: local). Without --server it tests the data stored in the workspace.`,
      { field: 'servers', server: server.server },
    );
  }
  if (!server.path) {
    throw new RefineryError('REFINERY_ERR_CONTRACT_SERVER', `Server "${server.server}" has no path.`, {
      field: 'servers',
      server: server.server,
    });
  }
  const format = fileFormatOf(server);
  if (format === 'csv') csvDelimiterOf(server);
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  // A contract's SQL rules and the row filter come from a file someone else may have written: DuckDB may
  // read only the server's folder, load no extensions, and the settings are locked before any of it runs.
  const folder = readableFolderOf(resolve(options.base, server.path));
  await connection.run(`SET allowed_directories = ['${folder.replaceAll("'", "''")}']`);
  await connection.run('SET enable_external_access = false');
  await connection.run('SET autoinstall_known_extensions = false');
  await connection.run('SET autoload_known_extensions = false');
  await connection.run('SET lock_configuration = true');
  return new FileData(server, format, options, instance, connection);
}

/** The folder a server path reads from: everything before its first glob or `{model}` placeholder. */
function readableFolderOf(path: string): string {
  const wildcard = path.search(/[*?[{]/);
  const fixed = wildcard === -1 ? path : path.slice(0, wildcard);
  return wildcard === -1 ? dirname(fixed) : fixed.endsWith(sep) ? fixed : dirname(fixed);
}

export class FileData {
  private views = 0;

  constructor(
    private readonly server: ContractServer,
    private readonly format: FileFormat,
    private readonly options: FileDataOptions,
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
  ) {}

  /** The rows of one schema object: the server's files (a `{model}` in the path names the object). */
  async forObject(object: SchemaObject): Promise<RowSource> {
    const path = this.pathFor(object);
    const base = `refinery_files_${++this.views}`;
    const columns = await this.createBaseView(base, path, object);
    const view = quoteIdentifier(object.name);
    try {
      await this.connection.run(
        `CREATE OR REPLACE VIEW ${view} AS SELECT * FROM ${base}${this.options.filter ? ` WHERE (${this.options.filter})` : ''}`,
      );
    } catch (cause) {
      throw filterError(this.options.filter ?? '', cause);
    }
    const numeric = this.format === 'csv' ? csvCoercions(object) : new Map<string, Coercion>();
    const connection = this.connection;
    const origin = `${this.declaredPath(object)} (${this.format})`;
    const filter = this.options.filter;
    return {
      origin,
      kind: 'file',
      columns: columns.map((column) => column.name),
      keyColumns: [],
      async *chunks() {
        let result: Awaited<ReturnType<DuckDBConnection['stream']>>;
        try {
          result = await connection.stream(`SELECT * FROM ${view}`);
        } catch (cause) {
          throw readError(origin, filter, cause);
        }
        const names = result.columnNames();
        const types = names.map((_, index) => result.columnTypeId(index));
        const json = names.map((_, index) => result.columnType(index).alias === 'JSON');
        const iterator = result.yieldRowsJson();
        while (true) {
          let next: IteratorResult<Json[][]>;
          try {
            next = await iterator.next();
          } catch (cause) {
            throw readError(origin, filter, cause);
          }
          if (next.done) return;
          yield next.value.map((values) => {
            const record = rowObject(names, values, types, json, numeric);
            return { record, columns: record };
          });
        }
      },
      async scalar(query, property) {
        const sql = substitutePlaceholders(query, view, property);
        const prepared = await connection.prepare(sql);
        if (prepared.statementType !== StatementType.SELECT) {
          throw new RefineryError(
            'REFINERY_ERR_QUERY_NOT_READ_ONLY',
            'A quality rule query must be one SELECT.',
            {
              field: 'query',
            },
          );
        }
        const rows = (await prepared.run()).getRowsJson();
        const first = (await rows)[0]?.[0];
        return plainScalar(first ?? null);
      },
    };
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }

  private declaredPath(object: SchemaObject): string {
    return (this.server.path ?? '').replace(/^file:\/\//, '').replace(/\{model\}/g, object.name);
  }

  private pathFor(object: SchemaObject): string {
    return resolve(this.options.base, this.declaredPath(object));
  }

  /** Creates a view over the files and returns its columns; declared text columns are read as text. */
  private async createBaseView(base: string, path: string, object: SchemaObject): Promise<DescribedColumn[]> {
    const create = async (types: Record<string, string>) => {
      try {
        await this.connection.run(
          `CREATE OR REPLACE VIEW ${base} AS SELECT * FROM ${this.reader(path, types)}`,
        );
        const described = await this.connection.run(`DESCRIBE SELECT * FROM ${base}`);
        return (await described.getRowObjectsJson()).map((row) => ({
          name: String(row.column_name),
          type: String(row.column_type),
        }));
      } catch (cause) {
        throw new RefineryError(
          'REFINERY_ERR_CONTRACT_SERVER',
          `Cannot read ${path} (server "${this.server.server}", ${this.format}): ${firstLine(cause)}`,
          { field: 'servers', server: this.server.server },
          { cause },
        );
      }
    };
    const columns = await create({});
    if (this.format !== 'csv') return columns;
    // CSV has no types: a column the contract calls text (zip codes, ids like 00123) must not be read as a number.
    const textual = new Set(
      object.properties
        .filter((property) => property.logicalType === 'string')
        .map((property) => property.physicalName ?? property.name),
    );
    const overrides = Object.fromEntries(
      columns
        .filter((column) => textual.has(column.name) && column.type !== 'VARCHAR')
        .map((column) => [column.name, 'VARCHAR']),
    );
    return Object.keys(overrides).length > 0 ? create(overrides) : columns;
  }

  private reader(path: string, types: Record<string, string>): string {
    const file = quoteLiteral(path);
    switch (this.format) {
      case 'csv': {
        const delimiter = csvDelimiterOf(this.server);
        const options = [
          'union_by_name = true',
          'header = true',
          ...(delimiter ? [`delim = ${quoteLiteral(delimiter)}`] : []),
          ...(Object.keys(types).length > 0
            ? [
                `types = {${Object.entries(types)
                  .map(([name, type]) => `${quoteLiteral(name)}: ${quoteLiteral(type)}`)
                  .join(', ')}}`,
              ]
            : []),
        ];
        return `read_csv(${file}, ${options.join(', ')})`;
      }
      case 'json':
        return this.server.delimiter === 'new_line'
          ? `read_json_auto(${file}, format = 'newline_delimited', union_by_name = true)`
          : `read_json_auto(${file}, format = 'auto', union_by_name = true)`;
      case 'parquet':
        return `read_parquet(${file}, union_by_name = true)`;
    }
  }
}

interface DescribedColumn {
  readonly name: string;
  readonly type: string;
}

function fileFormatOf(server: ContractServer): FileFormat {
  const declared = server.format?.toLowerCase() ?? null;
  if (declared && (FILE_FORMATS as readonly string[]).includes(declared)) return declared as FileFormat;
  if (!declared) {
    const extension = /\.([a-z]+)$/i.exec(server.path ?? '')?.[1]?.toLowerCase();
    if (extension === 'csv') return 'csv';
    if (extension === 'parquet') return 'parquet';
    if (extension === 'json' || extension === 'ndjson' || extension === 'jsonl') return 'json';
  }
  throw new RefineryError(
    'REFINERY_ERR_CONTRACT_SERVER',
    `Server "${server.server}" has format ${declared ? `"${declared}"` : 'none'}; Refinery reads csv, json and parquet files.`,
    { field: 'servers', server: server.server },
  );
}

/** Words ODCS gives `delimiter` for JSON files (one document per line, or one array); no CSV meaning. */
const JSON_FRAMINGS = ['new_line', 'array'];

/**
 * The separator a CSV server's `delimiter` names: one character (`;`, `|`, a real tab), or `tab` / `\t`
 * for a tab; undefined without one, so DuckDB detects it. Anything else is refused rather than guessed at.
 */
function csvDelimiterOf(server: ContractServer): string | undefined {
  const declared = server.delimiter;
  if (declared === null || JSON_FRAMINGS.includes(declared)) return undefined;
  if (declared === 'tab' || declared === '\\t') return '\t';
  if ([...declared].length === 1 && declared !== '"' && declared !== '\n' && declared !== '\r')
    return declared;
  throw new RefineryError(
    'REFINERY_ERR_CONTRACT_SERVER',
    `Server "${server.server}" has delimiter ${JSON.stringify(declared)}; a csv server's delimiter is one character (or "tab").`,
    { field: 'servers', server: server.server },
  );
}

type Coercion = 'integer' | 'number' | 'boolean';

/** Declared numbers and booleans of a CSV file: text that reads cleanly as one becomes one. */
function csvCoercions(object: SchemaObject): Map<string, Coercion> {
  const coercions = new Map<string, Coercion>();
  for (const property of object.properties) {
    const type = property.logicalType;
    if (type === 'integer' || type === 'number' || type === 'boolean') {
      coercions.set(property.physicalName ?? property.name, type);
    }
  }
  return coercions;
}

const INTEGER_TEXT = /^[+-]?\d+$/;
const NUMBER_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function coerce(value: unknown, coercion: Coercion | undefined): unknown {
  if (coercion === undefined || typeof value !== 'string') return value;
  const text = value.trim();
  if (coercion === 'boolean') {
    if (/^true$/i.test(text)) return true;
    if (/^false$/i.test(text)) return false;
    return value;
  }
  if (coercion === 'integer' ? INTEGER_TEXT.test(text) : NUMBER_TEXT.test(text)) {
    const number = Number(text);
    if (Number.isFinite(number) && (coercion === 'number' || Number.isSafeInteger(number))) return number;
  }
  return value;
}

function rowObject(
  names: readonly string[],
  values: readonly Json[],
  types: readonly DuckDBTypeId[],
  json: readonly boolean[],
  coercions: ReadonlyMap<string, Coercion>,
): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  names.forEach((name, index) => {
    const raw = values[index] ?? null;
    const plain = json[index] ? parseJsonText(raw) : toPlainValue(raw, types[index]!);
    record[name] = coerce(plain, coercions.get(name));
  });
  return record;
}

// ---------------------------------------------------------------------------------------------------------
// Data stored in the workspace

/** Runs one read-only query on the workspace's store (`WorkspaceAccess.query`). */
export type WorkspaceQuery = (sql: string) => Promise<QueryResult>;

export interface StoredRowsOptions {
  readonly filter?: string | undefined;
  /** Rows per page; a store answering fewer (its `queryMaxRows`) is paged by what it answered. */
  readonly pageRows?: number;
}

const JSON_COLUMNS = new Set(['properties', 'traits', 'context', 'integrations', 'extra']);
const ORDER_KEYS: Record<string, readonly string[]> = {
  events: ['received_at', 'message_id'],
  orders: ['order_id', 'line_number'],
  customers: ['customer_id'],
  products: ['product_id'],
};

/**
 * The rows of one schema object in the workspace's store: the matching events (an object whose
 * `physicalType` is track, identify, page, screen, group or alias) or the dataset relation named by
 * `physicalName ?? name`. Pages through them with plain `ORDER BY … LIMIT n OFFSET m`, which both engines
 * (DuckDB and ClickHouse 18.16) answer, through the same guarded read-only query users have.
 */
export async function openStoredRows(
  query: WorkspaceQuery,
  object: SchemaObject,
  options: StoredRowsOptions = {},
): Promise<RowSource> {
  const target = storedTarget(object);
  const condition = [target.condition, options.filter ? `(${options.filter})` : null]
    .filter((part): part is string => part !== null)
    .join(' AND ');
  const where = condition ? ` WHERE ${condition}` : '';
  const probe = await query(
    `SELECT * FROM ${target.relation}${target.condition ? ` WHERE ${target.condition}` : ''} LIMIT 1`,
  );
  if (options.filter) {
    try {
      await query(`SELECT * FROM ${target.relation}${where} LIMIT 1`);
    } catch (cause) {
      if (isRefineryError(cause) && cause.code === 'REFINERY_ERR_QUERY_TIMEOUT') throw cause;
      throw filterError(options.filter, cause);
    }
  }
  const columns = probe.columns.map((column) => column.name);
  const jsonColumns = new Set(
    probe.columns
      .filter((column) => JSON_COLUMNS.has(column.name) || /json/i.test(column.type))
      .map((column) => column.name),
  );
  const order = (ORDER_KEYS[target.relation] ?? columns.filter((name) => !jsonColumns.has(name)))
    .map(quoteIdentifier)
    .join(', ');
  const pageRows = Math.max(1, options.pageRows ?? 5_000);
  const eventType = target.eventType;
  return {
    origin: `${target.relation}${where}`,
    kind: eventType ? 'events' : 'dataset',
    columns,
    keyColumns: eventType ? ['message_id'] : [],
    async *chunks() {
      let offset = 0;
      while (true) {
        const page = await query(
          `SELECT * FROM ${target.relation}${where}${order ? ` ORDER BY ${order}` : ''} LIMIT ${pageRows} OFFSET ${offset}`,
        );
        if (page.rows.length === 0) return;
        yield page.rows.map((row) => storedRow(row, jsonColumns, eventType));
        offset += page.rows.length;
        if (page.rows.length < pageRows && !page.truncated) return;
      }
    },
    async scalar(sql, property) {
      const rows = `(SELECT * FROM ${target.relation}${where})`;
      const answer = await query(substitutePlaceholders(sql, rows, property));
      const first = answer.rows[0];
      const column = answer.columns[0]?.name;
      return first && column !== undefined ? plainScalar(first[column] ?? null) : null;
    },
  };
}

interface StoredTarget {
  readonly relation: string;
  readonly condition: string | null;
  readonly eventType: EventObjectType | null;
}

function storedTarget(object: SchemaObject): StoredTarget {
  const type = object.physicalType;
  if (type && (EVENT_OBJECT_TYPES as readonly string[]).includes(type)) {
    const conditions = [`type = ${quoteLiteral(type)}`];
    if (type === 'track') conditions.push(`event = ${quoteLiteral(object.physicalName ?? object.name)}`);
    if ((type === 'page' || type === 'screen') && object.physicalName && object.physicalName !== '*') {
      conditions.push(`name = ${quoteLiteral(object.physicalName)}`);
    }
    return {
      relation: 'events',
      condition: `(${conditions.join(' AND ')})`,
      eventType: type as EventObjectType,
    };
  }
  const relation = object.physicalName ?? object.name;
  if (!QUERYABLE_RELATIONS.has(relation) || relation === 'events') {
    throw new RefineryError(
      'REFINERY_ERR_CONTRACT_SERVER',
      `Schema object "${object.name}" names the dataset "${relation}", which the workspace does not store (it has ${[...QUERYABLE_RELATIONS].join(', ')}). Test files with --server, or give the object a physicalType (track, identify, …) for events.`,
      { field: 'schema', object: object.name },
    );
  }
  return { relation, condition: null, eventType: null };
}

function storedRow(
  row: Record<string, unknown>,
  jsonColumns: ReadonlySet<string>,
  eventType: EventObjectType | null,
): SourceRow {
  const columns: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(row))
    columns[name] = jsonColumns.has(name) ? parseJsonText(value) : value;
  if (!eventType) {
    // Columns a dataset import did not claim are kept in `extra`; a contract may still declare them.
    const extra = asJsonObject(columns.extra);
    return { record: extra ? { ...extra, ...columns } : columns, columns };
  }
  return { record: eventPayload(columns, eventType), columns };
}

function eventPayload(columns: Record<string, unknown>, type: EventObjectType): Record<string, unknown> {
  if (type === 'identify' || type === 'group') {
    const traits = asJsonObject(columns.traits);
    const fallback = asJsonObject(asJsonObject(columns.context)?.traits);
    return traits && Object.keys(traits).length > 0 ? traits : (fallback ?? traits ?? {});
  }
  if (type === 'alias') {
    const message: Record<string, unknown> = {
      type: columns.type,
      messageId: columns.message_id,
      userId: columns.user_id,
      anonymousId: columns.anonymous_id,
      previousId: columns.previous_id,
      timestamp: columns.timestamp,
      context: columns.context,
      integrations: columns.integrations,
    };
    for (const key of Object.keys(message))
      if (message[key] === null || message[key] === undefined) delete message[key];
    return message;
  }
  return asJsonObject(columns.properties) ?? {};
}

// ---------------------------------------------------------------------------------------------------------
// Shared helpers

function substitutePlaceholders(query: string, rows: string, property: string | null): string {
  let sql = query.replace(/\$?\{(?:object|model|table)\}/g, rows);
  if (property !== null) sql = sql.replace(/\$?\{(?:property|field|column)\}/g, quoteIdentifier(property));
  return sql;
}

/** A query's single answer as a plain value: counts and sums that arrive as text become numbers. */
function plainScalar(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' && NUMBER_TEXT.test(value.trim())) return Number(value);
  return value;
}

function parseJsonText(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const text = value.trim();
  if (!(text.startsWith('{') || text.startsWith('['))) return value;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return value;
  }
}

function filterError(filter: string, cause: unknown): RefineryError {
  return new RefineryError(
    'REFINERY_ERR_CONTRACT_FILTER',
    `The row filter ${JSON.stringify(filter)} is not a valid condition over the data: ${firstLine(cause)}`,
    { field: 'filter' },
    { cause },
  );
}

function readError(origin: string, filter: string | undefined, cause: unknown): RefineryError {
  return new RefineryError(
    'REFINERY_ERR_CONTRACT_SERVER',
    `Reading ${origin}${filter ? ` with the row filter ${JSON.stringify(filter)}` : ''} failed: ${firstLine(cause)}`,
    { field: 'servers' },
    { cause },
  );
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}

function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function quoteLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

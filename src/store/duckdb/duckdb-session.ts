import type { DuckDBConnection, DuckDBResultReader, DuckDBValue } from '@duckdb/node-api';
import { toStoreError } from './duckdb-errors.js';
import { toPlainValue } from './duckdb-values.js';

export type SqlParam = string | number | boolean | null | bigint;

/**
 * One DuckDB connection whose statements run one at a time, in the order they were asked for.
 * DuckDB connections are not meant for interleaved statements, and transactions belong to a connection,
 * so every part of the store that needs isolation gets its own session.
 */
export class DuckDbSession {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(readonly connection: DuckDBConnection) {}

  /** Runs `work` after every earlier piece of work on this session has finished. */
  exclusive<T>(work: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    const next = this.tail.then(
      () => work(this.connection),
      () => work(this.connection),
    );
    this.tail = next.catch(() => undefined);
    return next;
  }

  async run(sql: string, params: readonly SqlParam[] = []): Promise<number> {
    return this.exclusive((c) => runOn(c, sql, params));
  }

  async all<T = Record<string, unknown>>(sql: string, params: readonly SqlParam[] = []): Promise<T[]> {
    return this.exclusive(async (c) => rowsOf<T>(await readOn(c, sql, params)));
  }

  close(): void {
    this.connection.closeSync();
  }
}

export async function runOn(
  c: DuckDBConnection,
  sql: string,
  params: readonly SqlParam[] = [],
): Promise<number> {
  try {
    const result = await c.run(sql, params.length ? (params as DuckDBValue[]) : undefined);
    return Number(result.rowsChanged);
  } catch (error) {
    throw toStoreError(error, sql);
  }
}

export async function readOn(
  c: DuckDBConnection,
  sql: string,
  params: readonly SqlParam[] = [],
): Promise<DuckDBResultReader> {
  try {
    return await c.runAndReadAll(sql, params.length ? (params as DuckDBValue[]) : undefined);
  } catch (error) {
    throw toStoreError(error, sql);
  }
}

export function rowsOf<T>(result: DuckDBResultReader): T[] {
  const names = result.columnNames();
  const types = result.columnTypes().map((t) => t.typeId);
  const rows = result.getRowsJson();
  return rows.map((row) => {
    const object: Record<string, unknown> = {};
    for (let i = 0; i < names.length; i++) object[names[i]!] = toPlainValue(row[i] ?? null, types[i]!);
    return object as T;
  });
}

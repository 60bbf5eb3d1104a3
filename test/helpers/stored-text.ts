import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { TestWorkspace } from './test-workspace.js';

/** Every file under a folder, recursively. */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/**
 * The text of every file under a folder, concatenated (binary files included, read as latin1: an ASCII value is
 * found in it exactly where it would be in the UTF-8 text, since no UTF-8 sequence holds an ASCII byte).
 */
export function textUnder(dir: string): string {
  return filesUnder(dir)
    .map((file) => readFileSync(file).toString('latin1'))
    .join('\n');
}

/**
 * Every row of every table the workspace's store holds, as text: on DuckDB the server is stopped so the file can
 * be read, on ClickHouse the database is read over HTTP (every table, every row version, no FINAL).
 */
export async function storedTableText(ws: TestWorkspace): Promise<string> {
  return ws.server.store.engine === 'duckdb'
    ? duckDbTables(ws)
    : clickHouseTables(ws.server.config.store.url);
}

async function duckDbTables(ws: TestWorkspace): Promise<string> {
  await ws.server.close();
  return duckDbFileText(ws.server.paths.databaseFile);
}

/** Every row of every table of a DuckDB file no process has open, as text. */
export async function duckDbFileText(file: string, options?: Record<string, string>): Promise<string> {
  const instance = await DuckDBInstance.create(file, options);
  const connection = await instance.connect();
  try {
    const tables = await connection.runAndReadAll(
      "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'",
    );
    let everything = '';
    for (const [name] of tables.getRows()) {
      const rows = await connection.runAndReadAll(`SELECT * FROM "${String(name)}"`);
      everything += JSON.stringify(rows.getRowObjectsJson());
    }
    return everything;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

async function clickHouseTables(storeUrl: string): Promise<string> {
  const url = new URL(storeUrl.replace(/^clickhouse:/, 'http:'));
  const database = url.pathname.replace(/^\//, '');
  const query = async (sql: string) => {
    const response = await fetch(`http://${url.host}/?query=${encodeURIComponent(sql)}`);
    if (response.status !== 200) throw new Error(`${sql}: ${await response.text()}`);
    return response.text();
  };
  const tables = (
    await query(
      `SELECT name FROM system.tables WHERE database = '${database}' AND engine NOT LIKE '%View%' FORMAT TSV`,
    )
  )
    .split('\n')
    .filter(Boolean);
  let everything = '';
  for (const table of tables)
    everything += await query(`SELECT * FROM ${database}.${table} FORMAT JSONEachRow`);
  return everything;
}

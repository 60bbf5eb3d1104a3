import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { TestWorkspace } from '../helpers/test-workspace.js';

/** Every file under a folder, as text, joined: what the write-ahead log holds before a load. */
export function filesText(dir: string): string {
  const files = (folder: string): string[] =>
    readdirSync(folder).flatMap((name) => {
      const path = join(folder, name);
      return statSync(path).isDirectory() ? files(path) : [path];
    });
  return files(dir)
    .map((file) => readFileSync(file, 'utf8'))
    .join('\n');
}

/**
 * Every row of every table of the workspace's store, as text. On DuckDB the server is stopped first (the file
 * admits one process); on ClickHouse the tables are read over its HTTP interface.
 */
export async function everyStoredRow(ws: TestWorkspace): Promise<string> {
  if (ws.server.store.engine === 'clickhouse') return clickHouseTables(ws.server.config.store.url);
  await ws.server.close();
  const instance = await DuckDBInstance.create(ws.server.paths.databaseFile);
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
    if (response.status !== 200) throw new Error(`ClickHouse answered ${response.status} to ${sql}`);
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

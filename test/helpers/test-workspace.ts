import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApiKey } from '../../src/access/api-keys.js';
import { type RunningServer, startServer } from '../../src/runtime/server-runtime.js';
import { initWorkspace } from '../../src/workspace/init-workspace.js';
import { startClickHouse } from './clickhouse-server.js';

export interface TestWorkspace {
  readonly dir: string;
  readonly server: RunningServer;
  readonly writeKey: string;
  readonly adminKey: string;
  /** Loads everything the WAL holds into the store. */
  drain(): Promise<void>;
  /**
   * Stops the server (it loads what its log holds, as a Ctrl+C would) and starts a new one on the same folder and
   * store; `server` then names the new one. Rejects when the new server cannot start.
   */
  restart(): Promise<void>;
  /** Runs a read-only query through the store and returns its rows. */
  rows<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  close(): Promise<void>;
}

/** A fresh workspace in a temp folder with a real server on a free loopback port and two keys. */
export async function startTestWorkspace(
  options: {
    yamlExtra?: string;
    contracts?: Record<string, string>;
    /** The store engine; default DuckDB, or what REFINERY_TEST_STORE names. */
    engine?: 'duckdb' | 'clickhouse';
  } = {},
): Promise<TestWorkspace> {
  const dir = mkdtempSync(join(tmpdir(), 'refinery-test-'));
  initWorkspace(dir, { name: 'test' });
  for (const [name, text] of Object.entries(options.contracts ?? {})) {
    mkdirSync(join(dir, 'contracts'), { recursive: true });
    writeFileSync(join(dir, 'contracts', name), text);
  }
  if (options.yamlExtra) {
    writeFileSync(join(dir, 'refinery.yaml'), `name: test\n${options.yamlExtra}\n`);
  }
  // REFINERY_TEST_STORE=clickhouse runs the same integration tests on a ClickHouse of their own.
  const engine =
    options.engine ?? (process.env.REFINERY_TEST_STORE === 'clickhouse' ? 'clickhouse' : 'duckdb');
  const clickhouse = engine === 'clickhouse' ? await startClickHouse() : undefined;
  // User SQL runs as the server's read-only user, as a production set-up should (store.url's queryUser).
  const storeUrl = clickhouse
    ? `clickhouse://127.0.0.1:${clickhouse.httpPort}/test?queryUser=${clickhouse.readerUser}&queryPassword=${encodeURIComponent(clickhouse.readerPassword)}`
    : undefined;
  const start = () =>
    startServer({
      dir,
      storeUrl,
      port: 0,
      host: '127.0.0.1',
      onLoaderError: () => undefined,
    });
  let server = await start();
  const writeKey = (
    await createApiKey(server.store, { kind: 'write', source: server.config.sources[0]!.name })
  ).key;
  const adminKey = (await createApiKey(server.store, { kind: 'admin' })).key;
  return {
    dir,
    get server() {
      return server;
    },
    writeKey,
    adminKey,
    drain: () => server.loader.drain(),
    async restart() {
      await server.close();
      server = await start();
    },
    async rows<T>(sql: string) {
      return (await server.store.readOnlyQuery(sql, { timeoutMs: 30_000, maxRows: 1_000_000 })).rows as T[];
    },
    async close() {
      await server.close();
      await clickhouse?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function basicAuth(key: string): string {
  return `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
}

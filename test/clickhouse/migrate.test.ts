import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/access/api-keys.js';
import { loadWorkspaceConfig } from '../../src/config/workspace-config.js';
import { runImport } from '../../src/imports/run-import.js';
import { type MigrateReport, migrateWorkspace } from '../../src/migrate/migrate-workspace.js';
import { switchStoreUrl } from '../../src/migrate/switch-store.js';
import { type RunningServer, startServer } from '../../src/runtime/server-runtime.js';
import { ClickHouseStore } from '../../src/store/clickhouse/clickhouse-store.js';
import { isBuilt, runCli } from '../helpers/cli-process.js';
import { type ClickHouseProcess, hasClickHouse, startClickHouse } from '../helpers/clickhouse-server.js';
import { basicAuth, startTestWorkspace, type TestWorkspace } from '../helpers/test-workspace.js';

const QUERY = { timeoutMs: 10_000, maxRows: 10_000 };

/** Answers that must be the same on DuckDB before and on ClickHouse after (no sub-second timestamps). */
const COMPARED = [
  'SELECT event, type, count(*) AS n, count(DISTINCT user_id) AS users FROM events GROUP BY event, type ORDER BY event, type',
  'SELECT message_id, type, event, user_id, properties, source FROM events ORDER BY message_id',
  'SELECT reason_code, field, count(*) AS n FROM rejected_events GROUP BY reason_code, field ORDER BY reason_code, field',
  'SELECT * FROM order_summary ORDER BY order_id',
  'SELECT order_id, line_number, product_id, quantity, amount, extra, import_id FROM orders ORDER BY order_id, line_number',
  'SELECT customer_id, email, name, created_at, import_id FROM customers ORDER BY customer_id',
  'SELECT * FROM import_rejects ORDER BY import_id, line',
  'SELECT import_id, file, target, rows_read, imported, rejected, skipped, replaced, mapping FROM imports ORDER BY import_id',
];

const ORDERS = `order_id,line_number,ordered_at,customer_id,product_id,quantity,unit_price,coupon
o1,1,2026-01-05 10:00:00,c1,p1,2,9.5,WINTER
o1,2,2026-01-05 10:00:00,c1,p2,1,120.25,
o2,1,2026-01-06 11:00:00,c2,p1,1,9.5,
o3,1,not a date,c3,p1,1,9.5,
`;
const CUSTOMERS = `customer_id,email,first_name,last_name,created_at
c1,ann@example.com,Ann,Lee,2025-12-01
c2,bob@example.com,Bob,,2025-12-02 08:30:00
`;

describe.skipIf(!hasClickHouse)(
  'refinery migrate: a DuckDB workspace into ClickHouse (needs clickhouse-server)',
  () => {
    let clickHouse: ClickHouseProcess;
    let workspace: TestWorkspace;
    let dir: string;
    let url: string;
    let writeKey: string;
    let revokedKey: string;
    const before = new Map<string, unknown[]>();
    const closers: (() => Promise<void>)[] = [];

    beforeAll(async () => {
      clickHouse = await startClickHouse();
      url = `clickhouse://127.0.0.1:${clickHouse.httpPort}/migrated`;
      workspace = await startTestWorkspace();
      dir = workspace.dir;
      writeKey = workspace.writeKey;
      const server = workspace.server;
      revokedKey = (await createApiKey(server.store, { kind: 'write', source: 'web', name: 'old' })).key;
      const old = (await server.store.keys.list()).find((key) => key.name === 'old')!;
      await server.store.keys.revoke(old.id, new Date());

      for (let request = 0; request < 3; request++) {
        const response = await fetch(`${server.url}/v1/batch`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: basicAuth(writeKey) },
          body: JSON.stringify({
            batch: [
              ...Array.from({ length: 40 }, (_, i) => ({
                type: i % 5 === 0 ? 'identify' : 'track',
                ...(i % 5 === 0 ? { traits: { plan: 'pro' } } : { event: i % 2 ? 'Viewed' : 'Bought' }),
                userId: `u${i % 7}`,
                messageId: `m-${request}-${i}`,
                properties: { i, request },
              })),
              { type: 'track', userId: 'u1', messageId: `bad-${request}` },
            ],
          }),
        });
        expect(response.status).toBe(200);
      }
      await workspace.drain();
      for (const [target, name, text] of [
        ['orders', 'orders.csv', ORDERS],
        ['customers', 'customers.csv', CUSTOMERS],
      ] as const) {
        // The server's DuckDB may read files inside data/ only; uploads go here.
        mkdirSync(server.paths.uploads, { recursive: true });
        const file = join(server.paths.uploads, name);
        writeFileSync(file, text);
        await runImport(server.store, { file, target });
      }
      for (const sql of COMPARED) before.set(sql, (await server.store.readOnlyQuery(sql, QUERY)).rows);
    }, 60_000);

    afterAll(async () => {
      for (const close of closers.reverse()) await close().catch(() => undefined);
      await workspace?.server.close().catch(() => undefined);
      await clickHouse?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('refuses while a server runs on the workspace', async () => {
      await expect(migrateWorkspace({ dir, url })).rejects.toMatchObject({
        code: 'REFINERY_ERR_SERVER_RUNNING',
        message: expect.stringMatching(/Stop the server first/),
      });
    });

    it('copies everything, passes the count check, and a second run (the CLI) doubles nothing', async () => {
      await workspace.server.close();
      const progress: number[] = [];
      const first = await migrateWorkspace({
        dir,
        url,
        chunkRows: 50,
        onProgress: (p) => progress.push(p.fraction),
      });
      expect(first.ok).toBe(true);
      expect(progress.at(-1)).toBe(1);
      expect(first.copied).toMatchObject({ event_log: 120, reject_log: 3, api_keys: 3, loader_state: 1 });
      const counts = Object.fromEntries(first.checks.map((check) => [check.relation, check.target]));
      expect(counts).toMatchObject({
        events: 120,
        rejected_events: 3,
        orders: 3,
        customers: 2,
        imports: 2,
        import_rejects: 1,
        'api keys': 3,
        'loader positions': 1,
      });

      let second: MigrateReport;
      if (isBuilt) {
        const cli = await runCli([
          'migrate',
          '--dir',
          dir,
          '--to',
          'clickhouse',
          '--url',
          url,
          '--json',
          '--switch',
        ]);
        expect(cli.code, cli.stderr).toBe(0);
        second = JSON.parse(cli.stdout) as MigrateReport;
        // --switch rewrote only store.url, keeping the comments around it.
        const yaml = readFileSync(join(dir, 'refinery.yaml'), 'utf8');
        expect(yaml).toContain(`url: ${url}`);
        expect(yaml).toContain('# DuckDB file inside the workspace');
        expect(yaml).toContain('memoryLimit: 512MB');
        expect(loadWorkspaceConfig(dir).store.url).toBe(url);
      } else {
        second = await migrateWorkspace({ dir, url });
      }
      expect(second.ok).toBe(true);
      expect(second.checks).toEqual(first.checks);

      const store = await ClickHouseStore.open({ url });
      closers.push(() => store.close());
      for (const sql of COMPARED) {
        expect((await store.readOnlyQuery(sql, QUERY)).rows, sql).toEqual(before.get(sql));
      }
      expect(await store.events.count()).toBe(120);
    });

    it('serves the migrated workspace from ClickHouse: old keys work, the WAL is not loaded again', async () => {
      const server: RunningServer = await startServer({
        dir,
        storeUrl: url,
        port: 0,
        host: '127.0.0.1',
        onLoaderError: () => undefined,
      });
      closers.push(() => server.close());
      const send = (key: string) =>
        fetch(`${server.url}/v1/track`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: basicAuth(key) },
          body: JSON.stringify({ event: 'After', userId: 'u1', messageId: 'after-1' }),
        });
      expect((await send(writeKey)).status).toBe(200);
      expect((await send(revokedKey)).status).toBe(401);
      await server.loader.drain();
      expect(server.store.engine).toBe('clickhouse');
      expect(await server.store.events.count()).toBe(121);
      expect(await server.store.events.countRejected()).toBe(3);
    });

    it('refuses a workspace already on ClickHouse, and reports counts that differ', async () => {
      await closers.pop()?.();
      if (isBuilt) {
        await expect(migrateWorkspace({ dir, url })).rejects.toMatchObject({
          code: 'REFINERY_ERR_NOT_SUPPORTED',
        });
        switchStoreUrl(dir, 'duckdb:data/refinery.duckdb');
      }
      // ClickHouse now holds an event DuckDB never saw: the copy works, the count check says so.
      const report = await migrateWorkspace({ dir, url });
      expect(report.ok).toBe(false);
      expect(report.checks.filter((check) => !check.ok)).toEqual([
        { relation: 'events', source: 120, target: 121, ok: false },
      ]);
    });

    it('refuses a URL that is not ClickHouse', async () => {
      await expect(migrateWorkspace({ dir, url: 'postgres://127.0.0.1/shop' })).rejects.toMatchObject({
        code: 'REFINERY_ERR_CONFIG_INVALID',
      });
    });
  },
);

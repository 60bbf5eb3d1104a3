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
import type { PrivacyRequestRow } from '../../src/store/privacy-types.js';
import type { DamagedLineInput, DamagedLineRow } from '../../src/store/store.js';
import type { WalRecord } from '../../src/store/wal-format.js';
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

const ORDERS = `order_id,line_number,ordered_at,customer_id,email,product_id,quantity,unit_price,coupon
o1,1,2026-01-05 10:00:00,c1,ann@example.com,p1,2,9.5,WINTER
o1,2,2026-01-05 10:00:00,c1,ann@example.com,p2,1,120.25,
o2,1,2026-01-06 11:00:00,c2,,p1,1,9.5,
o3,1,not a date,c3,,p1,1,9.5,
o4,1,2026-01-07 09:00:00,,guest@example.com,p2,1,120.25,
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
    let damagedBefore: DamagedLineRow[];
    let requestsBefore: PrivacyRequestRow[];
    const closers: (() => Promise<void>)[] = [];

    beforeAll(async () => {
      clickHouse = await startClickHouse();
      url = `clickhouse://127.0.0.1:${clickHouse.httpPort}/migrated`;
      // A DuckDB workspace whatever REFINERY_TEST_STORE says: migrate copies DuckDB into ClickHouse.
      workspace = await startTestWorkspace({ engine: 'duckdb' });
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
        // Sealed as the server seals them, with each email's keyed hash beside.
        await runImport(server.store, { file, target, privacy: server.privacy });
      }
      // A collector the workspace had before set two lines of a segment aside, and someone discarded one.
      const loadOld = (sequence: number, records: readonly WalRecord[], damaged: DamagedLineInput[] = []) => {
        const file = join(server.paths.uploads, `old-${sequence}.ndjson`);
        writeFileSync(file, records.map((record) => `${JSON.stringify(record)}\n`).join(''));
        return server.store.events.loadBatch({
          stream: 'old',
          sequence,
          file,
          dedupeWindowHours: 24,
          damaged,
        });
      };
      await loadOld(
        1,
        [],
        [
          { lineNo: 4, damage: 'not_json', reason: 'torn line', raw: Buffer.from('{"k":"q","rid":') },
          { lineNo: 9, damage: 'invalid_utf8', reason: 'not UTF-8', raw: Buffer.from([0x7b, 0xff, 0x7d]) },
        ],
      );
      await loadOld(2, [
        { k: 'd', ids: ['old.1.4'], status: 'discarded', at: '2026-03-02T11:00:00.000Z', by: 'ops' },
      ]);
      damagedBefore = await server.store.events.listDamagedLines({}, { limit: 10, withRaw: true });
      const request = await server.app.inject({
        method: 'POST',
        url: '/v1/privacy/requests',
        headers: { authorization: `Bearer ${workspace.adminKey}`, 'content-type': 'application/json' },
        payload: JSON.stringify({ kind: 'access', userId: 'u3', run: false }),
      });
      expect(request.statusCode, request.body).toBe(201);
      requestsBefore = await server.store.privacy.list({ limit: 10 });
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
      expect(first.copied).toMatchObject({
        event_log: 120,
        reject_log: 3,
        api_keys: 3,
        loader_state: 2,
        wal_damaged_lines: 2,
        privacy_requests: 1,
      });
      const counts = Object.fromEntries(first.checks.map((check) => [check.relation, check.target]));
      expect(counts).toMatchObject({
        events: 120,
        rejected_events: 3,
        orders: 4,
        customers: 2,
        imports: 2,
        import_rejects: 1,
        'api keys': 3,
        'loader positions': 2,
        'set-aside log lines': 2,
        'privacy requests': 1,
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
      // Set-aside lines keep their bytes and decisions; requests their subject hashes, dates and status.
      const sameLine = ({ foundAt: _found, statusAt, ...line }: DamagedLineRow) => ({
        ...line,
        decided: statusAt !== null,
      });
      const damaged = await store.events.listDamagedLines({}, { limit: 10, withRaw: true });
      expect(damaged.map(sameLine)).toEqual(damagedBefore.map(sameLine));
      expect(damaged.find((line) => line.id === 'old.1.4')?.status).toBe('discarded');
      expect(await store.privacy.list({ limit: 10 })).toEqual(requestsBefore);
      // Imported emails keep their keyed hash beside the sealed value: an erasure by email still finds them.
      const privacy = workspace.server.privacy;
      const hashes = await store.connection.json(
        `SELECT customer_id, email_hash FROM customer_data FINAL ORDER BY customer_id`,
      );
      expect(hashes.data).toEqual([
        { customer_id: 'c1', email_hash: privacy.identifiers.email('ann@example.com') },
        { customer_id: 'c2', email_hash: privacy.identifiers.email('bob@example.com') },
      ]);
      const guest = await store.connection.json(
        `SELECT email_hash FROM order_line_data FINAL WHERE order_id = 'o4'`,
      );
      expect(guest.data).toEqual([{ email_hash: privacy.identifiers.email('guest@example.com') }]);
      expect(JSON.stringify(await store.readOnlyQuery('SELECT * FROM customers', QUERY))).not.toContain(
        'ann@example.com',
      );
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

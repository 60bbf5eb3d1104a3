import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initWorkspace } from '../../src/workspace/init-workspace.js';
import { freePort, isBuilt, runCli, startServeProcess, waitForExit } from '../helpers/cli-process.js';

const temp = mkdtempSync(join(tmpdir(), 'refinery-cli-test-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** Runs the CLI with no REFINERY_DIR inherited from the environment running the tests. */
function cli(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}) {
  return runCli(args, { cwd: options.cwd ?? temp, env: { REFINERY_DIR: '', ...options.env } });
}

function workspace(name: string): string {
  const dir = join(temp, name);
  initWorkspace(dir, { name });
  return dir;
}

/** Three orders; the second has a quantity that is not a number, on line 3 of the file (the header is line 1). */
const ORDERS_CSV = [
  'order_id,ordered_at,customer_id,product_id,quantity,unit_price',
  'A1,2025-01-02T10:00:00Z,c1,p1,2,3.50',
  'A2,2025-01-03T10:00:00Z,c2,p2,lots,1.00',
  'A3,2025-01-04T10:00:00Z,c1,p3,1,4.00',
  '',
].join('\n');

function ordersFile(): string {
  const file = join(temp, 'orders.csv');
  if (!existsSync(file)) writeFileSync(file, ORDERS_CSV);
  return file;
}

interface KeyJson {
  id: string;
  key?: string;
  hash?: string;
  kind: string;
  source: string | null;
  revokedAt: string | null;
}

describe.skipIf(!isBuilt)('The refinery CLI in a child process (needs `npm run build`)', () => {
  it('lists its commands in --help', async () => {
    const result = await cli(['--help']);
    expect(result.code).toBe(0);
    for (const command of ['init', 'serve', 'keys', 'query', 'import', 'demo']) {
      expect(result.stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
    }
  });

  it('creates refinery.yaml and data/ with init, and refuses to init the same folder again', async () => {
    const dir = join(temp, 'fresh');
    const first = await cli(['init', dir, '--json']);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({ root: dir, configFile: join(dir, 'refinery.yaml') });
    expect(existsSync(join(dir, 'refinery.yaml'))).toBe(true);
    expect(existsSync(join(dir, 'data'))).toBe(true);

    const again = await cli(['init', dir]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain(`${join(dir, 'refinery.yaml')} already exists`);
    expect(again.stderr).toContain('REFINERY_ERR_WORKSPACE_EXISTS');
  });

  it('creates, lists and revokes keys, never listing the key or its hash', async () => {
    const dir = workspace('keys');
    const created = await cli([
      'keys',
      'create',
      '--kind',
      'write',
      '--source',
      'backend',
      '--json',
      '--dir',
      dir,
    ]);
    expect(created.code).toBe(0);
    const key = JSON.parse(created.stdout) as KeyJson;
    expect(key).toMatchObject({ kind: 'write', source: 'backend', revokedAt: null });
    expect(key.key).toMatch(/^rk_write_/);

    const listed = await cli(['keys', 'list', '--json', '--dir', dir]);
    expect(listed.code).toBe(0);
    const keys = JSON.parse(listed.stdout) as KeyJson[];
    expect(keys.map((k) => k.id)).toEqual([key.id]);
    expect(keys[0]).not.toHaveProperty('key');
    expect(keys[0]).not.toHaveProperty('hash');
    expect(listed.stdout).not.toContain(key.key!);

    const revoked = await cli(['keys', 'revoke', key.id, '--json', '--dir', dir]);
    expect(revoked.code).toBe(0);
    expect(JSON.parse(revoked.stdout)).toEqual({ id: key.id, revoked: true });
    const after = JSON.parse((await cli(['keys', 'list', '--json', '--dir', dir])).stdout) as KeyJson[];
    expect(after[0]!.revokedAt).not.toBeNull();

    const unknown = await cli(['keys', 'revoke', 'no-such-key', '--dir', dir]);
    expect(unknown.code).toBe(1);
  });

  it('answers a read-only query as JSON and refuses one that writes, with its error code', async () => {
    const dir = workspace('query');
    const counted = await cli(['query', 'SELECT count(*) AS n FROM events', '--json', '--dir', dir]);
    expect(counted.code).toBe(0);
    expect(JSON.parse(counted.stdout)).toMatchObject({ rows: [{ n: 0 }], truncated: false });

    const dropped = await cli(['query', 'DROP TABLE events', '--dir', dir]);
    expect(dropped.code).toBe(1);
    expect(dropped.stderr).toContain('REFINERY_ERR_QUERY_NOT_READ_ONLY');
    const still = await cli(['query', 'SELECT count(*) AS n FROM events', '--json', '--dir', dir]);
    expect(still.code).toBe(0);
  });

  it('reports stored and rejected event counts with stats, saying no server runs', async () => {
    const dir = workspace('stats');
    const result = await cli(['stats', '--json', '--dir', dir]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ events: { total: 0, rejected: 0 }, server: null });
  });

  it('imports a CSV, names the line of the bad row and exits 3', async () => {
    const dir = workspace('import');
    const result = await cli(['import', ordersFile(), '--as', 'orders', '--dir', dir]);
    expect(result.stdout).toContain('Imported 2 of 3 rows into orders; 1 rejected');
    expect(result.stdout).toMatch(/^3\s+quantity\s+quantity: "lots" is not a number/m);
    expect(result.code).toBe(3);

    const json = await cli(['import', ordersFile(), '--as', 'orders', '--json', '--dir', dir]);
    expect(json.code).toBe(3);
    const report = JSON.parse(json.stdout) as {
      imported: number;
      rejected: number;
      sampleRejects: { line: number; field: string }[];
    };
    expect(report).toMatchObject({ imported: 2, rejected: 1 });
    expect(report.sampleRejects).toEqual([expect.objectContaining({ line: 3, field: 'quantity' })]);
  });

  it('selects the workspace with --dir, else REFINERY_DIR, else the current folder', async () => {
    const withOrders = workspace('selected');
    const empty = workspace('other');
    expect((await cli(['import', ordersFile(), '--as', 'orders', '--dir', withOrders])).code).toBe(3);
    const count = async (args: string[], options: { cwd?: string; env?: Record<string, string> } = {}) => {
      const result = await cli(['query', 'SELECT count(*) AS n FROM orders', '--json', ...args], options);
      expect(result.stderr).toBe('');
      return (JSON.parse(result.stdout) as { rows: { n: number }[] }).rows[0]!.n;
    };
    expect(await count(['--dir', withOrders])).toBe(2);
    expect(await count([], { env: { REFINERY_DIR: withOrders } })).toBe(2);
    expect(await count(['--dir', empty], { env: { REFINERY_DIR: withOrders } })).toBe(0);
    expect(await count([], { cwd: withOrders })).toBe(2);

    const nowhere = join(temp, 'nowhere');
    mkdirSync(nowhere);
    const missing = await cli(['query', 'SELECT 1'], { cwd: nowhere });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('REFINERY_ERR_WORKSPACE_NOT_FOUND');
  });

  it('points at the file and line of an invalid refinery.yaml', async () => {
    const dir = join(temp, 'invalid');
    mkdirSync(dir);
    writeFileSync(join(dir, 'refinery.yaml'), 'name: broken\nserver:\n  port: nope\n');
    const wrongType = await cli(['query', 'SELECT 1', '--dir', dir]);
    expect(wrongType.code).toBe(1);
    expect(wrongType.stderr).toContain(`${join(dir, 'refinery.yaml')}:3`);
    expect(wrongType.stderr).toContain('server.port');
    expect(wrongType.stderr).toContain('REFINERY_ERR_CONFIG_INVALID');

    writeFileSync(join(dir, 'refinery.yaml'), 'name: broken\nsources:\n  - name: web\n   type: [browser\n');
    const badYaml = await cli(['keys', 'list', '--dir', dir]);
    expect(badYaml.code).toBe(1);
    expect(badYaml.stderr).toMatch(
      new RegExp(`${join(dir, 'refinery.yaml').replace(/[.\\/]/g, '\\$&')}:\\d+`),
    );
    expect(badYaml.stderr).toContain('REFINERY_ERR_CONFIG_INVALID');
  });

  describe('while `refinery serve` runs on the workspace', () => {
    let dir: string;
    let url: string;
    let server: ChildProcess;

    beforeAll(async () => {
      dir = workspace('served');
      const port = await freePort();
      url = `http://127.0.0.1:${port}`;
      server = await startServeProcess(dir, port);
    });
    afterAll(async () => {
      if (server.exitCode === null) {
        server.kill('SIGTERM');
        await waitForExit(server);
      }
    });

    it('refuses a second server on the same port with a clear error, leaving its workspace unlocked', async () => {
      const other = workspace('second-server');
      const port = new URL(url).port;
      const second = await cli(['serve', '--port', port, '--host', '127.0.0.1', '--dir', other]);
      expect(second.code).toBe(1);
      expect(second.stderr).toContain('REFINERY_ERR_PORT_IN_USE');
      const after = await cli(['query', 'SELECT count(*) AS n FROM events', '--json', '--dir', other]);
      expect(after.code).toBe(0);
    });

    async function createKey(args: string[]): Promise<KeyJson> {
      const result = await cli(['keys', 'create', ...args, '--json', '--dir', dir]);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      return JSON.parse(result.stdout) as KeyJson;
    }

    async function serverQuery(adminKey: string, sql: string) {
      const response = await fetch(`${url}/v1/query`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ sql }),
      });
      expect(response.status).toBe(200);
      return ((await response.json()) as { rows: Record<string, unknown>[] }).rows;
    }

    it('creates keys through the server, which accepts them at once', async () => {
      const admin = await createKey(['--kind', 'admin']);
      const write = await createKey(['--kind', 'write', '--source', 'web']);
      const keys = await fetch(`${url}/v1/keys`, { headers: { authorization: `Bearer ${admin.key}` } });
      expect(keys.status).toBe(200);
      const sent = await fetch(`${url}/v1/batch`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${write.key}:`).toString('base64')}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({
          batch: [{ type: 'track', event: 'CLI Test', userId: 'u1', messageId: 'cli-live-1' }],
        }),
      });
      expect(await sent.json()).toMatchObject({ accepted: 1 });

      const listed = await cli(['keys', 'list', '--json', '--dir', dir]);
      const list = JSON.parse(listed.stdout) as KeyJson[];
      expect(list.map((k) => k.id).sort()).toEqual([admin.id, write.id].sort());
      expect(list.every((k) => !('hash' in k) && !('key' in k))).toBe(true);
    });

    it('queries through the server and sees what it collected', async () => {
      const sql = "SELECT count(*) AS n FROM events WHERE message_id = 'cli-live-1'";
      let n = 0;
      for (let attempt = 0; attempt < 50 && n === 0; attempt++) {
        const result = await cli(['query', sql, '--json', '--dir', dir]);
        expect(result.code).toBe(0);
        n = (JSON.parse(result.stdout) as { rows: { n: number }[] }).rows[0]!.n;
        if (n === 0) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(n).toBe(1);

      const stats = JSON.parse((await cli(['stats', '--json', '--dir', dir])).stdout);
      expect(stats).toMatchObject({
        events: { total: 1 },
        ingest: { acceptedTotal: 1 },
        loader: { lagEvents: 0 },
      });
      expect(stats.server.url).toMatch(/^http:\/\/127\.0\.0\.1:/);

      const dropped = await cli(['query', 'DROP TABLE events', '--dir', dir]);
      expect(dropped.code).toBe(1);
      expect(dropped.stderr).toContain('REFINERY_ERR_QUERY_NOT_READ_ONLY');
    });

    it('imports through the server, whose API then shows the imported rows', async () => {
      const result = await cli(['import', ordersFile(), '--as', 'orders', '--dir', dir]);
      expect(result.stdout).toMatch(/^3\s+quantity\s+quantity: "lots" is not a number/m);
      expect(result.code).toBe(3);

      const admin = await createKey(['--kind', 'admin', '--name', 'checker']);
      const rows = await serverQuery(
        admin.key!,
        'SELECT order_id, total FROM order_summary ORDER BY order_id',
      );
      expect(rows).toEqual([
        { order_id: 'A1', total: 7 },
        { order_id: 'A3', total: 4 },
      ]);
    });

    it('stops cleanly on SIGTERM and leaves the workspace to direct access', async () => {
      server.kill('SIGTERM');
      expect(await waitForExit(server)).toBe(0);
      expect(existsSync(join(dir, 'data', 'server.json'))).toBe(false);
      const result = await cli(['query', 'SELECT count(*) AS n FROM orders', '--json', '--dir', dir]);
      expect(JSON.parse(result.stdout)).toMatchObject({ rows: [{ n: 2 }] });
    });
  });
});

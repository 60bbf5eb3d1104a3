import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openWorkspaceAccess } from '../../src/cli/workspace-access.js';
import { generateBakery } from '../../src/demo/index.js';
import { DEMO_WORKSPACE_NAME, type DemoRunSummary, runDemo } from '../../src/demo/run-demo.js';
import { initWorkspace } from '../../src/workspace/init-workspace.js';
import { isBuilt, runCli } from '../helpers/cli-process.js';

const SIZE = { seed: 7, customers: 150, products: 40, days: 60, end: new Date('2025-06-01T00:00:00Z') };
const OPTIONS = { ...SIZE, port: 0, host: '127.0.0.1' };

const temp = mkdtempSync(join(tmpdir(), 'refinery-demo-test-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** Counts in a workspace whose server has stopped, read through the same access the CLI uses. */
async function storedCounts(dir: string) {
  const access = await openWorkspaceAccess(dir);
  try {
    const { rows } = await access.query(`SELECT
      (SELECT count(*) FROM events) AS events,
      (SELECT count(*) FROM rejected_events) AS rejected,
      (SELECT count(*) FROM customers) AS customers,
      (SELECT count(*) FROM products) AS products,
      (SELECT count(*) FROM order_summary) AS orders,
      (SELECT count(*) FROM orders) AS order_lines,
      (SELECT sum(total) FROM order_summary) AS revenue,
      (SELECT count(DISTINCT source) FROM events) AS sources`);
    return rows[0] as Record<string, number>;
  } finally {
    await access.close();
  }
}

describe('runDemo on a small bakery', () => {
  const dir = join(temp, 'bakery');
  const business = generateBakery(SIZE);
  let summary: DemoRunSummary;

  beforeAll(async () => {
    summary = (await runDemo({ ...OPTIONS, dir, serve: false })).summary;
  });

  it('stores every event the generator produced, with none rejected', async () => {
    const counts = await storedCounts(dir);
    expect(business.summary.events).toBeGreaterThan(1000);
    expect(counts.events).toBe(business.summary.events);
    expect(counts.rejected).toBe(0);
    expect(counts.sources).toBe(1);
    expect(summary.events).toMatchObject({
      sent: business.summary.events,
      accepted: business.summary.events,
      rejected: 0,
      stored: business.summary.events,
    });
  });

  it('imports the generator’s customers, products, orders and order lines', async () => {
    const counts = await storedCounts(dir);
    expect(counts).toMatchObject({
      customers: business.summary.customers,
      products: business.summary.products,
      orders: business.summary.orders,
      order_lines: business.summary.orderLines,
    });
    expect(summary.imports.orderLines).toMatchObject({ rowsRead: business.summary.orderLines, rejected: 0 });
    expect(existsSync(join(dir, 'imports', 'order_lines.csv'))).toBe(true);
  });

  it('has an order_summary revenue equal to the generator’s revenue', async () => {
    const counts = await storedCounts(dir);
    expect(counts.revenue).toBeCloseTo(business.summary.revenue, 1);
    expect(summary.stored.revenue).toBeCloseTo(business.summary.revenue, 1);
  });

  it('reports the dashboard with the admin key in the fragment and closes the server when not serving', () => {
    expect(summary.dashboardUrl).toBe(`${summary.url}/#key=${summary.keys.admin}`);
    expect(summary.docsUrl).toBe(`${summary.url}/docs`);
    expect(summary.keys.web).toMatch(/^rk_write_/);
    expect(summary.serving).toBe(false);
    expect(existsSync(join(dir, 'data', 'server.json'))).toBe(false);
  });

  it('resets its own workspace and gives the same counts and revenue for the same seed, while serving', async () => {
    const { summary: again, server } = await runDemo({ ...OPTIONS, dir, serve: true });
    try {
      expect(server).toBeDefined();
      expect(again.stored).toEqual(summary.stored);
      expect(again.events.stored).toBe(summary.events.stored);
      // The running server answers with the new admin key; the earlier run's keys were reset with its data.
      const query = (key: string) =>
        fetch(`${again.url}/v1/query`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ sql: 'SELECT count(*) AS n FROM events' }),
        });
      const answer = await query(again.keys.admin);
      expect(answer.status).toBe(200);
      expect(((await answer.json()) as { rows: { n: number }[] }).rows).toEqual([
        { n: business.summary.events },
      ]);
      expect((await query(summary.keys.admin)).status).toBe(401);
      // A demo that is being served is not reset under its server.
      await expect(runDemo({ ...OPTIONS, dir, serve: false })).rejects.toMatchObject({
        code: 'REFINERY_ERR_WORKSPACE_LOCKED',
      });
    } finally {
      await server?.close();
    }
  });
});

describe('runDemo and folders that are not demos', () => {
  it('refuses a workspace that is not a demo and leaves its data alone', async () => {
    const dir = join(temp, 'mine');
    initWorkspace(dir, { name: 'my shop' });
    writeFileSync(join(dir, 'data', 'precious.txt'), 'keep me');
    await expect(runDemo({ ...OPTIONS, dir, serve: false })).rejects.toMatchObject({
      code: 'REFINERY_ERR_WORKSPACE_EXISTS',
      message: expect.stringContaining('"my shop"'),
    });
    expect(readFileSync(join(dir, 'data', 'precious.txt'), 'utf8')).toBe('keep me');
    expect(readFileSync(join(dir, 'refinery.yaml'), 'utf8')).not.toContain(DEMO_WORKSPACE_NAME);
  });

  it('refuses a non-empty folder without a refinery.yaml', async () => {
    const dir = join(temp, 'documents');
    mkdirSync(dir);
    writeFileSync(join(dir, 'notes.txt'), 'hello');
    await expect(runDemo({ ...OPTIONS, dir, serve: false })).rejects.toMatchObject({
      code: 'REFINERY_ERR_WORKSPACE_EXISTS',
    });
    expect(existsSync(join(dir, 'refinery.yaml'))).toBe(false);
  });

  it('reports impossible sizes as a user error before creating anything', async () => {
    const dir = join(temp, 'empty');
    await expect(runDemo({ ...OPTIONS, products: 0, dir, serve: false })).rejects.toMatchObject({
      code: 'REFINERY_ERR_INVALID_FIELD',
    });
    expect(existsSync(dir)).toBe(false);
  });
});

describe.skipIf(!isBuilt)('refinery demo in a child process (needs `npm run build`)', () => {
  it('prints a JSON summary that matches the generator with --no-serve --json', async () => {
    const dir = join(temp, 'cli-demo');
    const result = await runCli([
      'demo',
      '--no-serve',
      '--json',
      '--customers',
      '100',
      '--products',
      '30',
      '--days',
      '30',
      '--end',
      '2025-06-01',
      '--port',
      '0',
      '--dir',
      dir,
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as DemoRunSummary;
    const business = generateBakery({
      seed: 42,
      customers: 100,
      products: 30,
      days: 30,
      end: new Date('2025-06-01T00:00:00Z'),
    });
    expect(summary.period).toEqual({ start: '2025-05-02', end: '2025-06-01' });
    expect(summary.generated).toEqual(business.summary);
    expect(summary.events.stored).toBe(business.summary.events);
    expect(summary.stored).toMatchObject({
      customers: 100,
      products: 30,
      orders: business.summary.orders,
      orderLines: business.summary.orderLines,
    });
    expect(summary.stored.revenue).toBeCloseTo(business.summary.revenue, 1);
    expect(summary.serving).toBe(false);
  });

  it('rejects a malformed --end with a usage error', async () => {
    const result = await runCli(['demo', '--no-serve', '--end', 'yesterday', '--dir', join(temp, 'bad-end')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--end');
  });
});

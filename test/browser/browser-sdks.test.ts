import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { revealValue } from '../../src/privacy/vault/personal-fields.js';
import { hasChromium, launchChromium } from '../helpers/browser.js';
import { startTestWorkspace, type TestWorkspace } from '../helpers/test-workspace.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const PAGES = { segment: 'segment-page.ts', rudderstack: 'rudderstack-page.ts' } as const;
type PageName = keyof typeof PAGES;

interface EventRow {
  type: string;
  event: string | null;
  name: string | null;
  user_id: string | null;
  anonymous_id: string | null;
  lib: string | null;
  email: string | null;
  context_email: string | null;
  price: string | null;
  browser: string | null;
  recent: boolean;
}

interface StoredRow {
  type: string;
  event: string | null;
  name: string | null;
  user_id: string | null;
  anonymous_id: string | null;
  context: string | null;
  traits: string | null;
  properties: string | null;
  browser: string | null;
  timestamp: string;
}

function toEventRow(row: StoredRow): EventRow {
  const context = row.context ? JSON.parse(row.context) : {};
  const traits = row.traits ? JSON.parse(row.traits) : {};
  const properties = row.properties ? JSON.parse(row.properties) : {};
  return {
    type: row.type,
    event: row.event,
    name: row.name,
    user_id: row.user_id,
    anonymous_id: row.anonymous_id,
    lib: context.library?.name ?? null,
    email: traits.email ?? null,
    context_email: context.traits?.email ?? null,
    price: properties.price === undefined ? null : String(properties.price),
    browser: row.browser,
    recent: Math.abs(Date.parse(row.timestamp) - Date.now()) < 600_000,
  };
}

/** Bundles the fixture pages (and the SDKs they import from node_modules) with Vite into `outDir`. */
async function buildPages(outDir: string): Promise<void> {
  await build({
    configFile: false,
    root: FIXTURES,
    logLevel: 'warn',
    mode: 'production',
    build: {
      outDir,
      emptyOutDir: true,
      copyPublicDir: false,
      minify: false,
      modulePreload: false,
      reportCompressedSize: false,
      target: 'es2022',
      rolldownOptions: {
        input: Object.fromEntries(Object.entries(PAGES).map(([name, file]) => [name, join(FIXTURES, file)])),
        output: { entryFileNames: '[name].js', chunkFileNames: 'chunks/[name]-[hash].js' },
      },
    },
  });
}

/** The "shop": a plain static server on its own port, so every SDK request to Refinery is cross-origin. */
function serveShop(dir: string): Promise<Server> {
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://shop').pathname;
    const page = /^\/(\w+)\.html$/.exec(path)?.[1];
    if (page && page in PAGES) {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(
        `<!doctype html><html><head><title>Shop</title><link rel="icon" href="data:,"></head><body><h1>Shop</h1><script type="module" src="/${page}.js"></script></body></html>`,
      );
      return;
    }
    const file = normalize(join(dir, path));
    if (!file.startsWith(dir) || extname(file) !== '.js') {
      response.writeHead(404).end();
      return;
    }
    try {
      const body = readFileSync(file);
      response.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

// The official browser SDKs, installed from npm and bundled unmodified, run in a real browser on a shop
// page of another origin and send to Refinery: settings fetch, CORS, paths, auth and body shapes all real.
describe.skipIf(!hasChromium)(
  'official browser SDKs (analytics.js, RudderStack JS) in headless Chromium (needs /usr/bin/chromium)',
  () => {
    let ws: TestWorkspace;
    let shop: Server;
    let shopUrl: string;
    let browser: Browser;
    let outDir: string;

    beforeAll(async () => {
      outDir = mkdtempSync(join(tmpdir(), 'refinery-sdk-pages-'));
      const [workspace, launched] = await Promise.all([
        startTestWorkspace(),
        launchChromium(),
        buildPages(outDir),
      ]);
      ws = workspace;
      browser = launched;
      shop = await serveShop(outDir);
      shopUrl = `http://127.0.0.1:${(shop.address() as AddressInfo).port}`;
    });

    afterAll(async () => {
      await browser?.close();
      await new Promise((resolve) => (shop ? shop.close(resolve) : resolve(undefined)));
      await ws?.close();
      if (outDir) rmSync(outDir, { recursive: true, force: true });
    });

    /** Opens a fixture page and records every request it makes and everything that goes wrong. */
    async function openShopPage(name: PageName, mode: string, user: string) {
      const context = await browser.newContext();
      const page: Page = await context.newPage();
      const requests: string[] = [];
      const problems: string[] = [];
      page.on('request', (request) => requests.push(`${request.method()} ${request.url()}`));
      page.on('requestfailed', (request) =>
        problems.push(`failed ${request.method()} ${request.url()}: ${request.failure()?.errorText}`),
      );
      page.on('response', (response) => {
        if (response.status() >= 400)
          problems.push(`${response.status()} ${response.request().method()} ${response.url()}`);
      });
      page.on('console', (message) => {
        if (message.type() === 'error' || message.type() === 'warning')
          problems.push(`console.${message.type()}: ${message.text()}`);
      });
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
      const query = new URLSearchParams({ refinery: ws.server.url, writeKey: ws.writeKey, mode, user });
      await page.goto(`${shopUrl}/${name}.html?${query}`);
      try {
        await page.waitForFunction(() => window.sdkResult !== undefined, undefined, { timeout: 10_000 });
      } catch (error) {
        throw new Error(
          `The ${name} page never finished.\nRequests:\n${requests.join('\n')}\nProblems:\n${problems.join('\n')}`,
          { cause: error },
        );
      }
      const result = await page.evaluate(() => window.sdkResult!);
      return { context, page, requests, problems, result };
    }

    /** Waits until Refinery has stored `count` events matching `where`, then returns them by type. */
    async function storedEvents(where: string, count: number, problems: string[]): Promise<EventRow[]> {
      // Plain columns only, read in JavaScript: the same SQL then runs on every store engine.
      const sql = `SELECT type, event, name, user_id, anonymous_id, context, traits, properties, browser, timestamp
        FROM events WHERE ${where} ORDER BY type`;
      let rows: EventRow[] = [];
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        await ws.drain();
        rows = (await ws.rows<StoredRow>(sql)).map(toEventRow);
        if (rows.length >= count) return rows;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      throw new Error(
        `Refinery stored ${rows.length} of ${count} events.\nWhat the page reported:\n${problems.join('\n')}`,
      );
    }

    const SDKS = {
      segment: {
        lib: 'analytics.js',
        traitsAt: 'email',
        configRequest: (url: string, key: string) => `GET ${url}/v1/projects/${key}/settings`,
      },
      rudderstack: {
        lib: 'RudderLabs JavaScript SDK',
        // RudderStack's SDK sends identify traits only as context.traits; Refinery stores them as traits too.
        traitsAt: 'email',
        configRequest: (url: string) => `GET ${url}/sourceConfig/?`,
      },
    } as const;

    // `delivery` is the request that carries the events; Playwright does not see requests sent while a
    // page unloads, so the keepalive case proves delivery by the events being stored only after leaving.
    const cases: { sdk: PageName; mode: string; title: string; delivery?: string; leavePage?: boolean }[] = [
      {
        sdk: 'segment',
        mode: 'standard',
        title: "Segment's analytics.js (@segment/analytics-next), one fetch per call",
        delivery: 'POST {refinery}/v1/t',
      },
      {
        sdk: 'segment',
        mode: 'batching',
        title: "Segment's analytics.js, batching, flushed by a keepalive fetch when the visitor leaves",
        leavePage: true,
      },
      {
        sdk: 'rudderstack',
        mode: 'xhr',
        title: "RudderStack's JavaScript SDK (@rudderstack/analytics-js), one XHR per call",
        delivery: 'POST {refinery}/v1/track',
      },
      {
        sdk: 'rudderstack',
        mode: 'beacon',
        title: "RudderStack's JavaScript SDK with useBeacon (navigator.sendBeacon batches)",
        delivery: 'POST {refinery}/beacon/v1/batch?writeKey=',
      },
    ];

    for (const { sdk, mode, title, delivery, leavePage } of cases) {
      it(`stores identify, track and page from ${title}`, async () => {
        const userId = `${sdk}-${mode}-user`;
        const { context, page, requests, problems, result } = await openShopPage(sdk, mode, userId);
        try {
          expect(result, problems.join('\n')).toMatchObject({ done: true });
          expect(result.anonymousId).toMatch(/^[\w-]{16,}$/);
          if (leavePage) {
            // Held in the SDK's batch until the visitor leaves; then one keepalive fetch carries them.
            await new Promise((resolve) => setTimeout(resolve, 300));
            await ws.drain();
            expect(
              await ws.rows(`SELECT 1 FROM events WHERE anonymous_id = '${result.anonymousId}'`),
            ).toEqual([]);
            await page.goto('about:blank');
          }
          const rows = await storedEvents(`anonymous_id = '${result.anonymousId}'`, 3, problems);
          expect(rows.map((row) => row.type)).toEqual(['identify', 'page', 'track']);
          const [identify, shown, track] = rows;
          // Stored sealed with the visitor's key; the workspace's vault opens it again.
          const email = identify![SDKS[sdk].traitsAt];
          expect(email).toMatch(/^rfy1:/);
          const opened = await revealValue({ email }, ws.server.privacy.vault, 'traits');
          expect(opened.value.email).toBe('shopper@example.com');
          expect(identify).toMatchObject({ user_id: userId });
          expect(track).toMatchObject({ event: 'Product Viewed', user_id: userId, price: '3.5' });
          expect(shown).toMatchObject({ name: 'Home', user_id: userId });
          for (const row of rows) {
            expect(row.anonymous_id).toBe(result.anonymousId);
            expect(row.lib).toBe(SDKS[sdk].lib);
            expect(['Chrome', 'Chromium']).toContain(row.browser);
            expect(row.recent).toBe(true);
          }
          const rejected = await ws.rows<{ n: number }>('SELECT count(*) AS n FROM rejected_events');
          expect(rejected[0]!.n).toBe(0);
          // No failed request, no CORS refusal, no SDK error on the console.
          expect(problems).toEqual([]);
          // Everything the page loaded came from the shop or from Refinery: no CDN, no vendor API.
          const refinery = ws.server.url;
          const elsewhere = requests.filter(
            (line) => !line.includes(` ${shopUrl}/`) && !line.includes(` ${refinery}/`),
          );
          expect(elsewhere).toEqual([]);
          expect(
            requests.some((line) => line.startsWith(SDKS[sdk].configRequest(refinery, ws.writeKey))),
          ).toBe(true);
          if (!delivery) return;
          const sent = delivery.replace('{refinery}', refinery);
          expect(
            requests.some((line) => line.startsWith(sent)),
            `no ${sent}… in\n${requests.join('\n')}`,
          ).toBe(true);
        } finally {
          await context.close();
        }
      });
    }
  },
);

import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABS } from '../../web/src/use-hash-tab.js';
import { hasChromium, launchChromium } from '../helpers/browser.js';
import { basicAuth, startTestWorkspace, type TestWorkspace } from '../helpers/test-workspace.js';

const DASHBOARD = fileURLToPath(new URL('../../web/dist/', import.meta.url));
const built = existsSync(`${DASHBOARD}index.html`);

let ws: TestWorkspace;

beforeAll(async () => {
  ws = await startTestWorkspace();
});
afterAll(async () => {
  await ws?.close();
});

/** The Content-Security-Policy as a directive → sources map. */
function policyOf(header: unknown): Record<string, string[]> {
  expect(typeof header).toBe('string');
  return Object.fromEntries(
    String(header)
      .split(';')
      .map((directive) => directive.trim().split(/\s+/))
      .filter((parts) => parts[0])
      .map(([name, ...sources]) => [name!, sources]),
  );
}

describe('security headers', () => {
  const assets = built ? readdirSync(`${DASHBOARD}assets`).map((file) => `/assets/${file}`) : [];
  const answers = [
    ['the dashboard', '/', undefined],
    ['a dashboard route', '/app/profiles', undefined],
    ...assets.map((asset) => ['a dashboard asset', asset, undefined] as const),
    ['the API docs', '/docs', undefined],
    ['the API docs script', '/docs/static/swagger-initializer.js', undefined],
    ['the health check', '/healthz', undefined],
    ['an API answer', '/v1/stats', 'admin'],
    ['a refusal', '/v1/stats', undefined],
    ['a missing route', '/no/such/page', undefined],
    ['a malformed URL', '/v1/profiles/%E0%A4%A', 'admin'],
    ['a settings document for the SDKs', '/v1/projects/rk_write_x/settings', undefined],
  ] as const;

  it.each(answers)('are sent with %s (%s)', async (_what, url, key) => {
    const response = await ws.server.app.inject({
      method: 'GET',
      url,
      headers: key ? { authorization: `Bearer ${ws.adminKey}` } : {},
    });
    expect(response.statusCode).not.toBe(500);
    expect(response.headers['x-frame-options']).toBe('DENY');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['referrer-policy']).toBe('no-referrer');
    const policy = policyOf(response.headers['content-security-policy']);
    expect(policy['script-src']).toEqual(["'self'"]);
    expect(policy['frame-ancestors']).toEqual(["'none'"]);
    expect(policy['object-src']).toEqual(["'none'"]);
    expect(policy['base-uri']).toEqual(["'self'"]);
    // Inline styles only for swagger-ui, which injects <style> elements; the dashboard needs none.
    expect(policy['style-src']).toEqual(url.startsWith('/docs') ? ["'self'", "'unsafe-inline'"] : ["'self'"]);
  });

  it('are sent with a collected batch', async () => {
    const response = await ws.server.app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: { authorization: basicAuth(ws.writeKey), 'content-type': 'application/json' },
      payload: JSON.stringify({ batch: [{ type: 'track', event: 'Viewed', anonymousId: 'a-1' }] }),
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['x-content-type-options']).toBe('nosniff');
  });
});

// The policy must not break what it protects: every dashboard page and the API docs load in a real browser
// with no Content Security Policy violation.
describe.skipIf(!hasChromium || !built)(
  'the dashboard and the API docs under the policy (needs /usr/bin/chromium and a built web/dist)',
  () => {
    let browser: Browser;
    let page: Page;
    const violations: string[] = [];

    beforeAll(async () => {
      // Events, so the overview draws its charts (which style their SVG through the DOM).
      const now = Date.now();
      const batch = Array.from({ length: 12 }, (_, i) => ({
        type: i % 3 === 0 ? 'page' : 'track',
        ...(i % 3 === 0 ? { name: 'Home' } : { event: i % 2 ? 'Product Viewed' : 'Order Completed' }),
        userId: `user-${i % 4}`,
        timestamp: new Date(now - (i % 3) * 86_400_000).toISOString(),
      }));
      const sent = await ws.server.app.inject({
        method: 'POST',
        url: '/v1/batch',
        headers: { authorization: basicAuth(ws.writeKey), 'content-type': 'application/json' },
        payload: JSON.stringify({ batch }),
      });
      expect(sent.statusCode).toBe(200);
      await ws.drain();
      browser = await launchChromium();
      page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      page.on('console', (message) => {
        if (message.text().includes('Content Security Policy')) violations.push(message.text());
      });
      await page.addInitScript(() => {
        document.addEventListener('securitypolicyviolation', (event) => {
          console.error(
            `Content Security Policy violation: ${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`,
          );
        });
      });
    });
    afterAll(async () => {
      await browser?.close();
    });

    it('shows every dashboard page without a violation', async () => {
      await page.goto(`${ws.server.url}/#key=${ws.adminKey}`);
      await expect.poll(() => page.getByTestId('workspace-name').textContent()).toContain('test');
      await expect
        .poll(() => page.locator('[data-testid="chart-events-over-time"] svg').count())
        .toBeGreaterThan(0);
      for (const tab of TABS) {
        await page.evaluate((id) => {
          window.location.hash = id;
        }, tab.id);
        await page.getByTestId(`page-${tab.id}`).waitFor();
        // Give charts and tables a moment to render their inline styles.
        await page.waitForTimeout(300);
      }
      expect(violations).toEqual([]);
    });

    it('shows the API docs without a violation', async () => {
      await page.goto(`${ws.server.url}/docs`);
      await expect.poll(() => page.locator('.swagger-ui .info .title').count(), { timeout: 15_000 }).toBe(1);
      await expect.poll(() => page.locator('.opblock').count()).toBeGreaterThan(10);
      expect(violations).toEqual([]);
    });
  },
);

import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasChromium, launchChromium } from '../helpers/browser.js';
import { basicAuth, startTestWorkspace, type TestWorkspace } from '../helpers/test-workspace.js';

const built = existsSync(new URL('../../web/dist/index.html', import.meta.url));

// A person opens the dashboard in a real browser and sees the events that were sent.
describe.skipIf(!hasChromium || !built)(
  'dashboard in headless Chromium (needs /usr/bin/chromium and a built web/dist)',
  () => {
    let ws: TestWorkspace;
    let browser: Browser;
    let page: Page;

    const sendBatch = async (batch: object[]) => {
      const response = await fetch(`${ws.server.url}/v1/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: basicAuth(ws.writeKey) },
        body: JSON.stringify({ batch }),
      });
      expect(response.status).toBe(200);
    };

    beforeAll(async () => {
      ws = await startTestWorkspace();
      const now = Date.now();
      const batch = Array.from({ length: 30 }, (_, i) => ({
        type: i % 3 === 0 ? 'page' : 'track',
        ...(i % 3 === 0 ? { name: 'Home' } : { event: i % 2 ? 'Product Viewed' : 'Order Completed' }),
        userId: `user-${i % 5}`,
        messageId: `dash-${i}`,
        timestamp: new Date(now - (i % 3) * 86_400_000).toISOString(),
      }));
      await sendBatch(batch);
      await ws.drain();
      browser = await launchChromium();
      page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    });

    afterAll(async () => {
      await browser?.close();
      await ws?.close();
    });

    it('shows the workspace, the event count and the charts after signing in through the link', async () => {
      await page.goto(`${ws.server.url}/#key=${ws.adminKey}`);
      await expect.poll(() => page.getByTestId('workspace-name').textContent()).toContain('test');
      expect(page.url()).not.toContain(ws.adminKey);
      await expect.poll(() => page.getByTestId('stat-total-events').getAttribute('data-value')).toBe('30');
      await expect
        .poll(() => page.getByTestId('chart-events-over-time').getAttribute('data-total'))
        .toBe('30');
      expect(await page.locator('[data-testid="chart-events-over-time"] svg').count()).toBeGreaterThan(0);
      const topEvents = page.getByTestId('top-event-row');
      await expect.poll(() => topEvents.count()).toBe(3);
      expect(await topEvents.first().getAttribute('data-count')).toBe('10');
    });

    it('shows a new event in the live tail within seconds', async () => {
      await page.getByTestId('tab-live').click();
      await sendBatch([{ type: 'track', event: 'Live Arrival', userId: 'watcher', messageId: 'live-1' }]);
      const row = page.locator('[data-testid="live-row"][data-message-id="live-1"]');
      await expect.poll(() => row.count(), { timeout: 10_000 }).toBe(1);
      expect(await row.getByTestId('live-row-name').textContent()).toBe('Live Arrival');
    });

    it('runs a query and shows its rows as a table', async () => {
      await page.getByTestId('tab-query').click();
      await page
        .getByTestId('query-input')
        .fill(
          "SELECT event, count(*) AS n FROM events WHERE type = 'track' AND message_id LIKE 'dash-%' GROUP BY event ORDER BY event",
        );
      await page.getByTestId('query-run').click();
      await expect.poll(() => page.getByTestId('query-result').getAttribute('data-rows')).toBe('2');
      expect(await page.getByTestId('query-row').first().textContent()).toContain('Order Completed');
      await page.getByTestId('query-input').fill('DELETE FROM events');
      await page.getByTestId('query-run').click();
      await expect
        .poll(() => page.getByTestId('query-error').textContent())
        .toContain('REFINERY_ERR_QUERY_NOT_READ_ONLY');
    });

    it('lists the sources and keys and creates a write key shown once', async () => {
      await page.getByTestId('tab-sources').click();
      await expect.poll(() => page.getByTestId('key-row').count()).toBe(2);
      await page.getByTestId('create-key-kind').selectOption('write');
      await page.getByTestId('create-key-name').fill('from the browser');
      await page.getByTestId('create-key-submit').click();
      const created = await page.getByTestId('created-key-value').textContent();
      expect(created).toMatch(/^rk_write_/);
      await expect.poll(() => page.getByTestId('key-row').count()).toBe(3);
      const rows = await ws.server.store.keys.list();
      expect(rows.some((row) => row.name === 'from the browser' && row.kind === 'write')).toBe(true);
    });
  },
);

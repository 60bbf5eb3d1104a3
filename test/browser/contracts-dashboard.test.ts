import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasChromium, launchChromium } from '../helpers/browser.js';
import { basicAuth, startTestWorkspace, type TestWorkspace } from '../helpers/test-workspace.js';

const built = existsSync(new URL('../../web/dist/index.html', import.meta.url));

// Orders are enforced (a violating order is held), product views only warned about (stored with a flag).
const SHOP_CONTRACT = `apiVersion: v3.1.0
kind: DataContract
id: shop-events
version: 1.0.0
status: active
name: Shop events
customProperties:
  - property: refinery.mode
    value: enforce
schema:
  - name: order_completed
    physicalType: track
    physicalName: Order Completed
    properties:
      - name: order_id
        logicalType: string
        required: true
      - name: total
        logicalType: number
        required: true
        logicalTypeOptions:
          minimum: 0
      - name: currency
        logicalType: string
        quality:
          - metric: invalidValues
            arguments:
              validValues: [EUR, USD]
            mustBe: 0
  - name: product_viewed
    physicalType: track
    physicalName: Product Viewed
    customProperties:
      - property: refinery.mode
        value: warn
    properties:
      - name: sku
        logicalType: string
        required: true
`;

// The team decides refunds are orders too: negative totals pass from now on.
const REFUNDS_ALLOWED = SHOP_CONTRACT.replace('          minimum: 0\n', '          minimum: -1000\n');

const order = (messageId: string, properties: Record<string, unknown>) => ({
  type: 'track',
  event: 'Order Completed',
  userId: 'buyer',
  messageId,
  properties,
});
const view = (messageId: string, properties: Record<string, unknown>) => ({
  type: 'track',
  event: 'Product Viewed',
  userId: 'browser',
  messageId,
  properties,
});

// A person reviews contract violations and decides on held events in a real browser.
describe.skipIf(!hasChromium || !built)(
  'contracts and quarantine dashboard in headless Chromium (needs /usr/bin/chromium and a built web/dist)',
  () => {
    let ws: TestWorkspace;
    let browser: Browser;
    let page: Page;

    const row = (id: string) => page.locator(`[data-testid="quarantine-row"][data-id="${id}"]`);
    const heldIds = async () =>
      (
        await page
          .locator('[data-testid="quarantine-row"][data-status="held"]')
          .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')))
      ).sort();
    const adminGet = async (path: string) => {
      const response = await fetch(`${ws.server.url}${path}`, {
        headers: { authorization: `Bearer ${ws.adminKey}` },
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };

    beforeAll(async () => {
      ws = await startTestWorkspace({
        yamlExtra: 'contracts:\n  undeclared: allow\n  reloadIntervalMs: 0',
        contracts: { 'shop.odcs.yaml': SHOP_CONTRACT },
      });
      const response = await fetch(`${ws.server.url}/v1/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: basicAuth(ws.writeKey) },
        body: JSON.stringify({
          batch: [
            order('ok-1', { order_id: 'A1', total: 10, currency: 'EUR' }),
            order('ok-2', { order_id: 'A2', total: 25, currency: 'USD' }),
            order('refund-1', { order_id: 'A3', total: -5, currency: 'EUR' }),
            order('pounds-1', { order_id: 'A4', total: 12, currency: 'GBP' }),
            order('no-id-1', { total: 7, currency: 'EUR' }),
            view('view-1', {}),
            view('view-2', { colour: 'red' }),
            view('view-3', { sku: 'SKU-1' }),
          ],
        }),
      });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { quarantined: { messageId: string }[]; flagged: number };
      expect(body.quarantined.map((q) => q.messageId).sort()).toEqual(['no-id-1', 'pounds-1', 'refund-1']);
      expect(body.flagged).toBe(2);
      await ws.drain();
      browser = await launchChromium();
      page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    });

    afterAll(async () => {
      await browser?.close();
      await ws?.close();
    });

    it('shows each contract with the mode of what it governs, the violation rate chart and the top violations', async () => {
      await page.goto(`${ws.server.url}/#key=${ws.adminKey}`);
      await expect.poll(() => page.getByTestId('workspace-name').textContent()).toContain('test');
      await page.getByTestId('tab-contracts').click();
      expect(page.url()).toContain('#contracts');
      const contract = page.locator('[data-testid="contract-row"][data-contract-id="shop-events"]');
      await expect.poll(() => contract.count()).toBe(1);
      expect(await contract.getByTestId('contract-name').textContent()).toBe('Shop events');
      const governed = page.getByTestId('governed-item');
      expect(await governed.count()).toBe(2);
      const modeOf = (target: string) =>
        page.locator(`[data-testid="governed-item"][data-target="${target}"]`).getAttribute('data-mode');
      expect(await modeOf('Order Completed')).toBe('enforce');
      expect(await modeOf('Product Viewed')).toBe('warn');
      const badges = await page
        .getByTestId('contracts-table')
        .getByTestId('mode-badge')
        .evaluateAll((nodes) => nodes.map((node) => node.textContent));
      expect(badges.sort()).toEqual(['enforce', 'warn']);
      expect(await page.getByTestId('undeclared-policy').getAttribute('data-policy')).toBe('allow');
      expect(await page.getByTestId('contracts-load-error').count()).toBe(0);

      // 8 received: 3 orders held, 2 product views flagged.
      const chart = page.getByTestId('violation-rate-chart');
      await expect.poll(() => chart.getAttribute('data-violating')).toBe('5');
      expect(await chart.getAttribute('data-received')).toBe('8');
      expect((await chart.getAttribute('data-events'))?.split('|').sort()).toEqual([
        'Order Completed',
        'Product Viewed',
      ]);
      await expect.poll(() => chart.locator('svg path.recharts-line-curve').count()).toBe(2);
      expect(await chart.locator('svg .recharts-line-dots circle').count()).toBeGreaterThanOrEqual(2);
      expect(await page.getByTestId('violation-summary').textContent()).toContain('5 of 8 events');
      await page.getByTestId('interval-day').click();
      await expect.poll(() => chart.getAttribute('data-interval')).toBe('day');
      await expect.poll(() => chart.locator('svg path.recharts-line-curve').count()).toBe(2);

      const top = page.getByTestId('top-violation-row');
      await expect.poll(() => top.count()).toBe(4);
      const keys = await top.evaluateAll((rows) =>
        rows.map(
          (r) =>
            `${r.getAttribute('data-event')}|${r.getAttribute('data-path')}|${r.getAttribute('data-rule')}`,
        ),
      );
      expect(keys.sort()).toEqual([
        'Order Completed|properties.currency|validValues',
        'Order Completed|properties.order_id|required',
        'Order Completed|properties.total|minimum',
        'Product Viewed|properties.sku|required',
      ]);
      const sku = page.locator('[data-testid="top-violation-row"][data-path="properties.sku"]');
      expect(await sku.getAttribute('data-count')).toBe('2');
      expect(await sku.getAttribute('data-contract')).toBe('shop-events');
    });

    it('says when a contract edit was refused, and clears that once the fixed file is reloaded', async () => {
      const file = join(ws.dir, 'contracts', 'shop.odcs.yaml');
      writeFileSync(file, `${SHOP_CONTRACT}  - name: [broken\n`);
      await page.getByTestId('contracts-reload').click();
      const banner = page.getByTestId('contracts-load-error');
      await expect.poll(() => banner.count()).toBe(1);
      expect(await banner.textContent()).toContain('REFINERY_ERR_');
      // The previous contracts stay in force and on screen.
      expect(await page.locator('[data-testid="contract-row"][data-contract-id="shop-events"]').count()).toBe(
        1,
      );

      writeFileSync(file, REFUNDS_ALLOWED);
      await page.getByTestId('contracts-reload').click();
      await expect.poll(() => banner.count()).toBe(0);
      await expect.poll(() => page.getByTestId('contracts-reloaded').count()).toBe(1);
      const contracts = await adminGet('/v1/contracts');
      expect((contracts.body.load as { error: unknown }).error).toBeNull();
    });

    it('lists the held events, shows one with its payload, replays the fixed one and discards another', async () => {
      // From a top violation straight to the events held for it.
      await page.getByTestId('tab-contracts').click();
      await page
        .locator('[data-testid="top-violation-row"][data-rule="validValues"]')
        .getByRole('link', { name: 'Held events' })
        .click();
      await expect.poll(() => page.getByTestId('page-quarantine').count()).toBe(1);
      expect(await page.getByTestId('filter-rule').inputValue()).toBe('validValues');
      await expect.poll(heldIds).toEqual(['pounds-1']);

      await page.getByTestId('filter-clear').click();
      await expect.poll(heldIds).toEqual(['no-id-1', 'pounds-1', 'refund-1']);
      expect(await page.getByTestId('quarantine-count-held').getAttribute('data-value')).toBe('3');
      expect(await row('refund-1').getByTestId('violation-chip').getAttribute('data-rule')).toBe('minimum');

      await row('refund-1').getByTestId('quarantine-open').click();
      const detail = page.getByTestId('quarantine-detail');
      await expect.poll(() => detail.getAttribute('data-id')).toBe('refund-1');
      const payload = JSON.parse((await page.getByTestId('quarantine-payload').textContent()) ?? '{}');
      expect(payload.properties).toEqual({ order_id: 'A3', total: -5, currency: 'EUR' });
      const violations = await detail
        .getByTestId('violation-item')
        .evaluateAll((items) => items.map((item) => item.getAttribute('data-rule')));
      expect(violations).toEqual(['minimum']);

      // Under the reloaded contract the refund passes; the pound order still does not.
      await row('refund-1').getByTestId('quarantine-select').check();
      await row('pounds-1').getByTestId('quarantine-select').check();
      expect(await page.getByTestId('selected-count').getAttribute('data-count')).toBe('2');
      await page.getByTestId('replay-selected').click();
      const result = page.getByTestId('replay-result');
      await expect.poll(() => result.count()).toBe(1);
      expect(await result.getAttribute('data-replayed')).toBe('1');
      expect(await result.getAttribute('data-still-failing')).toBe('1');
      const message = await result.textContent();
      expect(message).toContain('1 replayed, 1 still failing:');
      expect(message).toContain('pounds-1');
      expect(message).toContain('properties.currency validValues');
      const stored = await ws.rows<{ message_id: string }>(
        "SELECT message_id FROM events WHERE message_id IN ('refund-1', 'pounds-1', 'no-id-1')",
      );
      expect(stored.map((r) => r.message_id)).toEqual(['refund-1']);
      await expect.poll(heldIds).toEqual(['no-id-1', 'pounds-1']);
      await expect
        .poll(() => page.getByTestId('quarantine-count-replayed').getAttribute('data-value'))
        .toBe('1');
      await expect.poll(() => detail.getAttribute('data-status')).toBe('replayed');

      // The event that still fails stays ticked; this time discard the order without an id instead.
      expect(await row('pounds-1').getByTestId('quarantine-select').isChecked()).toBe(true);
      await row('pounds-1').getByTestId('quarantine-select').uncheck();
      await row('no-id-1').getByTestId('quarantine-select').check();
      await page.getByTestId('discard-selected').click();
      await page.getByTestId('discard-selected-confirm').click();
      await expect.poll(() => page.getByTestId('discard-result').getAttribute('data-discarded')).toBe('1');
      await expect.poll(heldIds).toEqual(['pounds-1']);
      await expect
        .poll(() => page.getByTestId('quarantine-count-discarded').getAttribute('data-value'))
        .toBe('1');
      expect((await adminGet('/v1/quarantine/no-id-1')).body.status).toBe('discarded');
      expect(await ws.rows("SELECT message_id FROM events WHERE message_id = 'no-id-1'")).toEqual([]);

      await page.getByTestId('quarantine-count-discarded').click();
      await expect
        .poll(() =>
          page
            .getByTestId('quarantine-row')
            .evaluateAll((rows) =>
              rows.map((r) => `${r.getAttribute('data-id')}:${r.getAttribute('data-status')}`),
            ),
        )
        .toEqual(['no-id-1:discarded']);

      // Replaying everything held changes nothing while the last one still breaks the contract.
      await page.getByTestId('quarantine-count-held').click();
      await expect.poll(heldIds).toEqual(['pounds-1']);
      await page.getByTestId('replay-all').click();
      await page.getByTestId('replay-all-confirm').click();
      await expect.poll(() => result.textContent()).toContain('0 replayed, 1 still failing:');
      await expect.poll(heldIds).toEqual(['pounds-1']);
    });
  },
);

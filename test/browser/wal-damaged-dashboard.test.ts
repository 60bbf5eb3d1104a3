import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/runtime/server-runtime.js';
import { hasChromium, launchChromium } from '../helpers/browser.js';
import { startTestWorkspace, type TestWorkspace } from '../helpers/test-workspace.js';

const built = existsSync(new URL('../../web/dist/index.html', import.meta.url));

// The Overview page tells a person when the loader set log lines aside, and the notice leads to the list,
// where a line can be discarded.
describe.skipIf(!hasChromium || !built)(
  'set-aside log lines in the dashboard (needs /usr/bin/chromium and a built web/dist)',
  () => {
    let ws: TestWorkspace;
    let server: RunningServer;
    let browser: Browser;
    let page: Page;

    beforeAll(async () => {
      ws = await startTestWorkspace();
      const walDir = ws.server.paths.wal;
      const storeUrl = ws.server.config.store.url;
      await ws.server.close();
      // Two lines no engine can load: a torn one and one that is not JSON at all.
      writeFileSync(join(walDir, 'seg-000000000900.ndjson'), '{"k":"q","rid":"torn\nnot json at all\n');
      server = await startServer({
        dir: ws.dir,
        storeUrl,
        port: 0,
        host: '127.0.0.1',
        onLoaderError: () => undefined,
      });
      browser = await launchChromium();
      page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    });

    afterAll(async () => {
      await browser?.close();
      await server?.close();
      await ws?.close().catch(() => undefined);
    });

    it('shows how many log lines were set aside and lists them behind the notice', async () => {
      await page.goto(`${server.url}/#key=${ws.adminKey}`);
      const notice = page.getByTestId('damaged-lines-notice');
      await expect.poll(() => notice.textContent()).toContain('2 log lines set aside');
      await notice.getByRole('link').click();
      const rows = page.getByTestId('damaged-line-row');
      await expect.poll(() => rows.count()).toBe(2);
      expect(await rows.first().textContent()).toContain('not_json');
    });

    it('discards a line from the list, and the notice counts one fewer', async () => {
      await page.getByTestId('damaged-line-discard-2').click();
      await page.getByTestId('damaged-line-discard-2-confirm').click();
      await expect.poll(() => page.getByTestId('damaged-line-row').count()).toBe(1);
      await expect
        .poll(() => page.getByTestId('damaged-lines-notice').textContent(), { timeout: 15_000 })
        .toContain('1 log line set aside');
    });
  },
);

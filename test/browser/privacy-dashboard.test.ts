import { existsSync, readFileSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/access/api-keys.js';
import { hasChromium, launchChromium } from '../helpers/browser.js';
import { basicAuth, startTestWorkspace, type TestWorkspace } from '../helpers/test-workspace.js';

const built = existsSync(new URL('../../web/dist/index.html', import.meta.url));
const DAY_MS = 86_400_000;
const START = Date.now();
// Today's events all fall on today's UTC date, whenever the test runs: the consent overview buckets by UTC day.
const TODAY = Math.max(Math.floor(START / DAY_MS) * DAY_MS, START - 60 * 60_000);

/** An ISO time today, `step` seconds into the test's hour, in the order of the steps. */
const today = (step: number) => new Date(TODAY + step * 1000).toISOString();

interface Sent {
  type: string;
  [field: string]: unknown;
}

const order = (userId: string, orderId: string, total: number, category: string, step: number): Sent => ({
  type: 'track',
  event: 'Order Completed',
  userId,
  messageId: `order-${orderId}`,
  timestamp: today(step),
  properties: {
    order_id: orderId,
    total,
    products: [{ product_id: `${category}-1`, category, quantity: 1 }],
  },
});

// People use the profiles, consent and privacy pages in a real browser, over the real server and API.
describe.skipIf(!hasChromium || !built)(
  'profiles, consent and privacy requests in headless Chromium (needs /usr/bin/chromium and a built web/dist)',
  () => {
    let ws: TestWorkspace;
    let browser: Browser;
    let analystKey: string;
    let privacyKey: string;
    let readKey: string;
    const contexts: BrowserContext[] = [];

    const send = async (batch: Sent[], headers: Record<string, string> = {}) => {
      const response = await fetch(`${ws.server.url}/v1/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: basicAuth(ws.writeKey), ...headers },
        body: JSON.stringify({ batch }),
      });
      expect(response.status).toBe(200);
    };

    const api = async (path: string, key = ws.adminKey) => {
      const response = await fetch(`${ws.server.url}${path}`, {
        headers: { authorization: `Bearer ${key}` },
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };

    /** A signed-in dashboard on a tab, in a browser context of its own (the key lives in sessionStorage). */
    const openDashboard = async (key: string, tab: string): Promise<Page> => {
      const context = await browser.newContext({
        viewport: { width: 1400, height: 1000 },
        acceptDownloads: true,
      });
      contexts.push(context);
      const page = await context.newPage();
      await page.goto(`${ws.server.url}/#key=${key}`);
      await expect.poll(() => page.getByTestId('workspace-name').textContent()).toContain('test');
      await page.getByTestId(`tab-${tab}`).click();
      expect(page.url()).toContain(`#${tab}`);
      return page;
    };

    const lookUp = async (page: Page, idType: string, id: string) => {
      await page.getByTestId('profile-mode-lookup').click();
      await page.getByTestId('profile-id-type').selectOption(idType);
      await page.getByTestId('profile-id-value').fill(id);
      await page.getByTestId('profile-find').click();
      await expect.poll(() => page.getByTestId('profile-view').count()).toBe(1);
    };

    beforeAll(async () => {
      ws = await startTestWorkspace();
      analystKey = (await createApiKey(ws.server.store, { kind: 'analyst' })).key;
      privacyKey = (await createApiKey(ws.server.store, { kind: 'privacy' })).key;
      readKey = (await createApiKey(ws.server.store, { kind: 'read' })).key;
      // Ada first visits three days ago and accepts analytics and advertising on the banner (C0004 is a
      // category the workspace never mapped); today she signs up and orders twice.
      const adaConsent = {
        consent: { categoryPreferences: { analytics: true, advertising: true, C0004: true } },
      };
      await send([
        {
          type: 'page',
          anonymousId: 'ada-laptop',
          name: 'Home',
          messageId: 'ada-home',
          timestamp: new Date(TODAY - 3 * DAY_MS).toISOString(),
          context: adaConsent,
        },
        {
          type: 'identify',
          userId: 'ada',
          anonymousId: 'ada-laptop',
          messageId: 'ada-identify',
          timestamp: today(1),
          traits: { email: 'Ada@Example.com', name: 'Ada Lovelace', plan: 'premium' },
          context: adaConsent,
        },
        order('ada', 'A-1', 12.5, 'bread', 2),
        order('ada', 'A-2', 9, 'bread', 3),
      ]);
      // Bob's browser sends Global Privacy Control, and he refuses analytics on the banner; his order comes
      // later from the shop's server, without the header.
      await send(
        [
          {
            type: 'identify',
            userId: 'bob',
            messageId: 'bob-identify',
            timestamp: today(4),
            traits: { email: 'bob@example.com', plan: 'basic' },
            context: { consent: { categoryPreferences: { analytics: false } } },
          },
        ],
        { 'sec-gpc': '1' },
      );
      await send([order('bob', 'B-1', 30, 'pastry', 5)]);
      await ws.drain();
      browser = await launchChromium();
    }, 120_000);

    afterAll(async () => {
      for (const context of contexts) await context.close().catch(() => undefined);
      await browser?.close();
      await ws?.close();
    });

    it('finds a person by email and shows their identities, traits, computed traits and recent events', async () => {
      const page = await openDashboard(ws.adminKey, 'profiles');
      await lookUp(page, 'email', 'ada@example.com');
      const view = page.getByTestId('profile-view');
      const personId = await view.getAttribute('data-person-id');
      expect(personId).toMatch(/^p_/);
      expect(page.url()).toContain('#profiles?id=email');

      const identities = await page
        .getByTestId('profile-identity')
        .evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-type')));
      expect(identities.sort()).toEqual(['anonymous_id', 'email', 'user_id']);
      const userId = page.locator('[data-testid="profile-identity"][data-type="user_id"]');
      expect(await userId.getAttribute('data-value')).toBe('ada');
      // The identity graph holds the email as a keyed hash, and the page says so rather than pretending it is clear.
      expect(
        await page.locator('[data-testid="profile-identity"][data-type="email"]').textContent(),
      ).toContain('keyed hash');

      const email = page.locator('[data-testid="profile-trait"][data-trait="email"]');
      expect(await email.getAttribute('data-hidden')).toBe('false');
      expect(await email.getByTestId('profile-trait-value').textContent()).toBe('Ada@Example.com');
      expect(await page.getByTestId('profile-hidden-notice').count()).toBe(0);

      expect(await page.getByTestId('computed-order-count').getAttribute('data-value')).toBe('2');
      expect(await page.getByTestId('computed-revenue').getAttribute('data-value')).toBe('21.5');
      expect(await page.getByTestId('computed-aov').getAttribute('data-value')).toBe('10.75');
      expect(await page.getByTestId('computed-favourite-category-value').textContent()).toBe('bread');

      const events = await page
        .getByTestId('profile-event')
        .evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-name')));
      expect(events).toEqual(['Order Completed', 'Order Completed', '', 'Home']);

      // A reload shows the same person: the address holds the lookup.
      await page.reload();
      await expect.poll(() => page.getByTestId('profile-view').getAttribute('data-person-id')).toBe(personId);
    });

    it('searches people by a trait and opens one of them', async () => {
      const page = await openDashboard(ws.adminKey, 'profiles');
      await page.getByTestId('profile-mode-search').click();
      await page.getByTestId('profile-search-trait').fill('plan');
      await page.getByTestId('profile-search-value').fill('basic');
      await page.getByTestId('profile-find').click();
      const results = page.getByTestId('profile-result');
      await expect.poll(() => results.count()).toBe(1);
      const bob = (await api('/v1/profiles/user_id:bob')).body.personId;
      expect(await results.first().getAttribute('data-person-id')).toBe(bob);
      await results.first().getByTestId('profile-result-open').click();
      await expect.poll(() => page.getByTestId('profile-view').getAttribute('data-person-id')).toBe(bob);
      expect(await page.getByTestId('computed-order-count').getAttribute('data-value')).toBe('1');

      await page.getByTestId('profile-mode-search').click();
      await page.getByTestId('profile-search-value').fill('gold');
      await page.getByTestId('profile-find').click();
      await expect.poll(() => page.getByTestId('profile-results-empty').count()).toBe(1);
    });

    it("shows the person's consent per purpose, with where each decision came from", async () => {
      const page = await openDashboard(ws.adminKey, 'profiles');
      await lookUp(page, 'user_id', 'bob');
      const consent = (purpose: string) =>
        page.locator(`[data-testid="profile-consent"][data-purpose="${purpose}"]`);
      await expect.poll(() => page.getByTestId('profile-consent').count()).toBe(4);
      expect(await consent('analytics').getAttribute('data-granted')).toBe('false');
      expect(await consent('analytics').getAttribute('data-source')).toBe('context.consent');
      expect(await consent('sale_sharing').getAttribute('data-granted')).toBe('false');
      expect(await consent('sale_sharing').getAttribute('data-source')).toBe('gpc');
      // No choice about personalisation: the workspace default (granted) applies.
      expect(await consent('personalisation').getAttribute('data-granted')).toBe('true');
      expect(await consent('personalisation').getAttribute('data-source')).toBe('default');

      // The profile links to the full consent history.
      await page.getByTestId('profile-consent-history-link').click();
      await expect.poll(() => page.url()).toContain('#consent?person=p_');
      const rows = page.getByTestId('consent-history-row');
      await expect.poll(() => rows.count()).toBe(2);
      const sources = await rows.evaluateAll((nodes) =>
        nodes.map((node) => `${node.getAttribute('data-purpose')}:${node.getAttribute('data-source')}`),
      );
      expect(sources.sort()).toEqual(['analytics:context.consent', 'sale_sharing:gpc']);
    });

    it('shows an analyst the personal traits as hidden, and offers no privacy request', async () => {
      const page = await openDashboard(analystKey, 'profiles');
      await lookUp(page, 'user_id', 'ada');
      const email = page.locator('[data-testid="profile-trait"][data-trait="email"]');
      expect(await email.getAttribute('data-hidden')).toBe('true');
      expect(await email.getByTestId('profile-trait-value').textContent()).toContain('[hidden]');
      expect(await page.getByTestId('profile-hidden-notice').textContent()).toContain('email, name');
      expect(await page.getByTestId('profile-traits').textContent()).not.toContain('Ada@Example.com');
      expect(await page.getByTestId('profile-traits').textContent()).not.toContain('Lovelace');
      // Non-personal traits and computed traits are still there.
      expect(
        await page
          .locator('[data-testid="profile-trait"][data-trait="plan"]')
          .getByTestId('profile-trait-value')
          .textContent(),
      ).toBe('premium');
      expect(await page.getByTestId('computed-order-count').getAttribute('data-value')).toBe('2');
      expect(await page.getByTestId('profile-privacy-request').count()).toBe(0);

      // The admin, who may handle privacy requests, gets the button on the same profile.
      const admin = await openDashboard(ws.adminKey, 'profiles');
      await lookUp(admin, 'user_id', 'ada');
      await expect.poll(() => admin.getByTestId('profile-privacy-request').count()).toBe(1);
    });

    it('tells a role without the permission what it cannot do, and keeps it signed in', async () => {
      const reader = await openDashboard(readKey, 'profiles');
      await reader.getByTestId('profile-id-type').selectOption('user_id');
      await reader.getByTestId('profile-id-value').fill('ada');
      await reader.getByTestId('profile-find').click();
      const refusal = reader.getByTestId('profile-error-forbidden');
      await expect.poll(() => refusal.count()).toBe(1);
      expect(await refusal.textContent()).toContain("Your key's role cannot look up profiles");
      expect(await refusal.textContent()).toContain('read:profiles');
      expect(await reader.getByTestId('workspace-name').count()).toBe(1);

      const analyst = await openDashboard(analystKey, 'privacy');
      const privacyRefusal = analyst.getByTestId('privacy-error-forbidden');
      await expect.poll(() => privacyRefusal.count()).toBe(1);
      expect(await privacyRefusal.textContent()).toContain(
        "Your key's role cannot see or file privacy requests",
      );
      expect(await analyst.getByTestId('privacy-request-form').count()).toBe(0);
      expect(await analyst.getByTestId('workspace-name').count()).toBe(1);
    });

    it('charts the share of people granting each purpose, with the defaults and the unmapped categories', async () => {
      const page = await openDashboard(ws.adminKey, 'consent');
      const chart = page.getByTestId('consent-chart');
      await expect.poll(() => chart.getAttribute('data-people')).toBe('2');
      expect(await chart.getAttribute('data-purposes')).toBe(
        'analytics|personalisation|advertising|sale_sharing',
      );
      await expect.poll(() => chart.locator('svg path.recharts-line-curve').count()).toBe(4);

      const figure = (purpose: string) =>
        page.locator(`[data-testid="consent-figure"][data-purpose="${purpose}"]`);
      // Ada grants analytics, Bob refused it; nobody chose personalisation (default granted); only Ada granted
      // advertising (default denied); nobody granted sale and sharing, and Bob's GPC denies it.
      expect(await figure('analytics').getAttribute('data-share')).toBe('50.0');
      expect(await figure('personalisation').getAttribute('data-share')).toBe('100.0');
      expect(await figure('advertising').getAttribute('data-share')).toBe('50.0');
      expect(await figure('sale_sharing').getAttribute('data-share')).toBe('0.0');
      expect(await figure('analytics').getByTestId('consent-figure-share').textContent()).toBe('50 %');
      expect(await figure('personalisation').getAttribute('data-default')).toBe('granted');
      expect(await figure('advertising').getAttribute('data-default')).toBe('denied');

      const unknown = page.locator('[data-testid="unknown-category"][data-category="C0004"]');
      await expect.poll(() => unknown.count()).toBe(1);
      expect(Number(await unknown.getAttribute('data-count'))).toBeGreaterThanOrEqual(1);
      expect(await page.getByTestId('unknown-categories-hint').textContent()).toContain('consent.categories');

      // Over time: three days with Ada alone, then today with Bob too.
      const rows = await page
        .getByTestId('consent-chart-row')
        .evaluateAll((nodes) =>
          nodes.map((node) => `${node.getAttribute('data-people')}:${node.getAttribute('data-shares')}`),
        );
      expect(rows).toEqual([
        '1:100.0|100.0|100.0|0.0',
        '1:100.0|100.0|100.0|0.0',
        '1:100.0|100.0|100.0|0.0',
        '2:50.0|100.0|50.0|0.0',
      ]);
      await page.getByTestId('interval-week').click();
      await expect.poll(() => chart.getAttribute('data-interval')).toBe('week');
      await expect.poll(() => chart.getAttribute('data-people')).toBe('2');
      expect(await figure('analytics').getAttribute('data-share')).toBe('50.0');
    });

    it('files an access and an erasure request, carries out one, refuses the other, and shows the deadlines', async () => {
      const page = await openDashboard(privacyKey, 'privacy');
      await expect.poll(() => page.getByTestId('open-requests-empty').count()).toBe(1);

      const file = async (kind: string, idType: string, id: string) => {
        const outcome = page.getByTestId('privacy-outcome');
        const before = (await outcome.count()) > 0 ? await outcome.getAttribute('data-request-id') : null;
        await page.getByTestId('request-kind').selectOption(kind);
        await page.getByTestId('request-id-type').selectOption(idType);
        await page.getByTestId('request-id').fill(id);
        await page.getByTestId('request-queue').check();
        await page.getByTestId('request-submit').click();
        await expect.poll(() => outcome.getAttribute('data-request-id')).not.toBe(before);
        expect(await outcome.textContent()).toContain('is queued');
        return (await outcome.getAttribute('data-request-id')) ?? '';
      };
      const accessId = await file('access', 'email', 'ada@example.com');
      const eraseId = await file('erase', 'userId', 'bob');
      const row = (id: string) => page.locator(`[data-testid="privacy-request"][data-id="${id}"]`);

      await expect
        .poll(() => page.getByTestId('open-requests').getByTestId('privacy-request').count())
        .toBe(2);
      for (const id of [accessId, eraseId]) {
        expect(await row(id).getAttribute('data-status')).toBe('open');
        expect(await row(id).getAttribute('data-overdue')).toBe('false');
        const dueAt = Date.parse(
          (await row(id).getByTestId('request-due').getAttribute('data-due-at')) ?? '',
        );
        // The workspace default: a month to answer.
        expect(Math.round((dueAt - Date.now()) / DAY_MS)).toBe(30);
        expect(await row(id).getByTestId('request-due').textContent()).toMatch(/due in (29|30) days/);
      }
      // The subject is shown masked, never as the address that was typed.
      expect(await row(accessId).getByTestId('request-subject').textContent()).not.toContain(
        'ada@example.com',
      );

      // Carry out the access request: it closes with its counts and a bundle to download.
      await row(accessId).getByTestId('request-run').click();
      await expect.poll(() => row(accessId).getAttribute('data-status')).toBe('done');
      expect(await page.getByTestId('closed-requests').getByTestId('privacy-request').count()).toBe(1);
      // One CSV per part of the bundle, each with its row count: Ada's two orders and her other events.
      const events = row(accessId).locator('[data-testid="bundle-csv"][data-part="events"]');
      expect(Number(await events.getAttribute('data-rows'))).toBe(4);
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        row(accessId).getByTestId('bundle-json').click(),
      ]);
      const bundle = readFileSync((await download.path()) ?? '', 'utf8');
      expect(bundle).toContain('Ada@Example.com');
      expect(bundle).not.toContain('bob@example.com');
      const [csv] = await Promise.all([page.waitForEvent('download'), events.click()]);
      expect(csv.suggestedFilename()).toBe(`${accessId}-events.csv`);
      const lines = readFileSync((await csv.path()) ?? '', 'utf8')
        .trim()
        .split('\n');
      // A header and one line per event.
      expect(lines).toHaveLength(5);
      expect(lines.join('\n')).toContain('Order Completed');

      // Refuse the erasure, with a reason.
      await row(eraseId).getByTestId('request-refuse').click();
      await row(eraseId).getByTestId('request-refuse-reason').fill('identity not verified');
      await row(eraseId).getByTestId('request-refuse-confirm').click();
      await expect.poll(() => row(eraseId).getAttribute('data-status')).toBe('refused');
      await expect.poll(() => page.getByTestId('open-requests-empty').count()).toBe(1);
      expect(await row(eraseId).textContent()).toContain('identity not verified');

      // The server agrees with what the page shows.
      const done = await api('/v1/privacy/requests?status=done', privacyKey);
      expect((done.body.requests as { id: string }[]).map((r) => r.id)).toEqual([accessId]);
      const refused = await api('/v1/privacy/requests?status=refused', privacyKey);
      expect((refused.body.requests as { id: string }[]).map((r) => r.id)).toEqual([eraseId]);
      // Bob was not erased.
      expect((await api('/v1/profiles/user_id:bob')).status).toBe(200);
    });

    // On ClickHouse the erasure waits up to 30 s for the old parts to be removed from disk.
    it('asks before an erasure carried out at once, then shows what it deleted', async () => {
      const page = await openDashboard(privacyKey, 'privacy');
      await page.getByTestId('request-kind').selectOption('erase');
      await page.getByTestId('request-id-type').selectOption('userId');
      await page.getByTestId('request-id').fill('bob');
      await page.getByTestId('request-run-now').check();
      await page.getByTestId('request-submit').click();
      // The first click only asks.
      await expect.poll(() => page.getByTestId('request-submit-confirm').count()).toBe(1);
      expect((await api('/v1/privacy/requests?status=done', privacyKey)).body.requests).toHaveLength(1);
      await page.getByTestId('request-submit-confirm').click();
      const outcome = page.getByTestId('privacy-outcome');
      await expect.poll(() => outcome.textContent()).toContain('was carried out');
      const id = (await outcome.getAttribute('data-request-id')) ?? '';
      const row = page.locator(`[data-testid="privacy-request"][data-id="${id}"]`);
      await expect.poll(() => row.getAttribute('data-status')).toBe('done');
      const deleted = Object.fromEntries(
        await row
          .getByTestId('request-result-count')
          .evaluateAll((nodes) =>
            nodes.map((node) => [node.getAttribute('data-name'), Number(node.getAttribute('data-count'))]),
          ),
      ) as Record<string, number>;
      // Bob's identify and his order, from the engine's event table.
      expect(deleted.event_log ?? deleted.events).toBe(2);
      expect((await api('/v1/profiles/user_id:bob')).status).toBe(404);
    }, 120_000);

    it('puts an overdue request first and marks it, with how long it is overdue', async () => {
      // A request received 40 days ago, before this workspace's dashboard was looked at: recorded directly in
      // the store, since the API stamps requests with the current time.
      const received = new Date(START - 40 * DAY_MS);
      await ws.server.store.privacy.insert({
        id: 'pr_00000000000000aa',
        kind: 'access',
        subject: 'user_id:ca…ol',
        subjectHashes: [],
        personId: null,
        purpose: null,
        status: 'open',
        receivedAt: received.toISOString(),
        dueAt: new Date(received.getTime() + 30 * DAY_MS).toISOString(),
        completedAt: null,
        actor: 'test',
        result: null,
      });
      const page = await openDashboard(privacyKey, 'privacy');
      await page.getByTestId('request-kind').selectOption('object');
      await page.getByTestId('request-purpose').selectOption('advertising');
      await page.getByTestId('request-id-type').selectOption('userId');
      await page.getByTestId('request-id').fill('ada');
      await page.getByTestId('request-submit').click();
      const rows = page.getByTestId('open-requests').getByTestId('privacy-request');
      await expect.poll(() => rows.count()).toBe(2);
      const first = rows.first();
      expect(await first.getAttribute('data-id')).toBe('pr_00000000000000aa');
      expect(await first.getAttribute('data-overdue')).toBe('true');
      expect(await first.getAttribute('class')).toContain('row-overdue');
      expect(await first.getByTestId('request-status').textContent()).toBe('overdue');
      expect(await first.getByTestId('request-due').textContent()).toContain('10 days overdue');
      expect(await rows.nth(1).getAttribute('data-kind')).toBe('object');
      expect(await rows.nth(1).getAttribute('data-overdue')).toBe('false');
      expect(await page.getByTestId('panel-open-requests').textContent()).toContain('1 overdue');
    });

    it("files a privacy request from a person's profile, naming them by their user id", async () => {
      const page = await openDashboard(ws.adminKey, 'profiles');
      await lookUp(page, 'email', 'ada@example.com');
      await page.getByTestId('profile-privacy-request').click();
      const form = page.getByTestId('profile-request-form');
      expect(await form.getByTestId('request-subject').textContent()).toBe('User id: ada');
      await form.getByTestId('request-kind').selectOption('access');
      await form.getByTestId('request-submit').click();
      const filed = page.getByTestId('profile-request-filed');
      await expect.poll(() => filed.count()).toBe(1);
      const id = await filed.getAttribute('data-request-id');
      const personId = await page.getByTestId('profile-view').getAttribute('data-person-id');
      const open = (await api('/v1/privacy/requests?status=open')).body.requests as {
        id: string;
        kind: string;
        personId: string | null;
      }[];
      expect(open.find((request) => request.id === id)).toMatchObject({ kind: 'access', personId });
    });
  },
);

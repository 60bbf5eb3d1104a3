import RudderAnalytics from '@rudderstack/rudder-sdk-node';
import { Analytics } from '@segment/analytics-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, startTestWorkspace, type TestWorkspace } from '../helpers/test-workspace.js';

// Real SDK clients over a real loopback socket: if their paths, auth or body shapes ever stop matching
// what Refinery accepts, these tests fail.
let ws: TestWorkspace;

beforeAll(async () => {
  ws = await startTestWorkspace();
});
afterAll(async () => {
  await ws.close();
});

describe('official SDK clients pointed at Refinery', () => {
  it('stores what @segment/analytics-node sends, every call type', async () => {
    const analytics = new Analytics({
      writeKey: ws.writeKey,
      host: ws.server.url,
      flushAt: 5,
      maxRetries: 1,
    });
    const failures: unknown[] = [];
    analytics.on('error', (error) => failures.push(error));
    analytics.identify({ userId: 'seg-user', traits: { email: 'seg@example.com', plan: 'pro' } });
    analytics.track({
      userId: 'seg-user',
      event: 'Product Viewed',
      properties: { product_id: 'p1', price: 3.2 },
    });
    analytics.page({ anonymousId: 'seg-anon', name: 'Home', properties: { path: '/' } });
    analytics.screen({ userId: 'seg-user', name: 'Basket' });
    analytics.group({ userId: 'seg-user', groupId: 'bakers-guild', traits: { name: 'Guild' } });
    analytics.alias({ userId: 'seg-user', previousId: 'seg-anon' });
    await analytics.closeAndFlush({ timeout: 10_000 });
    expect(failures).toEqual([]);
    await ws.drain();
    const rows = await ws.rows<{ type: string; event: string | null; name: string | null; context: string }>(
      `SELECT type, event, name, context FROM events
       WHERE user_id = 'seg-user' OR anonymous_id = 'seg-anon' ORDER BY type`,
    );
    expect(rows.map((r) => r.type)).toEqual(['alias', 'group', 'identify', 'page', 'screen', 'track']);
    const track = rows.find((r) => r.type === 'track')!;
    expect(track.event).toBe('Product Viewed');
    expect(JSON.parse(track.context).library.name).toBe('@segment/analytics-node');
    const [identify] = await ws.rows<{ traits: string }>(
      "SELECT traits FROM events WHERE type = 'identify' AND user_id = 'seg-user'",
    );
    // Stored sealed with the person's key; the profile opens it for a key that may read personal data.
    const stored = JSON.parse(identify!.traits);
    expect(stored.email).toMatch(/^rfy1:/);
    expect(stored.plan).toBe('pro');
    const profile = await fetch(`${ws.server.url}/v1/profiles/seg-user`, {
      headers: { authorization: basicAuth(ws.adminKey) },
    });
    expect(((await profile.json()) as { traits: Record<string, unknown> }).traits.email).toBe(
      'seg@example.com',
    );
  });

  it('stores what @rudderstack/rudder-sdk-node sends (gzip batches)', async () => {
    const client = new RudderAnalytics(ws.writeKey, {
      dataPlaneUrl: ws.server.url,
      flushAt: 3,
      logLevel: 'error',
    });
    client.identify({ userId: 'rudder-user', traits: { email: 'r@example.com' } });
    client.track({ userId: 'rudder-user', event: 'Cart Viewed', properties: { items: 2 } });
    client.page({ userId: 'rudder-user', name: 'Checkout' });
    await new Promise<void>((resolve, reject) =>
      client.flush((error?: Error) => (error ? reject(error) : resolve())),
    );
    await ws.drain();
    const rows = await ws.rows<{ type: string; extra: string }>(
      "SELECT type, extra FROM events WHERE user_id = 'rudder-user' ORDER BY type",
    );
    expect(rows.map((r) => r.type)).toEqual(['identify', 'page', 'track']);
    expect(JSON.parse(rows[0]!.extra).channel).toBe('server');
  });
});

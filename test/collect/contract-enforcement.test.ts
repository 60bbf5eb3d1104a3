import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, startTestWorkspace, type TestWorkspace } from '../helpers/test-workspace.js';

// An enforced contract for orders, a warn-mode one for product views, and undeclared events quarantined.
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
      - name: email
        logicalType: string
        classification: PII
        logicalTypeOptions:
          format: email
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
  - name: identify
    physicalType: identify
    properties:
      - name: email
        logicalType: string
        logicalTypeOptions:
          format: email
`;

let ws: TestWorkspace;

beforeAll(async () => {
  ws = await startTestWorkspace({
    yamlExtra: 'contracts:\n  undeclared: quarantine\n  reloadIntervalMs: 0',
    contracts: { 'shop.odcs.yaml': SHOP_CONTRACT },
  });
});
afterAll(async () => {
  await ws.close();
});

function post(url: string, body: unknown) {
  return ws.server.app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json', authorization: basicAuth(ws.writeKey) },
    payload: JSON.stringify(body),
  });
}

function admin(method: 'GET' | 'POST', url: string, body?: unknown) {
  return ws.server.app.inject({
    method,
    url,
    headers: {
      authorization: `Bearer ${ws.adminKey}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  });
}

const order = (id: string, properties: Record<string, unknown>) => ({
  type: 'track',
  event: 'Order Completed',
  userId: 'u1',
  messageId: id,
  properties,
});

describe('contract enforcement at ingest', () => {
  it('quarantines violating events, flags warn-mode ones, and says why in the response', async () => {
    const response = await post('/v1/batch', {
      batch: [
        order('ok-1', { order_id: 'A1', total: 10, currency: 'EUR' }),
        order('bad-1', { total: -3, currency: 'GBP', email: 'not-an-email' }),
        { type: 'track', event: 'Product Viewed', userId: 'u1', messageId: 'warn-1', properties: {} },
        { type: 'track', event: 'Mystery Event', userId: 'u1', messageId: 'undeclared-1' },
        { type: 'identify', userId: 'u1', messageId: 'id-1', traits: { email: 'ann@example.com' } },
      ],
    });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.success).toBe(true);
    expect(body.accepted).toBe(3);
    expect(body.flagged).toBe(1);
    expect(body.quarantined.map((q: { messageId: string }) => q.messageId)).toEqual([
      'bad-1',
      'undeclared-1',
    ]);
    const bad = body.quarantined[0];
    expect(bad.contract).toBe('shop-events');
    const rules = bad.violations.map((v: { path: string; rule: string }) => `${v.path}:${v.rule}`).sort();
    expect(rules).toEqual([
      'properties.currency:validValues',
      'properties.email:format',
      'properties.order_id:required',
      'properties.total:minimum',
    ]);
    // The offending value is excerpted, except for a field classified as personal data.
    const byPath = Object.fromEntries(bad.violations.map((v: { path: string }) => [v.path, v]));
    expect(byPath['properties.total'].value).toBe('-3');
    expect(byPath['properties.email'].value).not.toContain('not-an-email');
    expect(body.quarantined[1].violations[0].rule).toBe('undeclared');
  });

  it('keeps every held event with its payload, and counts add up', async () => {
    await ws.drain();
    const stored = await ws.rows<{ message_id: string }>('SELECT message_id FROM events ORDER BY message_id');
    expect(stored.map((r) => r.message_id)).toEqual(['id-1', 'ok-1', 'warn-1']);
    const list = (await admin('GET', '/v1/quarantine')).json();
    expect(list.items.map((i: { id: string }) => i.id).sort()).toEqual(['bad-1', 'undeclared-1']);
    expect(list.counts).toEqual([{ status: 'held', count: 2 }]);
    const one = (await admin('GET', '/v1/quarantine/bad-1')).json();
    expect(one.payload.properties).toEqual({ total: -3, currency: 'GBP', email: 'not-an-email' });
    expect(one.status).toBe('held');
    const received = 5;
    expect(stored.length + list.items.length).toBe(received);
    const stats = (await admin('GET', '/v1/stats')).json();
    expect(stats.ingest.receivedTotal).toBe(
      stats.ingest.acceptedTotal + stats.ingest.quarantinedTotal + stats.ingest.rejectedTotal,
    );
    expect(stats.ingest.quarantinedTotal).toBe(2);
  });

  it('records violations of flagged and quarantined events for rates and top lists', async () => {
    const top = (await admin('GET', '/v1/contracts/violations/top')).json();
    const keys = top.items.map(
      (i: { event: string; path: string; rule: string }) => `${i.event}|${i.path}|${i.rule}`,
    );
    expect(keys).toContain('Product Viewed|properties.sku|required');
    expect(keys).toContain('Order Completed|properties.total|minimum');
    const timeline = (await admin('GET', '/v1/contracts/violations/timeline?interval=hour')).json();
    const orders = timeline.points.find((p: { event: string }) => p.event === 'Order Completed');
    expect(orders).toMatchObject({ received: 2, quarantined: 1, flagged: 0, rate: 0.5 });
    const views = timeline.points.find((p: { event: string }) => p.event === 'Product Viewed');
    expect(views).toMatchObject({ received: 1, flagged: 1, rate: 1 });
  });

  it('keeps neither the write key nor an IP the policy would not store in a held payload', async () => {
    const response = await post('/v1/track', {
      writeKey: ws.writeKey,
      event: 'Order Completed',
      userId: 'u9',
      messageId: 'held-private',
      properties: {},
      context: { ip: '198.51.100.23' },
    });
    expect(response.json().quarantined).toHaveLength(1);
    await ws.drain();
    const held = (await admin('GET', '/v1/quarantine/held-private')).json();
    expect(held.payload.writeKey).toBeUndefined();
    expect(held.payload.context.ip).toBe(held.ip);
    const stored = (await admin('POST', '/v1/quarantine/discard', { ids: ['held-private'] })).json();
    expect(stored).toEqual({ discarded: 1 });
  });

  it('stores a retried held event once in quarantine', async () => {
    await post('/v1/batch', {
      batch: [order('bad-1', { total: -3, currency: 'GBP', email: 'not-an-email' })],
    });
    await ws.drain();
    const list = (await admin('GET', '/v1/quarantine?status=held')).json();
    expect(list.items.filter((i: { id: string }) => i.id === 'bad-1')).toHaveLength(1);
  });

  it('replays nothing while the contract still fails, then replays after the contract is fixed', async () => {
    const before = (await admin('POST', '/v1/quarantine/replay', { ids: ['bad-1'] })).json();
    expect(before).toMatchObject({ selected: 1, replayed: 0 });
    expect(before.stillFailing[0].id).toBe('bad-1');

    // The team decides refunds may be negative and GBP is fine; order_id stays required, so a fix of the
    // data is still needed: replay with a corrected payload.
    writeFileSync(
      join(ws.dir, 'contracts', 'shop.odcs.yaml'),
      SHOP_CONTRACT.replace('          minimum: 0\n', '          minimum: -1000\n').replace(
        'validValues: [EUR, USD]',
        'validValues: [EUR, USD, GBP]',
      ),
    );
    (await admin('POST', '/v1/contracts/reload')).json();
    const stillMissing = (await admin('POST', '/v1/quarantine/replay', { ids: ['bad-1'] })).json();
    expect(stillMissing.stillFailing[0].violations.map((v: { rule: string }) => v.rule).sort()).toEqual([
      'format',
      'required',
    ]);
    const fixed = (
      await admin('POST', '/v1/quarantine/replay', {
        ids: ['bad-1'],
        fixes: [{ id: 'bad-1', payload: order('bad-1', { order_id: 'A2', total: -3, currency: 'GBP' }) }],
      })
    ).json();
    expect(fixed).toMatchObject({ selected: 1, replayed: 1, alreadyStored: 0 });
    const rows = await ws.rows<{ properties: string }>(
      "SELECT properties FROM events WHERE message_id = 'bad-1'",
    );
    expect(rows).toHaveLength(1);
    expect(JSON.parse(String(rows[0]!.properties))).toEqual({ order_id: 'A2', total: -3, currency: 'GBP' });
    const after = (await admin('GET', '/v1/quarantine/bad-1')).json();
    expect(after.status).toBe('replayed');
    // Orders so far: ok-1 (stored), bad-1 (held, now replayed and stored), held-private (held). The
    // replayed order was received once: it is not counted again now that it is stored.
    const timeline = (await admin('GET', '/v1/contracts/violations/timeline?interval=hour')).json();
    expect(timeline.points.find((p: { event: string }) => p.event === 'Order Completed')).toMatchObject({
      received: 3,
      quarantined: 2,
    });
    // A second replay finds nothing held.
    expect((await admin('POST', '/v1/quarantine/replay', { ids: ['bad-1'] })).json()).toMatchObject({
      selected: 0,
    });
  });

  it('discards a held event, keeping it on record', async () => {
    const result = (await admin('POST', '/v1/quarantine/discard', { ids: ['undeclared-1'] })).json();
    expect(result).toEqual({ discarded: 1 });
    const entry = (await admin('GET', '/v1/quarantine/undeclared-1')).json();
    expect(entry.status).toBe('discarded');
    expect((await admin('GET', '/v1/quarantine?status=held')).json().items).toEqual([]);
  });

  it('only reports what a dry-run discard would do', async () => {
    const held = (await admin('GET', '/v1/quarantine?status=held')).json().items.length;
    const result = (await admin('POST', '/v1/quarantine/discard', { all: true, dryRun: true })).json();
    expect(result).toEqual({ discarded: 0, wouldDiscard: held, dryRun: true });
    expect((await admin('GET', '/v1/quarantine?status=held')).json().items).toHaveLength(held);
  });

  it('refuses a decision that does not say which events', async () => {
    const response = await admin('POST', '/v1/quarantine/replay', {});
    expect(response.statusCode).toBe(400);
    expect(response.json().code).toBe('REFINERY_ERR_MISSING_FIELD');
    // A status alone does not say which events either.
    const statusOnly = await admin('POST', '/v1/quarantine/discard', { filter: { status: 'held' } });
    expect(statusOnly.statusCode).toBe(400);
  });

  it('keeps the last good contracts when a reload finds a broken file', async () => {
    writeFileSync(join(ws.dir, 'contracts', 'broken.odcs.yaml'), 'apiVersion: v3.1.0\nkind: DataContract\n');
    const response = await admin('POST', '/v1/contracts/reload');
    expect(response.statusCode).toBe(400);
    expect(response.json().code).toBe('REFINERY_ERR_CONTRACT_INVALID');
    expect(response.json().message).toContain('broken.odcs.yaml');
    const listed = (await admin('GET', '/v1/contracts')).json();
    expect(listed.contracts.map((c: { id: string }) => c.id)).toEqual(['shop-events']);
    expect(listed.load.error.code).toBe('REFINERY_ERR_CONTRACT_INVALID');
    // Enforcement continues with the previous set.
    const held = (await post('/v1/track', { event: 'Order Completed', userId: 'u2', properties: {} })).json();
    expect(held.quarantined).toHaveLength(1);
  });
});

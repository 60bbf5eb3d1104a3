import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/access/api-keys.js';
import { segmentName } from '../../src/collect/wal/segment-files.js';
import { decryptField } from '../../src/privacy/vault/field-envelope.js';
import { type RunningServer, startServer } from '../../src/runtime/server-runtime.js';
import { QUERYABLE_RELATIONS } from '../../src/store/public-relations.js';
import { initWorkspace } from '../../src/workspace/init-workspace.js';
import {
  type ClickHouseCluster,
  type ClickHouseProcess,
  hasClickHouse,
  startClickHouse,
  startClickHouseCluster,
} from '../helpers/clickhouse-server.js';
import { basicAuth } from '../helpers/test-workspace.js';

const engines = hasClickHouse
  ? (['duckdb', 'clickhouse', 'clickhouse-cluster'] as const)
  : (['duckdb'] as const);
if (!hasClickHouse)
  console.warn('erasure search: clickhouse-server is not installed, running on DuckDB only');

/** Letters that never occur in Refinery's own output, so a hit can only be the person's value. */
function unique(prefix: string): string {
  return `${prefix}${randomBytes(9).toString('base64url').replace(/[-_]/g, 'Q')}`;
}

/** Every file under `dir` whose bytes contain `needle` (UTF-8). */
function filesContaining(dir: string, needle: string): string[] {
  const bytes = Buffer.from(needle, 'utf8');
  const hits: string[] = [];
  const walk = (folder: string) => {
    for (const name of readdirSync(folder)) {
      const path = join(folder, name);
      const stat = statSync(path, { throwIfNoEntry: false });
      if (!stat) continue;
      if (stat.isDirectory()) walk(path);
      else if (stat.isFile() && readFileSync(path).includes(bytes)) hits.push(path);
    }
  };
  walk(dir);
  return hits;
}

/**
 * A ClickHouse for this test only. Its settings make the search meaningful without changing Refinery's defaults:
 * `compression none` stores values as plain bytes, so the positive control (the other person's id is found)
 * proves the search sees through the storage format; `old_parts_lifetime 1` lets the server delete the parts a
 * mutation replaced within seconds instead of eight minutes, the wait the erasure reports.
 */
async function startSearchableClickHouse(): Promise<ClickHouseProcess> {
  const clickhouse = await startClickHouse();
  await makeSearchable(clickhouse);
  return clickhouse;
}

/** The same settings on every node of a two-shard cluster, where mutations run on each node's local tables. */
async function startSearchableCluster(): Promise<ClickHouseCluster> {
  const cluster = await startClickHouseCluster(2, { clusterName: 'refinery' });
  for (const node of cluster.nodes) await makeSearchable(node);
  return cluster;
}

async function makeSearchable(clickhouse: ClickHouseProcess): Promise<void> {
  mkdirSync(join(clickhouse.dir, 'config.d'), { recursive: true });
  writeFileSync(
    join(clickhouse.dir, 'config.d', 'erasure-test.xml'),
    `<?xml version="1.0"?>
<yandex>
  <merge_tree><old_parts_lifetime>1</old_parts_lifetime></merge_tree>
  <compression><case><min_part_size>0</min_part_size><min_part_size_ratio>0</min_part_size_ratio><method>none</method></case></compression>
</yandex>
`,
  );
  await clickhouse.restart();
}

/** A request line as the collector writes it, with its checksum, then one byte of `flip` changed on disk. */
function checksummedLineFlipped(body: Record<string, unknown>, flip: string): string {
  const line = JSON.stringify({
    k: 'q',
    rid: unique('rid'),
    received_at: '2026-03-01T09:00:00.000Z',
    source: 'web',
    implied_type: 'track',
    body,
    ua: null,
    ip_of: [null],
    agent_of: [null],
    agents: [],
    skip: [],
    extra_of: [],
  });
  const stored = `${line.slice(0, -1)},"#":"${crc32(line).toString(16).padStart(8, '0')}"}`;
  const at = stored.indexOf(flip);
  return `${stored.slice(0, at)}X${stored.slice(at + 1)}`;
}

describe.each(engines)('erasure on %s', (engine) => {
  const alice = {
    userId: unique('ALUSR'),
    anonymousId: unique('ALANON'),
    email: `${unique('almail').toLowerCase()}@example.org`,
  };
  const bob = { userId: unique('BOBUSR'), note: unique('BOBNOTE') };
  const guestEmail = `${unique('guest').toLowerCase()}@example.org`;
  let dir: string;
  let clickhouse: ClickHouseProcess | undefined;
  let cluster: ClickHouseCluster | undefined;
  let server: RunningServer;
  let writeKey: string;
  let privacyKey: string;
  let adminKey: string;
  let erasure: Record<string, unknown>;
  const sealedOrderEmails = new Map<string, string>();
  let ordersAfter: unknown[];
  let damagedAfter: string[];
  let openedAfter: Record<string, unknown>;
  let profileAfter: number;
  const unreadable: string[] = [];

  async function send(batch: Record<string, unknown>[]): Promise<void> {
    const response = await server.app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: { authorization: basicAuth(writeKey), 'content-type': 'application/json' },
      payload: JSON.stringify({ batch }),
    });
    expect(response.statusCode).toBe(200);
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'refinery-erasure-'));
    initWorkspace(dir, { name: 'erasure' });
    // The log as a crash and disk damage leave it, read at start: two lines of Alice's (her ids in clear) and one
    // of Bob's are set aside by the loader, kept with their bytes until someone replays or discards them.
    const wal = join(dir, 'data', 'wal');
    mkdirSync(wal, { recursive: true });
    writeFileSync(
      join(wal, segmentName(1, true)),
      [
        checksummedLineFlipped(
          { userId: alice.userId, anonymousId: alice.anonymousId, event: 'Flipped' },
          'Flipped',
        ),
        checksummedLineFlipped(
          { userId: bob.userId, event: 'Flipped', properties: { note: bob.note } },
          'Flipped',
        ),
        `{"k":"q","rid":"torn","body":{"type":"page","anonymousId":"${alice.anonymousId}`,
      ].join('\n'),
    );
    // DuckDB has no per-workspace compression setting; the events below are few and short, so DuckDB stores
    // them uncompressed or as a plain dictionary, which the positive control checks.
    clickhouse = engine === 'clickhouse' ? await startSearchableClickHouse() : undefined;
    cluster = engine === 'clickhouse-cluster' ? await startSearchableCluster() : undefined;
    const nodes = cluster?.nodes.map((node) => node.httpUrl.replace('http://', '')).join(',');
    server = await startServer({
      dir,
      storeUrl: clickhouse
        ? `clickhouse://127.0.0.1:${clickhouse.httpPort}/erasure`
        : cluster
          ? `clickhouse://127.0.0.1:${cluster.nodes[0]!.httpPort}/erasure?cluster=refinery&nodes=${nodes}`
          : undefined,
      port: 0,
      host: '127.0.0.1',
      onLoaderError: () => undefined,
    });
    writeKey = (await createApiKey(server.store, { kind: 'write', source: server.config.sources[0]!.name }))
      .key;
    privacyKey = (await createApiKey(server.store, { kind: 'privacy', name: 'dpo' })).key;
    adminKey = (await createApiKey(server.store, { kind: 'admin', name: 'ops' })).key;
    const admin = (method: 'GET' | 'POST', url: string, payload?: string, type = 'application/json') =>
      server.app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${adminKey}`, ...(payload ? { 'content-type': type } : {}) },
        ...(payload ? { payload } : {}),
      });
    // Order lines known only by an email (a guest checkout): sealed with the key of their email's keyed hash.
    const imported = await admin(
      'POST',
      '/v1/imports?as=orders&fileName=orders.csv',
      [
        'order_id,ordered_at,customer_id,email,product_id,quantity,unit_price',
        `o-alice,2026-01-02T10:00:00Z,,${alice.email},p1,1,2.00`,
        `o-guest,2026-01-03T10:00:00Z,,${guestEmail},p2,1,3.00`,
        '',
      ].join('\n'),
      'application/octet-stream',
    );
    expect(imported.statusCode, imported.body).toBe(200);
    const orders = async () => {
      const answer = await admin(
        'POST',
        '/v1/query',
        JSON.stringify({ sql: 'SELECT order_id, email FROM orders ORDER BY order_id' }),
      );
      expect(answer.statusCode, answer.body).toBe(200);
      return answer.json().rows as { order_id: string; email: string }[];
    };
    for (const row of await orders()) sealedOrderEmails.set(row.order_id, row.email);
    const at = '2026-03-01T09:00:00.000Z';
    await send([
      { type: 'page', anonymousId: alice.anonymousId, name: 'Home', timestamp: at },
      {
        type: 'identify',
        userId: alice.userId,
        anonymousId: alice.anonymousId,
        traits: { email: alice.email, phone: '+44 20 7946 0123', name: 'Alice Example', plan: 'basic' },
        timestamp: at,
      },
      { type: 'alias', userId: alice.userId, previousId: alice.anonymousId, timestamp: at },
      {
        type: 'track',
        userId: alice.userId,
        event: 'Order Completed',
        properties: { order_id: 'o-1', total: 12.5, email: alice.email },
        timestamp: at,
      },
      // No event name: rejected, and the reject keeps the payload with the user id.
      { type: 'track', userId: alice.userId, properties: { email: alice.email }, timestamp: at },
      {
        type: 'identify',
        userId: bob.userId,
        traits: { plan: 'premium' },
        context: { page: { title: bob.note } },
        timestamp: at,
      },
      {
        type: 'track',
        userId: bob.userId,
        event: 'Product Viewed',
        properties: { note: bob.note },
        timestamp: at,
      },
    ]);
    await server.loader.drain();
    // A consent change and a profile read before the erasure: both go to the append-only audit log, which must
    // name the person without their ids.
    const consent = await server.app.inject({
      method: 'POST',
      url: '/v1/consent',
      headers: { authorization: `Bearer ${privacyKey}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ userId: alice.userId, purposes: { advertising: false } }),
    });
    expect(consent.statusCode).toBe(202);
    const read = await server.app.inject({
      method: 'GET',
      url: `/v1/profiles/${encodeURIComponent(`user_id:${alice.userId}`)}`,
      headers: { authorization: `Bearer ${privacyKey}` },
    });
    expect(read.statusCode).toBe(200);
    await server.loader.drain();

    const created = await server.app.inject({
      method: 'POST',
      url: '/v1/privacy/requests',
      headers: { authorization: `Bearer ${privacyKey}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ kind: 'erase', userId: alice.userId }),
    });
    expect(created.statusCode).toBe(201);
    erasure = created.json().request;

    // The same person arriving again is dropped, and nobody is known by their id any more.
    await send([{ type: 'track', userId: alice.userId, event: 'Came Back', timestamp: at }]);
    await server.loader.drain();
    profileAfter = (
      await server.app.inject({
        method: 'GET',
        url: `/v1/profiles/${encodeURIComponent(`user_id:${alice.userId}`)}`,
        headers: { authorization: `Bearer ${privacyKey}` },
      })
    ).statusCode;
    ordersAfter = (await orders()).map((row) => row.order_id);
    const damaged = await admin('GET', '/v1/wal/damaged?limit=100');
    expect(damaged.statusCode, damaged.body).toBe(200);
    damagedAfter = [];
    for (const line of damaged.json().items as { id: string }[]) {
      const full = await admin('GET', `/v1/wal/damaged/${encodeURIComponent(line.id)}`);
      damagedAfter.push(full.json().text as string);
    }
    await server.privacy.vault.refresh();
    openedAfter = Object.fromEntries(
      [...sealedOrderEmails].map(([order, sealed]) => [
        order,
        decryptField(sealed, server.privacy.vault, 'properties.email'),
      ]),
    );
    // Every public relation still reads after the rewrite (mutated parts on ClickHouse, rebuilt tables on DuckDB).
    for (const relation of QUERYABLE_RELATIONS) {
      await server.store
        .readOnlyQuery(`SELECT * FROM ${relation} LIMIT 5`, { timeoutMs: 30_000, maxRows: 10 })
        .catch((error: unknown) => unreadable.push(`${relation}: ${String(error)}`));
    }
    await server.store.checkpoint();
    await server.close();
  }, 240_000);

  afterAll(async () => {
    await clickhouse?.stop();
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const engineDirs = () => [
    ...(clickhouse ? [clickhouse.dir] : []),
    ...(cluster?.nodes.map((n) => n.dir) ?? []),
  ];
  const searched = () => [dir, ...engineDirs()];

  it('completes the erasure and reports what it deleted', () => {
    expect(erasure.status).toBe('done');
    expect(erasure.personId).toMatch(/^p_/);
    const result = erasure.result as { deleted: Record<string, number>; keysShredded: number };
    expect(Object.keys(result.deleted)).toEqual(expect.arrayContaining(['identity_links']));
    expect(Object.values(result.deleted).reduce((a, b) => a + b, 0)).toBeGreaterThan(4);
    expect(JSON.stringify(erasure)).not.toContain(alice.userId);
  });

  it("finds none of the erased person's email, user id or anonymous id in any file of the data folder or engine", () => {
    const hits = Object.fromEntries(
      [alice.email, alice.userId, alice.anonymousId].map((needle) => [
        needle,
        searched().flatMap((folder) => filesContaining(folder, needle)),
      ]),
    );
    expect(hits).toEqual({ [alice.email]: [], [alice.userId]: [], [alice.anonymousId]: [] });
  });

  it("still finds the other person's user id and a unique string of theirs (the search sees through storage)", () => {
    const store = searched().flatMap((folder) => filesContaining(folder, bob.userId));
    expect(store.length).toBeGreaterThan(0);
    // On ClickHouse the engine's own files must show it, or the search of them would prove nothing.
    if (engine !== 'duckdb') {
      expect(engineDirs().flatMap((folder) => filesContaining(folder, bob.userId)).length).toBeGreaterThan(0);
    }
    expect(searched().flatMap((folder) => filesContaining(folder, bob.note)).length).toBeGreaterThan(0);
  });

  it("deletes the set-aside log lines that hold the erased person's ids, and keeps another person's", () => {
    expect((erasure.result as { deleted: Record<string, number> }).deleted.wal_damaged_lines).toBe(2);
    expect(damagedAfter).toHaveLength(1);
    expect(damagedAfter[0]).toContain(bob.userId);
    for (const id of [alice.userId, alice.anonymousId]) expect(damagedAfter.join('\n')).not.toContain(id);
  });

  it("deletes an imported order line known only by the erased person's email and shreds the key that sealed it", () => {
    expect(sealedOrderEmails.get('o-alice')).toMatch(/^rfy1:/);
    expect(ordersAfter).toEqual(['o-guest']);
    expect(openedAfter['o-alice']).toMatchObject({ status: 'shredded' });
    expect(openedAfter['o-guest']).toEqual({ status: 'ok', value: guestEmail });
  });

  it('leaves every public relation readable after the erasure', () => {
    expect(unreadable).toEqual([]);
  });

  it('drops the erased user id when it arrives again, and no profile answers to it', () => {
    expect(profileAfter).toBe(404);
  });
});

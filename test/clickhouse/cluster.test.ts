import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/access/api-keys.js';
import { type RunningServer, startServer } from '../../src/runtime/server-runtime.js';
import { initWorkspace } from '../../src/workspace/init-workspace.js';
import {
  type ClickHouseCluster,
  hasClickHouse,
  startClickHouseCluster,
} from '../helpers/clickhouse-server.js';
import { basicAuth } from '../helpers/test-workspace.js';

// A real two-shard cluster on loopback (two clickhouse-server processes, one remote_servers config,
// Distributed tables), with a collector in front of each node.
describe.skipIf(!hasClickHouse)(
  'two collectors on a two-shard ClickHouse cluster (needs clickhouse-server)',
  () => {
    let cluster: ClickHouseCluster;
    const folders: string[] = [];
    const collectors: RunningServer[] = [];
    let writeKey: string;

    beforeAll(async () => {
      cluster = await startClickHouseCluster(2, { clusterName: 'refinery' });
      const nodes = cluster.nodes.map((node) => node.httpUrl.replace('http://', '')).join(',');
      for (const node of cluster.nodes) {
        const dir = mkdtempSync(join(tmpdir(), 'refinery-shard-collector-'));
        folders.push(dir);
        initWorkspace(dir, { name: 'shop' });
        const storeUrl = `clickhouse://127.0.0.1:${node.httpPort}/shop?cluster=refinery&nodes=${nodes}`;
        collectors.push(
          await startServer({ dir, storeUrl, port: 0, host: '127.0.0.1', onLoaderError: () => undefined }),
        );
      }
      writeKey = (await createApiKey(collectors[0]!.store, { kind: 'write', source: 'web' })).key;
    }, 60_000);

    afterAll(async () => {
      for (const collector of collectors) await collector.close().catch(() => undefined);
      await cluster?.stop();
      for (const dir of folders) rmSync(dir, { recursive: true, force: true });
    });

    const send = async (collector: RunningServer, ids: string[]) => {
      const response = await fetch(`${collector.url}/v1/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: basicAuth(writeKey) },
        body: JSON.stringify({
          batch: ids.map((messageId, i) => ({
            type: 'track',
            event: i % 2 ? 'Product Viewed' : 'Order Completed',
            userId: `u${i % 7}`,
            messageId,
            timestamp: '2026-11-20T10:00:00.000Z',
          })),
        }),
      });
      expect(response.status).toBe(200);
    };

    const countOn = async (httpUrl: string, sql: string) => {
      const client = createClient({ url: httpUrl, database: 'shop' });
      try {
        const result = await client.query({ query: sql, format: 'JSON' });
        return Number(((await result.json()) as unknown as { data: { n: string }[] }).data[0]!.n);
      } finally {
        await client.close();
      }
    };

    it('spreads the events of both collectors over both shards and answers alike from either node', async () => {
      await send(
        collectors[0]!,
        Array.from({ length: 200 }, (_, i) => `a-${i}`),
      );
      await send(
        collectors[1]!,
        Array.from({ length: 200 }, (_, i) => `b-${i}`),
      );
      // The same batch through both collectors: a retry landing elsewhere is stored once.
      const retried = Array.from({ length: 30 }, (_, i) => `retry-${i}`);
      await send(collectors[0]!, retried);
      await send(collectors[1]!, retried);
      await Promise.all(collectors.map((c) => c.loader.drain()));

      const [first, second] = cluster.nodes;
      const local = [
        await countOn(first!.httpUrl, 'SELECT count() AS n FROM event_log_local FINAL'),
        await countOn(second!.httpUrl, 'SELECT count() AS n FROM event_log_local FINAL'),
      ];
      expect(local[0]).toBeGreaterThan(0);
      expect(local[1]).toBeGreaterThan(0);
      expect(local[0]! + local[1]!).toBe(430);

      for (const collector of collectors) {
        const answer = await collector.store.readOnlyQuery(
          'SELECT event, count(*) AS n, count(DISTINCT user_id) AS users FROM events GROUP BY event ORDER BY event',
          { timeoutMs: 10_000, maxRows: 100 },
        );
        expect(answer.rows).toEqual([
          { event: 'Order Completed', n: 215, users: 7 },
          { event: 'Product Viewed', n: 215, users: 7 },
        ]);
        expect(await collector.store.events.count()).toBe(430);
      }
    });

    it('finds a key created through one node when a request reaches the other', async () => {
      const created = await createApiKey(collectors[1]!.store, {
        kind: 'write',
        source: 'web',
        name: 'second node',
      });
      const found = await collectors[0]!.store.keys.findByHash(
        (await collectors[1]!.store.keys.list()).find((k) => k.id === created.row.id)!.hash,
      );
      expect(found?.name).toBe('second node');
    });
  },
);

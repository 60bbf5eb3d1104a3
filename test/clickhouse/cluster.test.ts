import { createClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/access/api-keys.js';
import type { RunningServer } from '../../src/runtime/server-runtime.js';
import {
  type ClickHouseCluster,
  hasClickHouse,
  startClickHouseCluster,
} from '../helpers/clickhouse-server.js';
import { type Collectors, startCollectors } from '../helpers/collectors.js';

// A real two-shard cluster on loopback (two clickhouse-server processes, one remote_servers config,
// Distributed tables), with a collector in front of each node.
describe.skipIf(!hasClickHouse)(
  'two collectors on a two-shard ClickHouse cluster (needs clickhouse-server)',
  () => {
    let cluster: ClickHouseCluster;
    let collectors: Collectors;

    beforeAll(async () => {
      cluster = await startClickHouseCluster(2, { clusterName: 'refinery' });
      const nodes = cluster.nodes.map((node) => node.httpUrl.replace('http://', '')).join(',');
      collectors = await startCollectors(
        cluster.nodes.map(
          (node) => `clickhouse://127.0.0.1:${node.httpPort}/shop?cluster=refinery&nodes=${nodes}`,
        ),
      );
    }, 60_000);

    afterAll(async () => {
      await collectors?.close();
      await cluster?.stop();
    });

    const send = async (collector: RunningServer, ids: string[]) => {
      expect(await collectors.send(collector, ids)).toBe(200);
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
        collectors.servers[0]!,
        Array.from({ length: 200 }, (_, i) => `a-${i}`),
      );
      await send(
        collectors.servers[1]!,
        Array.from({ length: 200 }, (_, i) => `b-${i}`),
      );
      // The same batch through both collectors: a retry landing elsewhere is stored once.
      const retried = Array.from({ length: 30 }, (_, i) => `retry-${i}`);
      await send(collectors.servers[0]!, retried);
      await send(collectors.servers[1]!, retried);
      await Promise.all(collectors.servers.map((c) => c.loader.drain()));

      const [first, second] = cluster.nodes;
      const local = [
        await countOn(first!.httpUrl, 'SELECT count() AS n FROM event_log_local FINAL'),
        await countOn(second!.httpUrl, 'SELECT count() AS n FROM event_log_local FINAL'),
      ];
      expect(local[0]).toBeGreaterThan(0);
      expect(local[1]).toBeGreaterThan(0);
      expect(local[0]! + local[1]!).toBe(430);

      for (const collector of collectors.servers) {
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
      const created = await createApiKey(collectors.servers[1]!.store, {
        kind: 'write',
        source: 'web',
        name: 'second node',
      });
      const found = await collectors.servers[0]!.store.keys.findByHash(
        (await collectors.servers[1]!.store.keys.list()).find((k) => k.id === created.row.id)!.hash,
      );
      expect(found?.name).toBe('second node');
    });
  },
);

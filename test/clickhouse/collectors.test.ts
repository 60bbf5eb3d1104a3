import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClickHouseProcess, hasClickHouse, startClickHouse } from '../helpers/clickhouse-server.js';
import { type Collectors, startCollectors } from '../helpers/collectors.js';

// Two stateless collectors, each with its own workspace folder and write-ahead log, in front of one real
// ClickHouse: retries sent to both are stored once, and a ClickHouse outage loses nothing acknowledged.
describe.skipIf(!hasClickHouse)(
  'several collectors writing to one ClickHouse (needs clickhouse-server)',
  () => {
    let clickhouse: ClickHouseProcess;
    let collectors: Collectors;

    beforeAll(async () => {
      clickhouse = await startClickHouse();
      const storeUrl = `clickhouse://127.0.0.1:${clickhouse.httpPort}/shop`;
      collectors = await startCollectors([storeUrl, storeUrl]);
    }, 60_000);

    afterAll(async () => {
      await collectors?.close();
      await clickhouse?.stop();
    });

    const drainAll = () => Promise.all(collectors.servers.map((c) => c.loader.drain()));

    const storedIds = async () => {
      const result = await collectors.servers[1]!.store.readOnlyQuery('SELECT message_id FROM events', {
        timeoutMs: 10_000,
        maxRows: 100_000,
      });
      return result.rows.map((row) => String(row.message_id)).sort();
    };

    it('gives each collector its own stream and accepts a key created through the other', async () => {
      const [a, b] = collectors.servers;
      expect(await collectors.send(a!, ['a-1'])).toBe(200);
      expect(await collectors.send(b!, ['b-1'])).toBe(200);
      await drainAll();
      expect(await storedIds()).toEqual(['a-1', 'b-1']);
    });

    it('stores a batch retried through the other collector only once', async () => {
      const [a, b] = collectors.servers;
      const ids = Array.from({ length: 50 }, (_, i) => `retry-${i}`);
      expect(await collectors.send(a!, ids)).toBe(200);
      expect(await collectors.send(b!, ids)).toBe(200);
      await a!.loader.drain();
      await b!.loader.drain();
      // Both at once as well: the replacing merge and FINAL reads collapse what both loaders insert.
      const racing = Array.from({ length: 50 }, (_, i) => `race-${i}`);
      await Promise.all(collectors.servers.map((c) => collectors.send(c, racing)));
      await drainAll();
      const stored = await storedIds();
      expect(stored.filter((id) => id.startsWith('retry-'))).toHaveLength(50);
      expect(stored.filter((id) => id.startsWith('race-'))).toHaveLength(50);
      expect(new Set(stored).size).toBe(stored.length);
    });

    it('keeps acknowledging while ClickHouse is down and loads everything once it is back', async () => {
      await clickhouse.kill();
      const acknowledged: string[] = [];
      for (let round = 0; round < 10; round++) {
        for (const [index, collector] of collectors.servers.entries()) {
          const ids = Array.from({ length: 20 }, (_, i) => `outage-${round}-${index}-${i}`);
          expect(await collectors.send(collector, ids)).toBe(200);
          acknowledged.push(...ids);
        }
      }
      await expect(collectors.servers[0]!.loader.drain()).rejects.toBeDefined();
      await clickhouse.restart();
      await drainAll();
      const stored = await storedIds();
      expect(acknowledged.filter((id) => !stored.includes(id))).toEqual([]);
      expect(stored.filter((id) => id.startsWith('outage-'))).toHaveLength(acknowledged.length);
    });
  },
);

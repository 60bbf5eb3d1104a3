import { type ClickHouseClient, ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ClickHouseCluster,
  type ClickHouseProcess,
  hasClickHouse,
  startClickHouse,
  startClickHouseCluster,
} from '../helpers/clickhouse-server.js';

const suite = hasClickHouse ? describe : describe.skip;
const name = hasClickHouse
  ? 'ClickHouse test harness'
  : 'ClickHouse test harness (skipped: clickhouse-server is not installed)';

// Clients are closed before their servers stop: a server waits for open keep-alive connections on SIGTERM.
const clients: ClickHouseClient[] = [];
async function closeClients(): Promise<void> {
  await Promise.all(clients.splice(0).map((c) => c.close()));
}

function client(server: ClickHouseProcess, user?: { username: string; password: string }): ClickHouseClient {
  const created = createClient({
    url: server.httpUrl,
    log: { level: ClickHouseLogLevel.OFF },
    ...(user ?? {}),
  });
  clients.push(created);
  return created;
}

async function rows<T>(db: ClickHouseClient, query: string): Promise<T[]> {
  const result = await db.query({ query, format: 'JSONEachRow' });
  return result.json<T>();
}

async function count(db: ClickHouseClient, table: string): Promise<number> {
  const [row] = await rows<{ c: string }>(db, `SELECT count() AS c FROM ${table}`);
  return Number(row?.c);
}

suite(name, () => {
  describe('single server', () => {
    let server: ClickHouseProcess;
    let db: ClickHouseClient;

    beforeAll(async () => {
      server = await startClickHouse({ readerDatabases: ['refinery'] });
      db = client(server);
      await db.command({ query: 'CREATE DATABASE refinery' });
      await db.command({ query: 'CREATE DATABASE other' });
      await db.command({
        query: 'CREATE TABLE refinery.t (id UInt32, s String) ENGINE = MergeTree ORDER BY id',
      });
      await db.command({ query: 'CREATE TABLE other.secret (id UInt32) ENGINE = MergeTree ORDER BY id' });
      await db.command({ query: "INSERT INTO refinery.t VALUES (1, 'a'), (2, 'b'), (3, 'c')" });
    });

    afterAll(async () => {
      await closeClients();
      await server?.stop();
    });

    it('answers queries through @clickhouse/client, in UTC', async () => {
      // 18.16 reports the zone as Etc/UTC (and prints DateTime 0 as 0000-00-00 00:00:00).
      const [row] = await rows<{ one: number; tz: string; day: string }>(
        db,
        'SELECT 1 AS one, timezone() AS tz, toString(toDateTime(86400)) AS day',
      );
      expect(row).toEqual({
        one: 1,
        tz: expect.stringMatching(/^(Etc\/)?UTC$/),
        day: '1970-01-02 00:00:00',
      });
      expect(await count(db, 'refinery.t')).toBe(3);
    });

    it('lets the reader SELECT but not INSERT, use table functions or read other databases', async () => {
      const reader = client(server, { username: server.readerUser, password: server.readerPassword });
      expect(await count(reader, 'refinery.t')).toBe(3);
      await expect(reader.command({ query: "INSERT INTO refinery.t VALUES (4, 'd')" })).rejects.toThrow(
        /Code: 164/,
      );
      await expect(rows(reader, "SELECT * FROM file('x.csv', 'CSV', 'a String')")).rejects.toThrow(
        /Code: 164/,
      );
      await expect(rows(reader, 'SELECT * FROM other.secret')).rejects.toThrow(/Code: 291/);
      const wrongPassword = client(server, { username: server.readerUser, password: 'wrong' });
      await expect(rows(wrongPassword, 'SELECT 1')).rejects.toThrow(/Code: 193/);
    });

    it('keeps the data across kill() and restart() on the same port', async () => {
      const pid = server.pid;
      await server.kill();
      expect(server.pid).toBeUndefined();
      await expect(rows(db, 'SELECT 1')).rejects.toThrow();
      await server.restart();
      expect(server.pid).toBeDefined();
      expect(server.pid).not.toBe(pid);
      expect(await count(db, 'refinery.t')).toBe(3);
    });
  });

  describe('two-shard cluster', () => {
    let cluster: ClickHouseCluster;

    beforeAll(async () => {
      cluster = await startClickHouseCluster(2);
    });

    afterAll(async () => {
      await closeClients();
      await cluster?.stop();
    });

    it('spreads a Distributed insert over both shards and counts it from either node', async () => {
      const dbs = cluster.nodes.map((node) => client(node));
      for (const db of dbs) {
        await db.command({
          query: 'CREATE TABLE t_local (id String, n UInt64) ENGINE = MergeTree ORDER BY id',
        });
        await db.command({
          query: `CREATE TABLE t AS t_local ENGINE = Distributed(${cluster.clusterName}, currentDatabase(), t_local, cityHash64(id))`,
        });
      }
      await dbs[0]!.command({
        query: "INSERT INTO t SELECT concat('id', toString(number)), number FROM numbers(1000)",
        clickhouse_settings: { insert_distributed_sync: 1 },
      });
      const locals = await Promise.all(dbs.map((db) => count(db, 't_local')));
      for (const local of locals) expect(local).toBeGreaterThan(0);
      expect(locals.reduce((a, b) => a + b, 0)).toBe(1000);
      for (const db of dbs) expect(await count(db, 't')).toBe(1000);
    });
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/access/api-keys.js';
import { type RunningServer, startServer } from '../../src/runtime/server-runtime.js';
import { initWorkspace } from '../../src/workspace/init-workspace.js';
import { type ClickHouseProcess, hasClickHouse, startClickHouse } from '../helpers/clickhouse-server.js';
import { basicAuth } from '../helpers/test-workspace.js';

// Two stateless collectors, each with its own workspace folder and write-ahead log, in front of one real
// ClickHouse: retries sent to both are stored once, and a ClickHouse outage loses nothing acknowledged.
describe.skipIf(!hasClickHouse)(
  'several collectors writing to one ClickHouse (needs clickhouse-server)',
  () => {
    let clickhouse: ClickHouseProcess;
    const folders: string[] = [];
    const collectors: RunningServer[] = [];
    let writeKey: string;

    beforeAll(async () => {
      clickhouse = await startClickHouse();
      const storeUrl = `clickhouse://127.0.0.1:${clickhouse.httpPort}/shop`;
      for (const name of ['collector-a', 'collector-b']) {
        const dir = mkdtempSync(join(tmpdir(), `refinery-${name}-`));
        folders.push(dir);
        initWorkspace(dir, { name: 'shop' });
        collectors.push(
          await startServer({ dir, storeUrl, port: 0, host: '127.0.0.1', onLoaderError: () => undefined }),
        );
      }
      writeKey = (await createApiKey(collectors[0]!.store, { kind: 'write', source: 'web' })).key;
    }, 60_000);

    afterAll(async () => {
      for (const collector of collectors) await collector.close().catch(() => undefined);
      await clickhouse?.stop();
      for (const dir of folders) rmSync(dir, { recursive: true, force: true });
    });

    const send = async (collector: RunningServer, ids: string[]) => {
      const response = await fetch(`${collector.url}/v1/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: basicAuth(writeKey) },
        body: JSON.stringify({
          batch: ids.map((messageId) => ({
            type: 'track',
            event: 'Checkout',
            userId: 'u1',
            messageId,
            timestamp: '2026-11-20T10:00:00.000Z',
          })),
        }),
      });
      return response.status;
    };

    const storedIds = async () => {
      const result = await collectors[1]!.store.readOnlyQuery(
        "SELECT message_id FROM events WHERE event = 'Checkout'",
        {
          timeoutMs: 10_000,
          maxRows: 100_000,
        },
      );
      return result.rows.map((row) => String(row.message_id)).sort();
    };

    it('gives each collector its own stream and accepts a key created through the other', async () => {
      const [a, b] = collectors;
      expect(await send(a!, ['a-1'])).toBe(200);
      expect(await send(b!, ['b-1'])).toBe(200);
      await Promise.all(collectors.map((c) => c.loader.drain()));
      expect(await storedIds()).toEqual(['a-1', 'b-1']);
    });

    it('stores a batch retried through the other collector only once', async () => {
      const ids = Array.from({ length: 50 }, (_, i) => `retry-${i}`);
      expect(await send(collectors[0]!, ids)).toBe(200);
      expect(await send(collectors[1]!, ids)).toBe(200);
      await collectors[0]!.loader.drain();
      await collectors[1]!.loader.drain();
      // Both at once as well: the replacing merge and FINAL reads collapse what both loaders insert.
      const racing = Array.from({ length: 50 }, (_, i) => `race-${i}`);
      await Promise.all(collectors.map((c) => send(c, racing)));
      await Promise.all(collectors.map((c) => c.loader.drain()));
      const stored = await storedIds();
      expect(stored.filter((id) => id.startsWith('retry-'))).toHaveLength(50);
      expect(stored.filter((id) => id.startsWith('race-'))).toHaveLength(50);
      expect(new Set(stored).size).toBe(stored.length);
    });

    it('keeps acknowledging while ClickHouse is down and loads everything once it is back', async () => {
      await clickhouse.kill();
      const acknowledged: string[] = [];
      for (let round = 0; round < 10; round++) {
        for (const [index, collector] of collectors.entries()) {
          const ids = Array.from({ length: 20 }, (_, i) => `outage-${round}-${index}-${i}`);
          expect(await send(collector, ids)).toBe(200);
          acknowledged.push(...ids);
        }
      }
      await expect(collectors[0]!.loader.drain()).rejects.toBeDefined();
      await clickhouse.restart();
      await Promise.all(collectors.map((c) => c.loader.drain()));
      const stored = await storedIds();
      expect(acknowledged.filter((id) => !stored.includes(id))).toEqual([]);
      expect(stored.filter((id) => id.startsWith('outage-'))).toHaveLength(acknowledged.length);
    });
  },
);

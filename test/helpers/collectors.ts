import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApiKey } from '../../src/access/api-keys.js';
import { type RunningServer, startServer } from '../../src/runtime/server-runtime.js';
import { initWorkspace } from '../../src/workspace/init-workspace.js';
import { basicAuth } from './test-workspace.js';

/** Stateless collectors, each a real server on its own workspace folder, sharing one store. */
export interface Collectors {
  readonly servers: RunningServer[];
  /** A write key created through the first collector, valid on all of them. */
  readonly writeKey: string;
  /** Posts one batch of track calls with these message ids; resolves with the HTTP status. */
  send(collector: RunningServer, ids: readonly string[]): Promise<number>;
  close(): Promise<void>;
}

export async function startCollectors(storeUrls: readonly string[]): Promise<Collectors> {
  const folders: string[] = [];
  const servers: RunningServer[] = [];
  for (const storeUrl of storeUrls) {
    const dir = mkdtempSync(join(tmpdir(), 'refinery-collector-'));
    folders.push(dir);
    initWorkspace(dir, { name: 'shop' });
    servers.push(
      await startServer({ dir, storeUrl, port: 0, host: '127.0.0.1', onLoaderError: () => undefined }),
    );
  }
  const writeKey = (await createApiKey(servers[0]!.store, { kind: 'write', source: 'web' })).key;
  return {
    servers,
    writeKey,
    async send(collector, ids) {
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
      return response.status;
    },
    async close() {
      for (const server of servers) await server.close().catch(() => undefined);
      for (const dir of folders) rmSync(dir, { recursive: true, force: true });
    },
  };
}

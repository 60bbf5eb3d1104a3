import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  freePort,
  isBuilt,
  runCli,
  serverToken,
  startServeProcess,
  waitForExit,
} from '../helpers/cli-process.js';
import { basicAuth } from '../helpers/test-workspace.js';

// kill -9 the real server process while many clients are sending, restart it, and check that every
// acknowledged event is stored exactly once.
describe.skipIf(!isBuilt)('crash during load (needs `npm run build`)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'refinery-fault-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps every acknowledged event exactly once across two kill -9 restarts', async () => {
    expect((await runCli(['init', dir])).code).toBe(0);
    const created = await runCli(['keys', 'create', '--kind', 'write', '--json', '--dir', dir]);
    expect(created.code).toBe(0);
    const writeKey = (JSON.parse(created.stdout) as { key: string }).key;
    const acknowledged = new Set<string>();
    let sent = 0;

    for (let round = 0; round < 2; round++) {
      const port = await freePort();
      const server = await startServeProcess(dir, port);
      let stop = false;
      const client = async (worker: number) => {
        let batchNo = 0;
        while (!stop) {
          const batch = Array.from({ length: 50 }, (_, i) => ({
            type: 'track',
            event: 'Load',
            userId: `w${worker}`,
            messageId: `r${round}-w${worker}-b${batchNo}-${i}`,
          }));
          batchNo++;
          sent += batch.length;
          try {
            const response = await fetch(`http://127.0.0.1:${port}/v1/batch`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', authorization: basicAuth(writeKey) },
              body: JSON.stringify({ batch }),
            });
            if (response.status === 200) for (const m of batch) acknowledged.add(m.messageId);
          } catch {
            return;
          }
        }
      };
      const clients = Array.from({ length: 8 }, (_, worker) => client(worker));
      await new Promise((resolve) => setTimeout(resolve, 1500));
      server.kill('SIGKILL');
      await waitForExit(server);
      stop = true;
      await Promise.all(clients);
    }
    expect(acknowledged.size).toBeGreaterThan(1000);

    const port = await freePort();
    const server = await startServeProcess(dir, port);
    const token = serverToken(dir);
    const query = async (sql: string) => {
      const response = await fetch(`http://127.0.0.1:${port}/v1/query`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ sql }),
      });
      expect(response.status).toBe(200);
      return ((await response.json()) as { rows: Record<string, unknown>[] }).rows;
    };
    const [totals] = await query(
      "SELECT count(*) AS n, count(DISTINCT message_id) AS d FROM events WHERE event = 'Load'",
    );
    expect(totals!.n).toBe(totals!.d);
    const stored = new Set<string>();
    for (let offset = 0; ; offset += 50_000) {
      const rows = await query(
        `SELECT message_id FROM events WHERE event = 'Load' ORDER BY message_id LIMIT 50000 OFFSET ${offset}`,
      );
      for (const row of rows) stored.add(String(row.message_id));
      if (rows.length < 50_000) break;
    }
    const missing = [...acknowledged].filter((id) => !stored.has(id));
    expect(missing).toEqual([]);
    expect(stored.size).toBeLessThanOrEqual(sent);
    server.kill('SIGTERM');
    expect(await waitForExit(server)).toBe(0);
  });
});

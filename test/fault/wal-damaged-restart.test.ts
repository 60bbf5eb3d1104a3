import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BIN,
  freePort,
  isBuilt,
  runCli,
  serverToken,
  startServeProcess,
  waitForExit,
} from '../helpers/cli-process.js';
import { type ClickHouseProcess, hasClickHouse, startClickHouse } from '../helpers/clickhouse-server.js';
import { basicAuth } from '../helpers/test-workspace.js';

// A real `refinery serve` process on a workspace whose log folder holds what disk corruption and older versions
// leave behind: a line whose bytes changed after its checksum was written, a lone surrogate escape (DuckDB
// refuses it and, before, the server exited at start), a torn last line, an empty segment and a stray file.
// The server must start, store the good lines, list the bad ones with reasons (API and CLI), count them in
// stats, store a probe sent afterwards, and replay a corrected line exactly once, across a kill -9 too.
// On the engine REFINERY_TEST_STORE names (DuckDB by default).
const engine = process.env.REFINERY_TEST_STORE === 'clickhouse' ? 'clickhouse' : 'duckdb';

describe.skipIf(!isBuilt || (engine === 'clickhouse' && !hasClickHouse))(
  `a damaged log on ${engine} (needs \`npm run build\`)`,
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'refinery-fault-wal-'));
    const env: Record<string, string> = {};
    let clickhouse: ClickHouseProcess | undefined;
    let server: ChildProcess | undefined;
    let port = 0;
    let writeKey = '';

    const requestLine = (messageId: string, event: string) =>
      JSON.stringify({
        k: 'q',
        rid: `rid-${messageId}`,
        received_at: '2026-03-01T10:00:00.000Z',
        source: 'web',
        implied_type: 'track',
        ua: null,
        ip_of: [null],
        agent_of: [null],
        agents: [],
        skip: [],
        extra_of: [],
        body: { type: 'track', event, userId: 'u-fault', messageId },
      });
    // As today's writer writes a line: its CRC-32 in a last member "#".
    const checksummed = (line: string) =>
      `${line.slice(0, -1)},"#":"${crc32(line).toString(16).padStart(8, '0')}"}`;

    async function start(): Promise<void> {
      port = await freePort();
      server = await startServeProcess(dir, port);
    }

    async function stop(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
      server?.kill(signal);
      if (server) await waitForExit(server);
      server = undefined;
    }

    async function api<T = Record<string, unknown>>(method: string, path: string, body?: unknown) {
      const response = await fetch(`http://127.0.0.1:${port}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${serverToken(dir)}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.status, json: (await response.json()) as T };
    }

    async function storedIds(): Promise<string[]> {
      const { status, json } = await api<{ rows: { message_id: string }[] }>('POST', '/v1/query', {
        sql: "SELECT message_id FROM events WHERE user_id = 'u-fault' ORDER BY message_id",
      });
      expect(status).toBe(200);
      return json.rows.map((row) => row.message_id);
    }

    async function eventually(check: () => Promise<boolean>): Promise<void> {
      const deadline = Date.now() + 20_000;
      while (!(await check())) {
        if (Date.now() > deadline) throw new Error('timed out');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }

    async function cli(args: string[]) {
      return runCli([...args, '--dir', dir], { env });
    }

    beforeAll(async () => {
      if (engine === 'clickhouse') {
        clickhouse = await startClickHouse();
        // Both the CLI and `refinery serve` read the store from the environment, as an operator would set it.
        env.REFINERY_STORE = `clickhouse://127.0.0.1:${clickhouse.httpPort}/fault`;
        process.env.REFINERY_STORE = env.REFINERY_STORE;
      }
      expect((await runCli(['init', dir], { env })).code).toBe(0);
      const created = await cli(['keys', 'create', '--kind', 'write', '--json']);
      expect(created.code).toBe(0);
      writeKey = (JSON.parse(created.stdout) as { key: string }).key;
      // A first run creates the collector's stream and the store; a clean stop leaves the log empty.
      await start();
      await stop('SIGTERM');

      const walDir = join(dir, 'data', 'wal');
      mkdirSync(walDir, { recursive: true });
      const flipped = checksummed(requestLine('fault-flipped', 'Flipped')).replace('Flipped', 'Xlipped');
      const segment = [
        checksummed(requestLine('fault-good-1', 'Good')),
        flipped,
        // Written before the collector refused lone surrogates (JSON.stringify writes one as "\ud800").
        requestLine('fault-surrogate', 'Bad\ud800Name'),
        checksummed(requestLine('fault-good-2', 'Good')),
        '{"k":"q","rid":"torn',
      ].join('\n');
      writeFileSync(join(walDir, 'seg-000000000900.ndjson'), segment);
      writeFileSync(join(walDir, 'seg-000000000901.ndjson'), '');
      writeFileSync(join(walDir, 'README.txt'), 'not a segment');
    }, 120_000);

    afterAll(async () => {
      await stop('SIGTERM').catch(() => undefined);
      delete process.env.REFINERY_STORE;
      await clickhouse?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('starts, stores the good lines, and lists and counts the bad ones with reasons', async () => {
      await start();
      await eventually(async () => (await storedIds()).length >= 2);
      expect(await storedIds()).toEqual(['fault-good-1', 'fault-good-2']);

      const listed = await api<{ items: { id: string; lineNo: number; damage: string; reason: string }[] }>(
        'GET',
        '/v1/wal/damaged',
      );
      expect(listed.status).toBe(200);
      expect(listed.json.items.map((item) => [item.lineNo, item.damage])).toEqual([
        [2, 'checksum_mismatch'],
        [3, 'lone_surrogate'],
        [5, 'not_json'],
      ]);
      for (const item of listed.json.items) expect(item.reason.length).toBeGreaterThan(10);

      const fromCli = await cli(['wal', 'damaged', 'list', '--json']);
      expect(fromCli.code).toBe(0);
      const page = JSON.parse(fromCli.stdout) as { items: { id: string; damage: string }[] };
      expect(page.items.map((item) => item.id)).toEqual(listed.json.items.map((item) => item.id));

      const stats = await api<{ loader: { damagedLines: unknown } }>('GET', '/v1/stats');
      expect(stats.json.loader.damagedLines).toEqual({ held: 3, replayed: 0, discarded: 0 });
    });

    it('stores a probe event sent afterwards', async () => {
      const response = await fetch(`http://127.0.0.1:${port}/v1/track`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: basicAuth(writeKey) },
        body: JSON.stringify({ userId: 'u-fault', event: 'Probe', messageId: 'fault-probe' }),
      });
      expect(response.status).toBe(200);
      await eventually(async () => (await storedIds()).includes('fault-probe'));
    });

    it('replays a corrected line once through the CLI, and keeps it once across a kill -9', async () => {
      const { json } = await api<{ items: { id: string; lineNo: number }[] }>('GET', '/v1/wal/damaged');
      const id = json.items.find((item) => item.lineNo === 3)!.id;
      const fixed = join(dir, 'fixed-line.json');
      writeFileSync(fixed, requestLine('fault-surrogate', 'Bad Name'));

      const replayed = await cli(['wal', 'damaged', 'replay', id, '--line-file', fixed, '--json']);
      expect(replayed.code).toBe(0);
      expect(JSON.parse(replayed.stdout)).toMatchObject({ id, status: 'replayed' });
      const again = await cli(['wal', 'damaged', 'replay', id, '--line-file', fixed]);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain('REFINERY_ERR_WAL_LINE_DECIDED');

      await stop('SIGKILL');
      await start();
      expect(await storedIds()).toEqual(['fault-good-1', 'fault-good-2', 'fault-probe', 'fault-surrogate']);
      const stats = await api<{ loader: { damagedLines: unknown } }>('GET', '/v1/stats');
      expect(stats.json.loader.damagedLines).toEqual({ held: 2, replayed: 1, discarded: 0 });
    });

    it('discards a line with the CLI while no server runs', async () => {
      await stop('SIGTERM');
      const listed = await cli(['wal', 'damaged', 'list', '--json']);
      expect(listed.code).toBe(0);
      const { items } = JSON.parse(listed.stdout) as { items: { id: string; lineNo: number }[] };
      const id = items.find((item) => item.lineNo === 5)!.id;
      const discarded = await cli(['wal', 'damaged', 'discard', id, '--json']);
      expect(discarded.code).toBe(0);
      expect(JSON.parse(discarded.stdout)).toMatchObject({ id, status: 'discarded' });
      const shown = await cli(['wal', 'damaged', 'list', '--status', 'discarded', '--json']);
      expect((JSON.parse(shown.stdout) as { items: { id: string }[] }).items.map((item) => item.id)).toEqual([
        id,
      ]);
    });
  },
);

// kill -9 at random moments while the server loads a segment with bad lines at start-up: afterwards every good
// line is stored once and every bad line is set aside once, whichever step the kills interrupted.
describe.skipIf(!isBuilt || (engine === 'clickhouse' && !hasClickHouse))(
  `kill -9 while setting lines aside on ${engine} (needs \`npm run build\`)`,
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'refinery-fault-wal-kill-'));
    const env: Record<string, string> = {};
    let clickhouse: ClickHouseProcess | undefined;

    afterAll(async () => {
      delete process.env.REFINERY_STORE;
      await clickhouse?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('stores each good line and sets aside each bad line exactly once', async () => {
      if (engine === 'clickhouse') {
        clickhouse = await startClickHouse();
        env.REFINERY_STORE = `clickhouse://127.0.0.1:${clickhouse.httpPort}/fault_kill`;
        process.env.REFINERY_STORE = env.REFINERY_STORE;
      }
      expect((await runCli(['init', dir], { env })).code).toBe(0);
      let server = await startServeProcess(dir, await freePort());
      server.kill('SIGTERM');
      await waitForExit(server);

      const lines: string[] = [];
      const bad = new Set<number>();
      for (let i = 0; i < 3000; i++) {
        const line = JSON.stringify({
          k: 'q',
          rid: `rid-${i}`,
          received_at: '2026-03-01T10:00:00.000Z',
          source: 'web',
          implied_type: 'track',
          ua: null,
          ip_of: [null],
          agent_of: [null],
          agents: [],
          skip: [],
          extra_of: [],
          body: {
            type: 'track',
            event: i % 500 === 7 ? 'Bad\ud800' : 'Good',
            userId: 'u-kill',
            messageId: `k-${i}`,
          },
        });
        if (i % 500 === 7) bad.add(i);
        lines.push(line);
      }
      for (let segment = 0; segment < 3; segment++) {
        const part = lines.slice(segment * 1000, (segment + 1) * 1000);
        writeFileSync(join(dir, 'data', 'wal', `seg-00000000090${segment}.ndjson`), `${part.join('\n')}\n`);
      }

      // Kill while a load that sets lines aside runs: the loader's copy of a segment without its bad lines
      // (`seg-….ndjson.loadable`) exists exactly then. Each kill lands in a later segment's load, or after all.
      const walDir = join(dir, 'data', 'wal');
      let interrupted = 0;
      for (let round = 0; round < 3; round++) {
        const child = spawn(
          process.execPath,
          [BIN, 'serve', '--dir', dir, '--port', String(await freePort())],
          {
            stdio: 'ignore',
            env: { ...process.env, CI: 'true' },
          },
        );
        const deadline = Date.now() + 20_000;
        let loading = false;
        while (Date.now() < deadline && child.exitCode === null) {
          loading = readdirSync(walDir).some((name) => name.endsWith('.loadable'));
          if (loading) break;
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
        child.kill('SIGKILL');
        await waitForExit(child);
        if (loading) interrupted++;
      }
      expect(interrupted).toBeGreaterThan(0);

      const port = await freePort();
      server = await startServeProcess(dir, port);
      const call = async (path: string, body?: unknown) => {
        const response = await fetch(`http://127.0.0.1:${port}${path}`, {
          method: body === undefined ? 'GET' : 'POST',
          headers: {
            authorization: `Bearer ${serverToken(dir)}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        return (await response.json()) as Record<string, unknown>;
      };
      const deadline = Date.now() + 30_000;
      let counted: Record<string, unknown> = {};
      while (Date.now() < deadline) {
        const answer = await call('/v1/query', {
          sql: "SELECT count(*) AS n, count(DISTINCT message_id) AS d FROM events WHERE user_id = 'u-kill'",
        });
        counted = (answer.rows as Record<string, unknown>[])[0]!;
        if (Number(counted.n) >= lines.length - bad.size) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(counted).toEqual({ n: lines.length - bad.size, d: lines.length - bad.size });
      const stats = (await call('/v1/stats')) as { loader: { damagedLines: unknown } };
      expect(stats.loader.damagedLines).toEqual({ held: bad.size, replayed: 0, discarded: 0 });
      const listed = (await call('/v1/wal/damaged?limit=100')) as { items: { id: string }[] };
      expect(new Set(listed.items.map((item) => item.id)).size).toBe(bad.size);
      server.kill('SIGTERM');
      expect(await waitForExit(server)).toBe(0);
    }, 180_000);
  },
);

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { segmentName } from '../../src/collect/wal/segment-files.js';
import { type RunningServer, startServer } from '../../src/runtime/server-runtime.js';
import { basicAuth, startTestWorkspace, type TestWorkspace } from '../helpers/test-workspace.js';

// A stopped workspace's log holds what disk corruption and older versions leave: a line with a lone surrogate
// escape (DuckDB refuses it: "no low surrogate in string"), a checksummed line with a flipped byte, a torn last
// line, a zero-length segment and a stray file. The server must start, store the good lines, set the bad ones
// aside (listed with reasons, counted in stats) and let an admin replay a corrected line exactly once.
let ws: TestWorkspace;
let server: RunningServer;
let storeUrl: string;
let source: string;

const requestLine = (messageId: string, event: string) =>
  JSON.stringify({
    k: 'q',
    rid: `rid-${messageId}`,
    received_at: '2026-03-01T10:00:00.000Z',
    source,
    implied_type: 'track',
    ua: null,
    ip_of: [null],
    agent_of: [null],
    agents: [],
    skip: [],
    extra_of: [],
    body: { type: 'track', event, userId: 'u-wal', messageId },
  });

async function restart(): Promise<RunningServer> {
  return startServer({
    dir: ws.dir,
    storeUrl,
    port: 0,
    host: '127.0.0.1',
    onLoaderError: () => undefined,
  });
}

function api(method: 'GET' | 'POST', url: string, body?: unknown) {
  return server.app.inject({
    method,
    url,
    headers: {
      authorization: `Bearer ${ws.adminKey}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });
}

async function storedIds(): Promise<string[]> {
  await server.loader.drain();
  const result = await server.store.readOnlyQuery(
    "SELECT message_id FROM events WHERE user_id = 'u-wal' ORDER BY message_id",
    { timeoutMs: 30_000, maxRows: 1000 },
  );
  return result.rows.map((row) => String(row.message_id));
}

beforeAll(async () => {
  ws = await startTestWorkspace();
  storeUrl = ws.server.config.store.url;
  source = ws.server.config.sources[0]!.name;
  const walDir = ws.server.paths.wal;
  await ws.server.close();

  // Written as today's writer writes (each line's CRC-32 in a last member "#"), then damaged on disk.
  const checksummed = Buffer.from(
    [requestLine('wal-good-1', 'Good'), requestLine('wal-flipped', 'Flipped')]
      .map((line) => `${line.slice(0, -1)},"#":"${crc32(line).toString(16).padStart(8, '0')}"}\n`)
      .join(''),
  );
  const flipAt = checksummed.indexOf('Flipped');
  checksummed[flipAt] = 'X'.charCodeAt(0);
  // Written by an older version (no checksums): a lone surrogate (JSON.stringify writes it as the escape
  // "\ud800", as the collector did before it refused such bodies), then a good line and a torn one.
  const legacy = Buffer.from(
    `${requestLine('wal-surrogate', 'Bad\ud800Name')}\n${requestLine('wal-good-2', 'Good')}\n{"k":"q","rid":`,
  );
  expect(legacy.includes('Bad\\ud800Name')).toBe(true);
  mkdirSync(walDir, { recursive: true });
  writeFileSync(join(walDir, segmentName(900, true)), Buffer.concat([checksummed, legacy]));
  writeFileSync(join(walDir, segmentName(901, true)), '');
  writeFileSync(join(walDir, 'notes.txt'), 'someone left this here');

  server = await restart();
});

afterAll(async () => {
  await server?.close();
  await ws?.close().catch(() => undefined);
});

describe('a log with damaged lines', () => {
  it('does not stop the server from starting, and the good lines are stored', async () => {
    expect((await server.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect(await storedIds()).toEqual(['wal-good-1', 'wal-good-2']);
  });

  it('lists the bad lines with their reasons through the API', async () => {
    const response = await api('GET', '/v1/wal/damaged');
    expect(response.statusCode).toBe(200);
    const { items, counts } = response.json() as {
      items: { id: string; lineNo: number; damage: string; reason: string; status: string; text: string }[];
      counts: { status: string; count: number }[];
    };
    expect(items.map((item) => [item.lineNo, item.damage, item.status])).toEqual([
      [2, 'checksum_mismatch', 'held'],
      [3, 'lone_surrogate', 'held'],
      [5, 'not_json', 'held'],
    ]);
    expect(items[1]!.reason).toContain('\\ud800');
    expect(items[0]!.text).toContain('Xlipped');
    expect(counts).toEqual([{ status: 'held', count: 3 }]);
    const one = await api('GET', `/v1/wal/damaged/${encodeURIComponent(items[0]!.id)}`);
    expect(one.statusCode).toBe(200);
    expect(Buffer.from(one.json().raw, 'base64').toString()).toContain('"event":"Xlipped"');
  });

  it('counts the set-aside lines in stats', async () => {
    const stats = (await api('GET', '/v1/stats')).json() as { loader: { damagedLines: unknown } };
    expect(stats.loader.damagedLines).toEqual({ held: 3, replayed: 0, discarded: 0 });
  });

  it('stores a probe event sent afterwards', async () => {
    const sent = await server.app.inject({
      method: 'POST',
      url: '/v1/track',
      headers: { 'content-type': 'application/json', authorization: basicAuth(ws.writeKey) },
      payload: JSON.stringify({ userId: 'u-wal', event: 'Probe', messageId: 'wal-probe' }),
    });
    expect(sent.statusCode).toBe(200);
    expect(await storedIds()).toContain('wal-probe');
  });

  it('refuses to replay a line as stored while it is still ill-formed, and keeps it held', async () => {
    const id = await idOfLine(3);
    const response = await api('POST', `/v1/wal/damaged/${encodeURIComponent(id)}/replay`);
    expect(response.statusCode).toBe(422);
    expect(response.json()).toMatchObject({ code: 'REFINERY_ERR_WAL_LINE_INVALID', field: 'line' });
    expect(await statusOf(id)).toBe('held');
  });

  it('replays a corrected line once: stored, marked replayed, and refused a second time', async () => {
    const id = await idOfLine(3);
    const corrected = JSON.parse(requestLine('wal-surrogate', 'Bad Name'));
    const response = await api('POST', `/v1/wal/damaged/${encodeURIComponent(id)}/replay`, {
      line: corrected,
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ id, status: 'replayed', statusBy: expect.any(String) });
    expect((await storedIds()).filter((stored) => stored === 'wal-surrogate')).toHaveLength(1);
    const again = await api('POST', `/v1/wal/damaged/${encodeURIComponent(id)}/replay`, { line: corrected });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('REFINERY_ERR_WAL_LINE_DECIDED');
  });

  it('replays a line whose checksum no longer matches as stored, once an admin vouches for it', async () => {
    const id = await idOfLine(2);
    const response = await api('POST', `/v1/wal/damaged/${encodeURIComponent(id)}/replay`);
    expect(response.statusCode).toBe(200);
    expect(await storedIds()).toContain('wal-flipped');
  });

  it('discards a line: kept on record, never loaded', async () => {
    const id = await idOfLine(5);
    const response = await api('POST', `/v1/wal/damaged/${encodeURIComponent(id)}/discard`);
    expect(response.statusCode).toBe(200);
    expect(response.json().status).toBe('discarded');
    const stats = (await api('GET', '/v1/stats')).json() as { loader: { damagedLines: unknown } };
    expect(stats.loader.damagedLines).toEqual({ held: 0, replayed: 2, discarded: 1 });
  });

  it('answers an unknown line id with 404 and a stable code', async () => {
    const response = await api('POST', '/v1/wal/damaged/no-such-line/discard');
    expect(response.statusCode).toBe(404);
    expect(response.json().code).toBe('REFINERY_ERR_WAL_LINE_NOT_FOUND');
  });

  it('keeps every event and decision exactly once across a restart', async () => {
    await server.close();
    server = await restart();
    expect(await storedIds()).toEqual([
      'wal-flipped',
      'wal-good-1',
      'wal-good-2',
      'wal-probe',
      'wal-surrogate',
    ]);
    const stats = (await api('GET', '/v1/stats')).json() as { loader: { damagedLines: unknown } };
    expect(stats.loader.damagedLines).toEqual({ held: 0, replayed: 2, discarded: 1 });
  });
});

async function idOfLine(lineNo: number): Promise<string> {
  const { items } = (await api('GET', '/v1/wal/damaged?status=held&limit=1000')).json() as {
    items: { id: string; lineNo: number; sequence: number }[];
  };
  const item = items.find((candidate) => candidate.sequence === 900 && candidate.lineNo === lineNo);
  if (!item) throw new Error(`line ${lineNo} is not held`);
  return item.id;
}

async function statusOf(id: string): Promise<string> {
  return (await api('GET', `/v1/wal/damaged/${encodeURIComponent(id)}`)).json().status;
}

import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Loader } from '../../src/collect/loader.js';
import { segmentName } from '../../src/collect/wal/segment-files.js';
import { WriteAheadLog } from '../../src/collect/wal/write-ahead-log.js';
import { ClickHouseStore } from '../../src/store/clickhouse/clickhouse-store.js';
import { DuckDbStore } from '../../src/store/duckdb/duckdb-store.js';
import type { Store } from '../../src/store/store.js';
import { type ClickHouseProcess, hasClickHouse, startClickHouse } from '../helpers/clickhouse-server.js';

// The loader's last resort: lines that pass every check of their own but that the engine refuses are found
// by bisection and set aside with the engine's error, and the rest of the segment loads; while the store
// itself cannot load, nothing is blamed on the lines and the segment waits. On the engine REFINERY_TEST_STORE
// names (DuckDB by default).
const engine = process.env.REFINERY_TEST_STORE === 'clickhouse' ? 'clickhouse' : 'duckdb';
const STREAM = 'collector-test';

let dir: string;
let store: Store;
let clickhouse: ClickHouseProcess | undefined;

async function openStore(): Promise<Store> {
  const opened =
    engine === 'clickhouse'
      ? await ClickHouseStore.open({ url: `clickhouse://127.0.0.1:${clickhouse!.httpPort}/segments` })
      : await DuckDbStore.open({ path: join(dir, 'refinery.duckdb') });
  await opened.migrate();
  return opened;
}

const requestLine = (messageId: string, receivedAt = '2026-03-01T10:00:00.000Z') =>
  JSON.stringify({
    k: 'q',
    rid: `rid-${messageId}`,
    received_at: receivedAt,
    source: 'web',
    implied_type: 'track',
    ua: null,
    ip_of: [null],
    agent_of: [null],
    agents: [],
    skip: [],
    extra_of: [],
    body: { type: 'track', event: 'Loaded', userId: 'u-seg', messageId },
  });

/**
 * A sealed segment as today's writer writes it: every line with its checksum (the CRC-32 of the line, in a
 * last member `"#"`), so every line passes the loader's own checks.
 */
function writeSegment(sequence: number, lines: string[]): string {
  const file = join(dir, 'wal', segmentName(sequence, true));
  const checksummed = lines.map(
    (line) => `${line.slice(0, -1)},"#":"${crc32(line).toString(16).padStart(8, '0')}"}`,
  );
  writeFileSync(file, `${checksummed.join('\n')}\n`);
  return file;
}

/** Loads what the log folder holds, as the server's loader does; rejects when a segment could not be loaded. */
async function drainLog(): Promise<void> {
  const wal = await WriteAheadLog.open({
    dir: join(dir, 'wal'),
    segmentBytes: 1024 * 1024,
    maxBytes: 64 * 1024 * 1024,
    loadedSequence: await store.events.lastLoadedSequence(STREAM).catch(() => 0),
  });
  try {
    await new Loader(wal, store, { stream: STREAM, intervalMs: 1000, dedupeWindowHours: 0 }).drain();
  } finally {
    await wal.close();
  }
}

async function storedIds(): Promise<string[]> {
  const result = await store.readOnlyQuery(
    "SELECT message_id FROM events WHERE user_id = 'u-seg' ORDER BY message_id",
    { timeoutMs: 30_000, maxRows: 1000 },
  );
  return result.rows.map((row) => String(row.message_id));
}

describe.skipIf(engine === 'clickhouse' && !hasClickHouse)(`loading a segment on ${engine}`, () => {
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'refinery-segments-'));
    mkdirSync(join(dir, 'wal'));
    if (engine === 'clickhouse') clickhouse = await startClickHouse();
    store = await openStore();
  });
  afterEach(async () => {
    await store.close().catch(() => undefined);
    await clickhouse?.stop();
    clickhouse = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('sets aside only the lines the engine refuses, with its error, and loads the rest once', async () => {
    const ids = Array.from({ length: 40 }, (_, i) => `seg-${String(i).padStart(2, '0')}`);
    // A received_at that is no time passes the line checks (it is JSON, well-formed, checksummed); the engine
    // refuses it.
    const lines = ids.map((id, i) => requestLine(id, i === 6 || i === 31 ? 'not a time' : undefined));
    writeSegment(1, lines);
    await drainLog();
    expect(await storedIds()).toEqual(ids.filter((_, i) => i !== 6 && i !== 31));
    const damaged = await store.events.listDamagedLines({}, { limit: 10, withRaw: true });
    expect(damaged.map((line) => [line.lineNo, line.damage, line.status])).toEqual([
      [7, 'engine_refused', 'held'],
      [32, 'engine_refused', 'held'],
    ]);
    expect(damaged[0]!.reason.length).toBeGreaterThan(0);
    expect(Buffer.from(damaged[0]!.raw!, 'base64').toString()).toContain('"messageId":"seg-06"');
    // The segment is gone once loaded, and so are the loader's copies beside it.
    expect(readdirSync(join(dir, 'wal')).filter((name) => !name.endsWith('.open'))).toEqual([]);
  });

  it('sets nothing aside twice when a loaded segment is loaded again after a crash', async () => {
    const lines = [requestLine('seg-x'), requestLine('seg-y', 'not a time')];
    const file = writeSegment(1, lines);
    const copy = readFileSync(file);
    await drainLog();
    // A crash between the commit and the file's removal leaves the segment: the next start finds it loaded.
    writeFileSync(file, copy);
    await drainLog();
    expect(await storedIds()).toEqual(['seg-x']);
    expect(await store.events.countDamagedLines()).toEqual([{ status: 'held', count: 1 }]);
  });

  it('keeps the segment and blames no line while the store cannot load, then loads it whole', async () => {
    const file = writeSegment(1, [requestLine('seg-a'), requestLine('seg-b')]);
    if (engine === 'clickhouse') await clickhouse!.kill();
    else await store.close();
    await expect(drainLog()).rejects.toThrow();
    expect(existsSync(file)).toBe(true);
    if (engine === 'clickhouse') await clickhouse!.restart();
    else store = await openStore();
    await drainLog();
    expect(await store.events.countDamagedLines()).toEqual([]);
    expect(await storedIds()).toEqual(['seg-a', 'seg-b']);
  });
});

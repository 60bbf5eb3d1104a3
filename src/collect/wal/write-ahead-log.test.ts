import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyLine, withoutChecksum } from './line-checksum.js';
import { segmentName } from './segment-files.js';
import { WriteAheadLog } from './write-ahead-log.js';

let dir: string;
const options = () => ({ dir, segmentBytes: 1024 * 1024, maxBytes: 10 * 1024 * 1024, loadedSequence: 0 });

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'refinery-wal-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('write-ahead log', () => {
  it('shares one sync among appends that arrive together (group commit)', async () => {
    const wal = await WriteAheadLog.open(options());
    await Promise.all(Array.from({ length: 200 }, (_, i) => wal.append(`{"n":${i}}\n`)));
    expect(wal.syncs).toBeGreaterThanOrEqual(1);
    expect(wal.syncs).toBeLessThan(20);
    await wal.sealActive();
    const [segment] = wal.sealedSegments();
    expect(readFileSync(segment!.file, 'utf8').trim().split('\n')).toHaveLength(200);
    await wal.close();
  });

  it('cuts a torn last line left by a crash and seals the segment on open', async () => {
    writeFileSync(join(dir, segmentName(3, false)), '{"a":1}\n{"a":2}\n{"a":');
    const wal = await WriteAheadLog.open(options());
    const sealed = wal.sealedSegments();
    expect(sealed.map((s) => s.sequence)).toEqual([3]);
    expect(readFileSync(sealed[0]!.file, 'utf8')).toBe('{"a":1}\n{"a":2}\n');
    await wal.append('{"a":3}\n');
    await wal.sealActive();
    expect(wal.sealedSegments().map((s) => s.sequence)).toEqual([3, 4]);
    await wal.close();
  });

  it('numbers new segments above what the store already loaded, even when no file is left', async () => {
    const wal = await WriteAheadLog.open({ ...options(), loadedSequence: 41 });
    await wal.append('{"a":1}\n');
    await wal.sealActive();
    expect(wal.sealedSegments().map((s) => s.sequence)).toEqual([42]);
    await wal.close();
  });

  it('drops an open segment that holds only a torn line', async () => {
    writeFileSync(join(dir, segmentName(1, false)), '{"half":');
    const wal = await WriteAheadLog.open(options());
    expect(wal.sealedSegments()).toEqual([]);
    await wal.close();
    expect(readdirSync(dir).some((name) => name.startsWith(segmentName(1, true)))).toBe(false);
  });

  it('rolls over to a new segment past the size limit', async () => {
    const wal = await WriteAheadLog.open({ ...options(), segmentBytes: 65536 });
    const line = `${JSON.stringify({ pad: 'x'.repeat(1000) })}\n`;
    for (let i = 0; i < 200; i++) await wal.append(line);
    expect(wal.sealedSegments().length).toBeGreaterThanOrEqual(2);
    await wal.close();
  });

  it('refuses appends with REFINERY_ERR_WAL_FULL past the byte limit and accepts again once segments are removed', async () => {
    const wal = await WriteAheadLog.open({ ...options(), maxBytes: 1024 * 1024, segmentBytes: 65536 });
    const line = `${JSON.stringify({ pad: 'y'.repeat(10_000) })}\n`;
    let accepted = 0;
    const refusal = await (async () => {
      for (let i = 0; i < 200; i++) {
        try {
          await wal.append(line);
          accepted++;
        } catch (error) {
          return error;
        }
      }
      return undefined;
    })();
    expect(refusal).toMatchObject({ code: 'REFINERY_ERR_WAL_FULL', details: { limit: 1024 * 1024 } });
    expect(accepted * line.length).toBeGreaterThan(1024 * 1024);
    expect(accepted * line.length).toBeLessThan(1024 * 1024 + 2 * line.length);
    for (const segment of wal.sealedSegments()) wal.removeSegment(segment);
    await expect(wal.append(line)).resolves.toBeUndefined();
    await wal.close();
  });

  it('keeps lines appended after a recovered segment in order across restarts', async () => {
    const first = await WriteAheadLog.open(options());
    await first.append('{"i":1}\n');
    await first.close();
    appendFileSync(join(dir, segmentName(1, false)), '{"i":2');
    const second = await WriteAheadLog.open(options());
    await second.append('{"i":3}\n');
    await second.sealActive();
    const lines = second.sealedSegments().flatMap((s) => readFileSync(s.file, 'utf8').trim().split('\n'));
    expect(lines.map((line) => withoutChecksum(Buffer.from(line)).toString())).toEqual([
      '{"i":1}',
      '{"i":3}',
    ]);
    await second.close();
  });

  it('writes every line with a checksum of its bytes, also when a line spans chunks or a chunk holds lines', async () => {
    const wal = await WriteAheadLog.open(options());
    await wal.append([
      Buffer.from('{"k":"q","body":'),
      Buffer.from('{"a":1}'),
      Buffer.from('}\n{"k":"r"}\n'),
    ]);
    await wal.append('{"k":"i"}\n');
    await wal.sealActive();
    const text = readFileSync(wal.sealedSegments()[0]!.file, 'utf8');
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      expect(line).toMatch(/,"#":"[0-9a-f]{8}"}$/);
      expect(verifyLine(Buffer.from(line))).toEqual({ ok: true, checksummed: true });
    }
    expect(lines.map((line) => JSON.parse(line).k)).toEqual(['q', 'r', 'i']);
    expect(withoutChecksum(Buffer.from(lines[0]!)).toString()).toBe('{"k":"q","body":{"a":1}}');
    await wal.close();
  });

  it('ends an unterminated last line of an append, so it cannot run into the next one', async () => {
    const wal = await WriteAheadLog.open(options());
    await wal.append('{"n":1}');
    await wal.append('{"n":2}\n');
    await wal.sealActive();
    const lines = readFileSync(wal.sealedSegments()[0]!.file, 'utf8').trimEnd().split('\n');
    expect(lines.map((line) => JSON.parse(line).n)).toEqual([1, 2]);
    await wal.close();
  });

  it('keeps numbering segments it can read after a stray file with the highest twelve-digit number', async () => {
    writeFileSync(join(dir, segmentName(999_999_999_999, true)), '');
    const wal = await WriteAheadLog.open(options());
    await wal.append('{"n":1}\n');
    await wal.sealActive();
    expect(wal.sealedSegments().map((s) => s.sequence)).toEqual([999_999_999_999, 1_000_000_000_000]);
    await wal.close();
  });

  it('leaves stray files and folders in the log folder alone and does not take them for segments', async () => {
    writeFileSync(join(dir, 'notes.txt'), 'not a segment');
    mkdirSync(join(dir, segmentName(7, true)));
    mkdirSync(join(dir, segmentName(8, false)));
    const wal = await WriteAheadLog.open(options());
    expect(wal.sealedSegments()).toEqual([]);
    await wal.append('{"n":1}\n');
    await wal.sealActive();
    expect(wal.sealedSegments().map((s) => s.sequence)).toEqual([9]);
    await wal.close();
  });
});

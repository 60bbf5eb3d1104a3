import {
  appendFileSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DurableNdjsonFile } from './durable-ndjson-file.js';

let dir: string;
let path: string;
const opened: DurableNdjsonFile[] = [];

async function openFile() {
  const result = await DurableNdjsonFile.open(path);
  opened.push(result.file);
  return result;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'refinery-ndjson-'));
  path = join(dir, 'vault', 'lines.ndjson');
});

afterEach(async () => {
  for (const file of opened.splice(0)) await file.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('DurableNdjsonFile', () => {
  it('creates the file with mode 0600 in a folder with mode 0700', async () => {
    await openFile();
    if (process.platform === 'win32') return;
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'vault')).mode & 0o777).toBe(0o700);
  });

  it('makes concurrent appends durable with one shared sync', async () => {
    const { file } = await openFile();
    await file.append('{"n":0}');
    const syncsBefore = file.syncs;
    await Promise.all(Array.from({ length: 50 }, (_, n) => file.append(`{"n":${n + 1}}`)));
    expect(file.syncs - syncsBefore).toBeLessThanOrEqual(2);
    expect(readFileSync(path, 'utf8').split('\n')).toHaveLength(52);
  });

  it('cuts off a last line torn by a crash before it was acknowledged', async () => {
    const { file } = await openFile();
    await file.append('{"n":1}');
    await file.close();
    appendFileSync(path, '{"n":2, "half');
    const { file: again, lines } = await openFile();
    expect(lines).toEqual(['{"n":1}']);
    await again.append('{"n":3}');
    expect(readFileSync(path, 'utf8')).toBe('{"n":1}\n{"n":3}\n');
  });

  it('rewrites the file without the rejected lines and keeps appending to the new file', async () => {
    const { file } = await openFile();
    for (const n of [1, 2, 3, 4]) await file.append(`{"n":${n}}`);
    const removed = await file.rewrite((line) => !line.includes('2') && !line.includes('4'));
    expect(removed).toEqual(['{"n":2}', '{"n":4}']);
    await file.append('{"n":5}');
    expect(readFileSync(path, 'utf8')).toBe('{"n":1}\n{"n":3}\n{"n":5}\n');
    if (process.platform !== 'win32') expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('judges lines another writer appended when it rewrites', async () => {
    const { file } = await openFile();
    await file.append('keep');
    appendFileSync(path, 'drop\n');
    expect(await file.rewrite((line) => line !== 'drop')).toEqual(['drop']);
    expect(readFileSync(path, 'utf8')).toBe('keep\n');
  });

  it('reports a change only when another writer appended or replaced the file', async () => {
    const { file } = await openFile();
    await file.append('mine');
    expect(await file.readIfChanged()).toBeUndefined();
    appendFileSync(path, 'theirs\n');
    expect(await file.readIfChanged()).toEqual(['mine', 'theirs']);
    expect(await file.readIfChanged()).toBeUndefined();
    writeFileSync(`${path}.new`, 'replaced\n');
    renameSync(`${path}.new`, path);
    expect(await file.readIfChanged()).toEqual(['replaced']);
  });

  it('refuses appends once closed', async () => {
    const { file } = await openFile();
    await file.close();
    await expect(file.append('late')).rejects.toMatchObject({ code: 'REFINERY_ERR_SHUTTING_DOWN' });
  });
});

import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditAnchor } from './audit-anchor.js';
import { type AuditEntry, type AuditHead, entryHash, entryLine, GENESIS_HASH } from './audit-entry.js';
import { auditFileName } from './audit-files.js';
import { AuditLog, type AuditLogOptions } from './audit-log.js';
import { verifyAuditLog } from './verify-audit-log.js';

const FIRST_FILE = auditFileName(1);

let folder: string;
let tick: number;

beforeEach(() => {
  folder = join(mkdtempSync(join(tmpdir(), 'refinery-audit-verify-')), 'audit');
  tick = 0;
});
afterEach(() => rmSync(join(folder, '..'), { recursive: true, force: true }));

/** Writes `count` entries (targets person_1 … person_N) and returns them. */
async function writeEntries(count: number, options: AuditLogOptions = {}): Promise<AuditEntry[]> {
  const log = await AuditLog.open(folder, {
    now: () => new Date(Date.UTC(2025, 0, 1) + tick++ * 1000),
    ...options,
  });
  const written: AuditEntry[] = [];
  for (let i = 1; i <= count; i++) {
    written.push(
      await log.append({
        actor: { keyId: 'key_1', keyName: 'support', kind: 'admin' },
        action: 'personal_data.read',
        target: `person_${i}`,
        detail: { fields: ['traits'] },
      }),
    );
  }
  await log.close();
  return written;
}

function fileLines(file = FIRST_FILE): string[] {
  return readFileSync(join(folder, file), 'utf8').split('\n').filter(Boolean);
}

function rewrite(lines: readonly string[], file = FIRST_FILE): void {
  writeFileSync(join(folder, file), lines.map((line) => `${line}\n`).join(''));
}

/** What a forger who knows the format does: recompute every seq, prev and hash after changing entries. */
function rechain(entries: readonly Omit<AuditEntry, 'seq' | 'prev' | 'hash'>[]): AuditEntry[] {
  let prev = GENESIS_HASH;
  return entries.map((entry, index) => {
    const unsealed = { ...entry, seq: index + 1, prev };
    const sealed = { ...unsealed, hash: entryHash(unsealed) };
    prev = sealed.hash;
    return sealed;
  });
}

function memoryAnchor(head?: AuditHead): AuditAnchor & { head: AuditHead | undefined } {
  return {
    name: 'store metadata',
    head,
    async read() {
      return this.head;
    },
    async write(next) {
      this.head = next;
    },
  };
}

describe('verifyAuditLog', () => {
  it('finds an untouched log intact, with every anchor on its last entry', async () => {
    const anchor = memoryAnchor();
    const written = await writeEntries(5, { anchor });
    const result = await verifyAuditLog(folder, anchor);
    expect(result).toEqual({
      ok: true,
      entries: 5,
      head: { seq: 5, hash: written[4]!.hash },
      anchors: [
        { name: 'head.json', status: 'match', anchored: { seq: 5, hash: written[4]!.hash } },
        { name: 'store metadata', status: 'match', anchored: { seq: 5, hash: written[4]!.hash } },
      ],
    });
  });

  it('finds the log intact while a writer keeps appending to it', async () => {
    const log = await AuditLog.open(folder);
    let writing = true;
    const writer = (async () => {
      for (let i = 0; i < 30; i++) {
        await Promise.all(
          Array.from({ length: 5 }, () =>
            log.append({ actor: { cli: 'anna' }, action: 'key.create', target: 'k' }),
          ),
        );
      }
      writing = false;
    })();
    const results = [];
    while (writing) results.push(await verifyAuditLog(folder));
    await writer;
    await log.close();
    expect(results.length).toBeGreaterThan(1);
    expect(results.filter((result) => !result.ok)).toEqual([]);
  });

  it('finds an empty or absent log intact', async () => {
    expect(await verifyAuditLog(folder)).toMatchObject({ ok: true, entries: 0, head: undefined });
  });

  it('names the line and seq of an edited entry', async () => {
    await writeEntries(5);
    const lines = fileLines();
    lines[2] = lines[2]!.replace('person_3', 'person_7');
    rewrite(lines);
    expect((await verifyAuditLog(folder)).firstBad).toEqual({
      file: FIRST_FILE,
      line: 3,
      seq: 3,
      reason: 'hash mismatch: the entry was changed after it was written',
    });
  });

  it('finds an entry deleted from the middle by the gap it leaves', async () => {
    await writeEntries(5);
    const lines = fileLines();
    lines.splice(2, 1);
    rewrite(lines);
    const result = await verifyAuditLog(folder);
    expect(result).toMatchObject({ ok: false, entries: 2 });
    expect(result.firstBad).toMatchObject({ line: 3, seq: 4 });
    expect(result.firstBad?.reason).toMatch(/expected seq 3 but found seq 4: an entry is missing/);
  });

  it('finds reordered entries', async () => {
    await writeEntries(5);
    const lines = fileLines();
    [lines[2], lines[3]] = [lines[3]!, lines[2]!];
    rewrite(lines);
    expect((await verifyAuditLog(folder)).firstBad).toMatchObject({ line: 3, seq: 4 });
  });

  it('finds a forged entry that chains onto its predecessor at the entry after it', async () => {
    const written = await writeEntries(4);
    const unsealed = {
      ...written[2]!,
      target: 'person_forged',
      at: '2025-01-01T00:00:02.500Z',
      seq: 3,
      prev: written[1]!.hash,
    };
    const forged = { ...unsealed, hash: entryHash(unsealed) };
    const lines = fileLines();
    lines.splice(2, 0, entryLine(forged).trimEnd());
    rewrite(lines);
    const result = await verifyAuditLog(folder);
    expect(result.firstBad).toMatchObject({ line: 4, seq: 3 });
    expect(result.firstBad?.reason).toMatch(/seq 3 comes after seq 3/);
  });

  it('finds a forged entry with a made-up prev by its broken link', async () => {
    const written = await writeEntries(3);
    const unsealed = { ...written[2]!, seq: 4, target: 'person_forged', prev: 'f'.repeat(64) };
    rewrite([...fileLines(), entryLine({ ...unsealed, hash: entryHash(unsealed) }).trimEnd()]);
    const result = await verifyAuditLog(folder);
    expect(result.firstBad).toMatchObject({ line: 4, seq: 4 });
    expect(result.firstBad?.reason).toMatch(/"prev" is not the hash of seq 3/);
  });

  it('finds a truncated tail through head.json, naming the first missing seq', async () => {
    await writeEntries(5);
    rewrite(fileLines().slice(0, 3));
    const result = await verifyAuditLog(folder);
    expect(result).toMatchObject({ ok: false, entries: 3 });
    expect(result.firstBad).toEqual({
      file: FIRST_FILE,
      line: 4,
      seq: 4,
      reason: 'the log ends at seq 3, but head.json records seq 5: the last 2 entries were removed',
    });
    expect(result.anchors[0]).toMatchObject({ name: 'head.json', status: 'ahead' });
  });

  it('finds a whole deleted log, head.json included, through the external anchor', async () => {
    const anchor = memoryAnchor();
    await writeEntries(3, { anchor });
    rmSync(folder, { recursive: true });
    const result = await verifyAuditLog(folder, anchor);
    expect(result.ok).toBe(false);
    expect(result.firstBad).toMatchObject({
      seq: 1,
      reason: expect.stringMatching(/store metadata records seq 3/),
    });
  });

  it('finds a recomputed chain through head.json when the forger leaves it alone', async () => {
    const written = await writeEntries(4);
    const forged = rechain(
      written.map((entry, i) => (i === 1 ? { ...entry, target: 'person_forged' } : entry)),
    );
    rewrite(forged.map((entry) => entryLine(entry).trimEnd()));
    const result = await verifyAuditLog(folder);
    expect(result.firstBad).toMatchObject({
      line: 4,
      seq: 4,
      reason: expect.stringMatching(/hash head\.json records/),
    });
    expect(result.anchors[0]).toMatchObject({ status: 'mismatch' });
  });

  it('cannot find a recomputed chain and head.json without an external anchor, and finds it with one', async () => {
    const anchor = memoryAnchor();
    const written = await writeEntries(4, { anchor });
    const forged = rechain(
      written.map((entry, i) => (i === 1 ? { ...entry, target: 'person_forged' } : entry)),
    );
    rewrite(forged.map((entry) => entryLine(entry).trimEnd()));
    writeFileSync(join(folder, 'head.json'), JSON.stringify({ seq: 4, hash: forged[3]!.hash }));

    // The limit the anchor exists for: everything inside the folder is consistent again.
    expect((await verifyAuditLog(folder)).ok).toBe(true);
    const result = await verifyAuditLog(folder, anchor);
    expect(result.ok).toBe(false);
    expect(result.firstBad).toMatchObject({ line: 4, seq: 4 });
    expect(result.anchors[1]).toMatchObject({ name: 'store metadata', status: 'mismatch' });
  });

  it('accepts an anchor that lags behind the log and says by how much', async () => {
    const written = await writeEntries(3);
    const anchor = memoryAnchor({ seq: 1, hash: written[0]!.hash });
    const result = await verifyAuditLog(folder, anchor);
    expect(result.ok).toBe(true);
    expect(result.anchors[1]).toEqual({
      name: 'store metadata',
      status: 'behind',
      anchored: { seq: 1, hash: written[0]!.hash },
      unanchored: 2,
    });
  });

  it('reports a torn last line with the line and seq it would have had', async () => {
    await writeEntries(2);
    writeFileSync(join(folder, FIRST_FILE), `${fileLines().join('\n')}\n{"seq":3,"at":"2025`);
    const result = await verifyAuditLog(folder);
    expect(result).toMatchObject({ ok: false, entries: 2 });
    expect(result.firstBad).toMatchObject({ line: 3, seq: 3, reason: expect.stringMatching(/incomplete/) });
  });

  it('reports a line that is not JSON, and one with a field outside the hash', async () => {
    await writeEntries(3);
    const lines = fileLines();
    rewrite([lines[0]!, 'garbage', lines[2]!]);
    expect((await verifyAuditLog(folder)).firstBad).toMatchObject({ line: 2, reason: 'not valid JSON' });

    const extra = JSON.stringify({ ...JSON.parse(lines[1]!), note: 'added later' });
    rewrite([lines[0]!, extra, lines[2]!]);
    expect((await verifyAuditLog(folder)).firstBad).toMatchObject({
      line: 2,
      seq: 2,
      reason: expect.stringMatching(/"note"/),
    });
  });

  it('reports a file renamed out of its place in the chain', async () => {
    await writeEntries(6, { rotateBytes: 600 });
    renameSync(join(folder, auditFileName(3)), join(folder, auditFileName(4)));
    const result = await verifyAuditLog(folder);
    expect(result.firstBad).toMatchObject({ file: auditFileName(4), line: 1, seq: 3 });
  });

  it('reports a deleted middle file by the gap it leaves', async () => {
    await writeEntries(6, { rotateBytes: 600 });
    rmSync(join(folder, auditFileName(3)));
    const result = await verifyAuditLog(folder);
    expect(result.firstBad).toMatchObject({ file: auditFileName(5), line: 1, seq: 5 });
  });

  it('reports an unreadable head.json', async () => {
    await writeEntries(1);
    writeFileSync(join(folder, 'head.json'), '{"seq":');
    const result = await verifyAuditLog(folder);
    expect(result.ok).toBe(false);
    expect(result.firstBad).toMatchObject({ file: 'head.json', line: 0 });
    expect(result.anchors[0]).toMatchObject({ status: 'unreadable' });
  });
});

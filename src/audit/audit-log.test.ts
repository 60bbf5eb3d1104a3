import { createHash } from 'node:crypto';
import {
  appendFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditAnchor } from './audit-anchor.js';
import { type AuditEntry, type AuditHead, GENESIS_HASH } from './audit-entry.js';
import { auditFileName } from './audit-files.js';
import { AuditLog, type AuditLogOptions } from './audit-log.js';
import type { AuditRecord } from './audit-record.js';
import { verifyAuditLog } from './verify-audit-log.js';

const FIRST_FILE = auditFileName(1);

let folder: string;
let tick: number;
const clock = () => new Date(Date.UTC(2025, 0, 1) + tick++ * 1000);

beforeEach(() => {
  folder = join(mkdtempSync(join(tmpdir(), 'refinery-audit-')), 'audit');
  tick = 0;
});
afterEach(() => rmSync(join(folder, '..'), { recursive: true, force: true }));

function openLog(options: AuditLogOptions = {}) {
  return AuditLog.open(folder, { now: clock, ...options });
}

function read(person: string): AuditRecord {
  return {
    actor: { keyId: 'key_1', keyName: 'privacy desk', kind: 'admin' },
    action: 'personal_data.read',
    target: person,
    detail: { fields: ['traits', 'events'] },
  };
}

function lines(file = FIRST_FILE): string[] {
  return readFileSync(join(folder, file), 'utf8').split('\n').filter(Boolean);
}

function entries(file = FIRST_FILE): AuditEntry[] {
  return lines(file).map((line) => JSON.parse(line) as AuditEntry);
}

async function writeEntries(count: number, options: AuditLogOptions = {}): Promise<void> {
  const log = await openLog(options);
  for (let i = 1; i <= count; i++) await log.append(read(`person_${i}`));
  await log.close();
}

/** An anchor kept in memory, standing in for the store's metadata table. */
function memoryAnchor(): AuditAnchor & { head: AuditHead | undefined; failNext: boolean } {
  return {
    name: 'memory',
    head: undefined,
    failNext: false,
    async read() {
      return this.head;
    },
    async write(head) {
      if (this.failNext) {
        this.failNext = false;
        throw new Error('database unavailable');
      }
      this.head = head;
    },
  };
}

describe('AuditLog', () => {
  it('chains entries from 64 zeros, each hash being SHA-256 of the entry in canonical JSON', async () => {
    const log = await openLog();
    const first = await log.append(read('person_42'));
    const second = await log.append({ actor: { cli: 'anna' }, action: 'key.revoke', target: 'key_9' });
    await log.close();

    expect(entries()).toEqual([first, second]);
    expect(first).toMatchObject({
      seq: 1,
      at: '2025-01-01T00:00:00.000Z',
      target: 'person_42',
      prev: GENESIS_HASH,
    });
    expect(second).toMatchObject({ seq: 2, target: 'key_9', detail: {}, prev: first.hash });
    // Keys sorted at every level, no whitespace (RFC 8785), and everything but `hash` covered.
    const canonical =
      '{"action":"personal_data.read","actor":{"keyId":"key_1","keyName":"privacy desk","kind":"admin"},' +
      '"at":"2025-01-01T00:00:00.000Z","detail":{"fields":["traits","events"]},' +
      `"prev":"${GENESIS_HASH}","seq":1,"target":"person_42"}`;
    expect(first.hash).toBe(createHash('sha256').update(canonical).digest('hex'));
  });

  it('continues the chain where it left off after it is reopened', async () => {
    await writeEntries(2);
    const log = await openLog();
    expect(log.head?.seq).toBe(2);
    const third = await log.append(read('person_3'));
    await log.close();

    expect(third.seq).toBe(3);
    expect(third.prev).toBe(entries()[1]!.hash);
    expect(await verifyAuditLog(folder)).toMatchObject({ ok: true, entries: 3 });
  });

  it('gives concurrent appends their seq in call order, with no gaps, and resolves each with its entry', async () => {
    const log = await openLog();
    const appended = await Promise.all(
      Array.from({ length: 200 }, (_, i) => log.append(read(`person_${i}`))),
    );
    await log.close();

    expect(appended.map((entry) => entry.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(entries().map((entry) => entry.target)).toEqual(
      Array.from({ length: 200 }, (_, i) => `person_${i}`),
    );
    expect(entries()).toEqual(appended);
    expect(await verifyAuditLog(folder)).toMatchObject({ ok: true, entries: 200 });
  });

  it('starts a new file, named by its first seq, once the active one passes rotateBytes', async () => {
    await writeEntries(10, { rotateBytes: 1000 });
    await writeEntries(3, { rotateBytes: 1000 });

    const files = readdirSync(folder).filter((name) => name.endsWith('.ndjson'));
    expect(files.length).toBeGreaterThan(2);
    for (const file of files) expect(file).toBe(auditFileName(entries(file)[0]!.seq));
    const all = files.flatMap((file) => entries(file));
    expect(all.map((entry) => entry.seq)).toEqual(Array.from({ length: 13 }, (_, i) => i + 1));
    expect(await verifyAuditLog(folder)).toMatchObject({ ok: true, entries: 13 });
  });

  it('keeps head.json and the external anchor on the last entry after every append', async () => {
    const anchor = memoryAnchor();
    const log = await openLog({ anchor });
    const entry = await log.append(read('person_1'));
    await log.close();

    const head = { seq: 1, hash: entry.hash };
    expect(JSON.parse(readFileSync(join(folder, 'head.json'), 'utf8'))).toEqual(head);
    expect(anchor.head).toEqual(head);
  });

  it('rejects an append whose anchor cannot be written, though the entry is durable, and anchors it next time', async () => {
    const anchor = memoryAnchor();
    const log = await openLog({ anchor });
    anchor.failNext = true;
    await expect(log.append(read('person_1'))).rejects.toMatchObject({ code: 'REFINERY_ERR_INTERNAL' });
    expect(lines()).toHaveLength(1);
    expect((await verifyAuditLog(folder, anchor)).anchors[1]).toMatchObject({ status: 'absent' });

    const second = await log.append(read('person_2'));
    await log.close();
    expect(anchor.head).toEqual({ seq: 2, hash: second.hash });
  });

  it('cuts off a torn last line on open and records audit.recovered with what it removed', async () => {
    await writeEntries(3);
    const fragment = '{"seq":4,"at":"2025-01-01T00:00:0';
    appendFileSync(join(folder, FIRST_FILE), fragment);

    const log = await openLog();
    await log.append(read('person_5'));
    await log.close();

    const [, , , recovered, next] = entries();
    expect(recovered).toMatchObject({
      seq: 4,
      action: 'audit.recovered',
      actor: { system: 'audit-log' },
      target: FIRST_FILE,
      detail: {
        bytes: fragment.length,
        sha256: createHash('sha256').update(fragment).digest('hex'),
      },
    });
    expect(next).toMatchObject({ seq: 5, prev: recovered!.hash });
    expect(await verifyAuditLog(folder)).toMatchObject({ ok: true, entries: 5 });
  });

  it('removes a new file whose only line was torn, and chains on from the file before', async () => {
    await writeEntries(4, { rotateBytes: 600 });
    const files = readdirSync(folder).filter((name) => name.endsWith('.ndjson'));
    const torn = auditFileName(5);
    expect(files).not.toContain(torn);
    writeFileSync(join(folder, torn), '{"seq":5,"at":"2025-01');

    const log = await openLog({ rotateBytes: 600 });
    const recovered = await log.append(read('person_6'));
    await log.close();

    expect(entries(torn)[0]).toMatchObject({ seq: 5, action: 'audit.recovered', target: torn });
    expect(recovered.seq).toBe(6);
    expect(await verifyAuditLog(folder)).toMatchObject({ ok: true, entries: 6 });
  });

  it('refuses to open, changing nothing, when head.json is ahead of the log (its tail was cut)', async () => {
    await writeEntries(3);
    const cut = lines().slice(0, 2).join('\n');
    writeFileSync(join(folder, FIRST_FILE), `${cut}\n`);

    await expect(openLog()).rejects.toThrow(/ends at seq 2, but head\.json records seq 3/);
    expect(readFileSync(join(folder, FIRST_FILE), 'utf8')).toBe(`${cut}\n`);
    // The failed open leaves no lock behind.
    expect(readdirSync(folder)).not.toContain('writer.lock');
  });

  it('refuses to treat a last entry with its newline removed as torn when head.json records it', async () => {
    await writeEntries(3);
    const text = readFileSync(join(folder, FIRST_FILE), 'utf8');
    truncateSync(join(folder, FIRST_FILE), Buffer.byteLength(text) - 1);

    await expect(openLog()).rejects.toThrow(/ends at seq 2, but head\.json records seq 3/);
    expect(readFileSync(join(folder, FIRST_FILE), 'utf8')).toBe(text.slice(0, -1));
  });

  it('refuses to open when the last entry was edited', async () => {
    await writeEntries(2);
    const edited = lines().map((line) => line.replace('person_2', 'person_X'));
    writeFileSync(join(folder, FIRST_FILE), `${edited.join('\n')}\n`);

    await expect(openLog()).rejects.toThrow(/last entry in .* is not valid \(hash mismatch/);
  });

  it('refuses a second writer while the first holds the log, and takes over a lock left by a dead process', async () => {
    const log = await openLog();
    await expect(openLog()).rejects.toMatchObject({ code: 'REFINERY_ERR_WORKSPACE_LOCKED' });
    await log.close();

    writeFileSync(join(folder, 'writer.lock'), '2147483646\n');
    const next = await openLog();
    await next.append(read('person_1'));
    await next.close();
    expect(readdirSync(folder)).not.toContain('writer.lock');
  });

  it('refuses an email address in target or detail, and redacts one in a key name', async () => {
    const log = await openLog();
    await expect(log.append({ ...read('anna@shop.example'), detail: {} })).rejects.toMatchObject({
      code: 'REFINERY_ERR_INVALID_FIELD',
      details: { field: 'target' },
    });
    await expect(
      log.append({ ...read('person_1'), detail: { asked: ['anna@shop.example'] } }),
    ).rejects.toMatchObject({ code: 'REFINERY_ERR_INVALID_FIELD', details: { field: 'detail.asked[0]' } });
    const entry = await log.append({
      ...read('person_1'),
      actor: { keyId: 'key_2', keyName: 'anna@shop.example laptop', kind: 'admin' },
    });
    await log.close();

    expect(entry.actor).toEqual({ keyId: 'key_2', keyName: '[email] laptop', kind: 'admin' });
    expect(readFileSync(join(folder, FIRST_FILE), 'utf8')).not.toContain('@');
    expect(entry.seq).toBe(1);
  });

  it('refuses an unknown action and a detail over the size limit', async () => {
    const log = await openLog();
    await expect(log.append({ ...read('p'), action: 'person.peek' as never })).rejects.toMatchObject({
      details: { field: 'action' },
    });
    await expect(log.append({ ...read('p'), detail: { blob: 'x'.repeat(5000) } })).rejects.toMatchObject({
      details: { field: 'detail', limit: 4096 },
    });
    await log.close();
  });

  it('refuses appends once closed', async () => {
    const log = await openLog();
    await log.close();
    await expect(log.append(read('person_1'))).rejects.toMatchObject({ code: 'REFINERY_ERR_SHUTTING_DOWN' });
  });
});

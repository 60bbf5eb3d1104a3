import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listAuditFiles } from './audit-files.js';
import { AuditLog } from './audit-log.js';
import { listAuditEntries } from './audit-query.js';
import type { AuditRecord } from './audit-record.js';

let folder: string;

beforeEach(async () => {
  folder = join(mkdtempSync(join(tmpdir(), 'refinery-audit-query-')), 'audit');
  let tick = 0;
  // One entry per hour from midnight; small files, so listing crosses several.
  const log = await AuditLog.open(folder, {
    now: () => new Date(Date.UTC(2025, 0, 1, tick++)),
    rotateBytes: 400,
  });
  const records: AuditRecord[] = [
    {
      actor: { keyId: 'key_a', keyName: 'support', kind: 'admin' },
      action: 'personal_data.read',
      target: 'person_1',
    },
    { actor: { cli: 'anna' }, action: 'key.create', target: 'key_b' },
    {
      actor: { keyId: 'key_a', keyName: 'support', kind: 'admin' },
      action: 'personal_data.read',
      target: 'person_2',
    },
    {
      actor: { keyId: 'key_a', keyName: 'support', kind: 'admin' },
      action: 'personal_data.export',
      target: 'person_1',
    },
    { actor: { cli: 'anna' }, action: 'key.revoke', target: 'key_b' },
    {
      actor: { keyId: 'key_a', keyName: 'support', kind: 'admin' },
      action: 'personal_data.read',
      target: 'person_1',
    },
  ];
  for (const record of records) await log.append(record);
  await log.close();
});
afterEach(() => rmSync(join(folder, '..'), { recursive: true, force: true }));

const seqs = async (query: Parameters<typeof listAuditEntries>[1]) =>
  (await listAuditEntries(folder, query)).entries.map((entry) => entry.seq);

describe('listAuditEntries', () => {
  it('lists entries newest first across files', async () => {
    expect(listAuditFiles(folder).length).toBeGreaterThan(2);
    expect(await seqs({})).toEqual([6, 5, 4, 3, 2, 1]);
  });

  it('filters by action, target and actor together', async () => {
    expect(await seqs({ action: 'personal_data.read' })).toEqual([6, 3, 1]);
    expect(await seqs({ action: ['key.create', 'key.revoke'] })).toEqual([5, 2]);
    expect(await seqs({ target: 'person_1' })).toEqual([6, 4, 1]);
    expect(await seqs({ target: 'person_1', action: 'personal_data.read' })).toEqual([6, 1]);
    expect(await seqs({ actor: 'anna' })).toEqual([5, 2]);
  });

  it('filters by time, from inclusive and to exclusive', async () => {
    expect(
      await seqs({ from: new Date('2025-01-01T02:00:00Z'), to: new Date('2025-01-01T04:00:00Z') }),
    ).toEqual([4, 3]);
  });

  it('pages back with limit and beforeSeq', async () => {
    expect(await seqs({ limit: 2 })).toEqual([6, 5]);
    expect(await seqs({ limit: 2, beforeSeq: 5 })).toEqual([4, 3]);
    expect(await seqs({ limit: 2, beforeSeq: 3 })).toEqual([2, 1]);
  });

  it('skips and counts lines that are not entries', async () => {
    appendFileSync(listAuditFiles(folder).at(-1)!.path, '{"seq":7,"at":');
    const page = await listAuditEntries(folder, { limit: 3 });
    expect(page.entries.map((entry) => entry.seq)).toEqual([6, 5, 4]);
    expect(page.unreadableLines).toBe(1);
  });

  it('lists nothing for a log that does not exist', async () => {
    expect(await listAuditEntries(join(folder, 'missing'))).toEqual({ entries: [], unreadableLines: 0 });
  });
});

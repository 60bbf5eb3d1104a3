import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditFileName } from '../../src/audit/audit-files.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { initWorkspace } from '../../src/workspace/init-workspace.js';
import { isBuilt, runCli } from '../helpers/cli-process.js';

const temp = mkdtempSync(join(tmpdir(), 'refinery-audit-cli-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

function cli(dir: string, args: string[]) {
  return runCli([...args, '--dir', dir], { env: { REFINERY_DIR: '' } });
}

/** A fresh workspace whose audit log holds reads of person_1 … person_N by one admin key. */
async function workspaceWithEntries(name: string, count: number): Promise<{ dir: string; logFile: string }> {
  const dir = join(temp, name);
  initWorkspace(dir, { name });
  const folder = join(dir, 'data', 'audit');
  const log = await AuditLog.open(folder);
  for (let i = 1; i <= count; i++) {
    await log.append({
      actor: { keyId: 'key_1', keyName: 'support', kind: 'admin' },
      action: i % 2 === 0 ? 'personal_data.export' : 'personal_data.read',
      target: `person_${i}`,
      detail: { fields: ['traits'] },
    });
  }
  await log.close();
  return { dir, logFile: join(folder, auditFileName(1)) };
}

describe.skipIf(!isBuilt)('refinery audit (CLI)', () => {
  let intact: { dir: string; logFile: string };

  beforeAll(async () => {
    intact = await workspaceWithEntries('intact', 4);
  });

  it('verifies an intact log, exits 0 and records the verification in the log', async () => {
    const result = await cli(intact.dir, ['audit', 'verify', '--json']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({
      ok: true,
      entries: 4,
      head: { seq: 4 },
      recorded: { seq: 5, action: 'audit.verify' },
    });
    expect(report.anchors).toEqual([
      expect.objectContaining({ name: 'head.json', status: 'match' }),
      expect.objectContaining({ name: 'store metadata', status: 'absent' }),
    ]);

    const again = await cli(intact.dir, ['audit', 'verify']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('audit log intact: 5 entries, head seq 5');
    expect(again.stdout).toContain('verification recorded as seq 6');
  });

  it('lists entries newest first, filtered by action and target', async () => {
    const listed = await cli(intact.dir, ['audit', 'list', '--action', 'personal_data.read', '--json']);
    expect(listed.code).toBe(0);
    const page = JSON.parse(listed.stdout);
    expect(page.entries.map((entry: { target: string }) => entry.target)).toEqual(['person_3', 'person_1']);

    const byTarget = await cli(intact.dir, ['audit', 'list', '--target', 'person_2', '--limit', '5']);
    expect(byTarget.code).toBe(0);
    expect(byTarget.stdout).toMatch(/^seq\s+at\s+action\s+actor\s+target\s+detail/);
    expect(byTarget.stdout).toMatch(
      /\n2\s+\S+\s+personal_data\.export\s+support \(admin key key_1\)\s+person_2/,
    );
  });

  it('refuses an action that is not one the log records (usage error)', async () => {
    const result = await cli(intact.dir, ['audit', 'list', '--action', 'person.peek']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/'person\.peek' is invalid\. Allowed choices are personal_data\.read,/);
  });

  it('exits 1 naming the file, line and seq of an edited entry, and records nothing', async () => {
    const { dir, logFile } = await workspaceWithEntries('edited', 3);
    const edited = readFileSync(logFile, 'utf8').replace('person_2', 'person_9');
    writeFileSync(logFile, edited);

    const result = await cli(dir, ['audit', 'verify']);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      `audit log TAMPERED: ${auditFileName(1)} line 2 (seq 2): hash mismatch: the entry was changed after it was written`,
    );
    expect(readFileSync(logFile, 'utf8')).toBe(edited);
  });

  it('exits 1 when entries were cut off the end (head.json is ahead)', async () => {
    const { dir, logFile } = await workspaceWithEntries('truncated', 3);
    const lines = readFileSync(logFile, 'utf8').split('\n');
    writeFileSync(logFile, `${lines.slice(0, 2).join('\n')}\n`);

    const result = await cli(dir, ['audit', 'verify', '--json']);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({
      ok: false,
      firstBad: { line: 3, seq: 3, reason: expect.stringContaining('head.json records seq 3') },
    });
  });

  it("finds a deleted audit folder through the head it anchored in the store's metadata", async () => {
    const { dir } = await workspaceWithEntries('deleted', 2);
    // Recording the verification anchors the head (seq 3) in the store as well.
    expect((await cli(dir, ['audit', 'verify'])).code).toBe(0);
    rmSync(join(dir, 'data', 'audit'), { recursive: true });

    const result = await cli(dir, ['audit', 'verify']);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('the log ends at seq 0, but store metadata records seq 3');
  });
});

import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { initWorkspace } from '../../src/workspace/init-workspace.js';
import { isBuilt, runCli } from '../helpers/cli-process.js';

const temp = mkdtempSync(join(tmpdir(), 'refinery-query-cli-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe.skipIf(!isBuilt)('refinery query (CLI, no server running)', () => {
  it('records each statement in the audit log as the person at the command line, with a hash of the SQL but never its text', async () => {
    const dir = join(temp, 'direct');
    initWorkspace(dir, { name: 'direct' });
    const cli = (args: string[]) => runCli([...args, '--dir', dir], { env: { REFINERY_DIR: '' } });
    const sql = "SELECT count(*) AS n FROM customers WHERE email = 'anna@example.com'";
    const answered = await cli(['query', sql, '--json']);
    expect(answered.code, answered.stderr).toBe(0);
    expect(JSON.parse(answered.stdout)).toMatchObject({ rows: [{ n: 0 }], relations: ['customers'] });
    const refused = await cli([
      'query',
      'SELECT * FROM api_keys WHERE EXISTS (WITH api_keys AS (SELECT 1) SELECT 1)',
    ]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('REFINERY_ERR_QUERY_FORBIDDEN_FUNCTION');

    const listed = await cli(['audit', 'list', '--action', 'query.run', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).not.toContain('anna@example.com');
    const entries = (
      JSON.parse(listed.stdout).entries as { actor: unknown; detail: Record<string, unknown> }[]
    )
      .reverse()
      .map(({ actor, detail }) => ({ actor, detail }));
    expect(entries).toEqual([
      {
        actor: { cli: expect.any(String) },
        detail: {
          sqlSha256: sha256(sql),
          sqlLength: sql.length,
          relations: ['customers'],
          rows: 1,
          truncated: false,
        },
      },
      {
        actor: { cli: expect.any(String) },
        detail: expect.objectContaining({ refused: 'REFINERY_ERR_QUERY_FORBIDDEN_FUNCTION' }),
      },
    ]);
  });
});

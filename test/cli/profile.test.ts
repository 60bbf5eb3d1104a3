import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, isBuilt, runCli, serveStopper, startServeProcess } from '../helpers/cli-process.js';
import { basicAuth } from '../helpers/test-workspace.js';

function cli(dir: string, args: string[]) {
  return runCli([...args, '--dir', dir], { env: { REFINERY_DIR: '' } });
}

describe.skipIf(!isBuilt)('refinery profile (CLI)', () => {
  let dir: string;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'refinery-profile-cli-'));
    expect((await runCli(['init', dir])).code).toBe(0);
    const key = JSON.parse((await cli(dir, ['keys', 'create', '--kind', 'write', '--json'])).stdout).key;
    const port = await freePort();
    const child = await startServeProcess(dir, port);
    stop = serveStopper(child);
    const response = await fetch(`http://127.0.0.1:${port}/v1/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: basicAuth(key) },
      body: JSON.stringify({
        batch: [
          { type: 'page', anonymousId: 'laptop', name: 'Home', timestamp: '2026-03-01T09:00:00Z' },
          {
            type: 'identify',
            userId: 'grace',
            anonymousId: 'laptop',
            traits: { email: 'grace@example.com', plan: 'premium' },
            timestamp: '2026-03-01T09:05:00Z',
          },
          {
            type: 'track',
            userId: 'grace',
            event: 'Order Completed',
            properties: { order_id: 'o1', revenue: 7.5, products: [{ category: 'bread' }] },
            timestamp: '2026-03-02T08:00:00Z',
          },
        ],
      }),
    });
    expect(response.status).toBe(200);
  }, 60_000);

  afterAll(async () => {
    await stop?.();
  });

  it('shows a profile through the running server once loaded, and records the read in the audit log', async () => {
    let result = await cli(dir, ['profile', 'email:Grace@Example.com', '--json']);
    for (let attempt = 0; attempt < 50 && result.code !== 0; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      result = await cli(dir, ['profile', 'email:Grace@Example.com', '--json']);
    }
    expect(result.code, result.stderr).toBe(0);
    const profile = JSON.parse(result.stdout);
    expect(profile.traits).toEqual({ email: 'grace@example.com', plan: 'premium' });
    expect(profile.eventCount).toBe(3);
    expect(profile.computed).toMatchObject({ orderCount: 1, revenue: 7.5, favouriteCategory: 'bread' });

    const text = await cli(dir, ['profile', 'grace']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(profile.personId);
    expect(text.stdout).toMatch(/favourite\s+bread/);
    // No choice recorded: the workspace's defaults, shown as such.
    expect(text.stdout).toMatch(/advertising\s+denied\s+\(default\)/);
    expect(text.stdout).toMatch(/analytics\s+granted\s+\(default\)/);

    const search = await cli(dir, ['profile', 'search', '--trait', 'plan=premium', '--json']);
    expect(JSON.parse(search.stdout).items.map((p: { personId: string }) => p.personId)).toEqual([
      profile.personId,
    ]);

    const audit = await cli(dir, ['audit', 'list', '--action', 'personal_data.read', '--json']);
    expect(audit.code, audit.stderr).toBe(0);
    expect(audit.stdout).toContain(profile.personId);
  });

  it('answers from the store directly when no server runs, resolving identities first', async () => {
    await stop();
    const result = await cli(dir, ['profile', 'anonymous_id:laptop', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).identities).toEqual(
      expect.arrayContaining([
        { type: 'user_id', value: 'grace' },
        { type: 'anonymous_id', value: 'laptop' },
      ]),
    );
    const missing = await cli(dir, ['profile', 'user_id:nobody']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('No person is known by "user_id:nobody"');
    const verify = await cli(dir, ['audit', 'verify']);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });
});

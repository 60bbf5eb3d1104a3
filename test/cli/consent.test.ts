import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, isBuilt, runCli, serveStopper, startServeProcess } from '../helpers/cli-process.js';
import { basicAuth } from '../helpers/test-workspace.js';

function cli(dir: string, args: string[]) {
  return runCli([...args, '--dir', dir], { env: { REFINERY_DIR: '' } });
}

describe.skipIf(!isBuilt)('refinery consent (CLI)', () => {
  let dir: string;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'refinery-consent-cli-'));
    expect((await runCli(['init', dir])).code).toBe(0);
    const key = JSON.parse((await cli(dir, ['keys', 'create', '--kind', 'write', '--json'])).stdout).key;
    const port = await freePort();
    const child = await startServeProcess(dir, port);
    stop = serveStopper(child);
    const today = new Date().toISOString();
    const response = await fetch(`http://127.0.0.1:${port}/v1/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: basicAuth(key) },
      body: JSON.stringify({
        batch: [
          {
            type: 'track',
            userId: 'grace',
            event: 'Product Viewed',
            timestamp: today,
            context: { consent: { categoryPreferences: { analytics: false, Marketing: true } } },
          },
          { type: 'track', userId: 'alan', event: 'Product Viewed', timestamp: today },
        ],
      }),
    });
    expect(response.status).toBe(200);
  }, 60_000);

  afterAll(async () => {
    await stop?.();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows a person, records a decision and counts the overview through the running server', async () => {
    let shown = await cli(dir, ['consent', 'show', 'grace', '--json']);
    for (let attempt = 0; attempt < 50 && shown.code !== 0; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      shown = await cli(dir, ['consent', 'show', 'grace', '--json']);
    }
    expect(shown.code, shown.stderr).toBe(0);
    const grace = JSON.parse(shown.stdout);
    expect(grace.state.map((s: { purpose: string; granted: boolean }) => [s.purpose, s.granted])).toEqual([
      ['analytics', false],
      ['personalisation', true],
      ['advertising', true],
      ['sale_sharing', false],
    ]);
    expect(grace.history.map((h: { category: string }) => h.category)).toEqual(['analytics', 'Marketing']);

    const set = await cli(dir, [
      'consent',
      'set',
      'user_id:alan',
      '--purpose',
      'personalisation',
      '--denied',
    ]);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain('Recorded: personalisation denied for user_id:alan');

    let overview = JSON.parse((await cli(dir, ['consent', 'overview', '--json'])).stdout);
    for (let attempt = 0; attempt < 50 && overview.points.at(-1).granted.personalisation !== 1; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      overview = JSON.parse((await cli(dir, ['consent', 'overview', '--json'])).stdout);
    }
    expect(overview.points).toHaveLength(31);
    expect(overview.points.at(-1)).toMatchObject({
      people: 2,
      granted: { analytics: 1, personalisation: 1, advertising: 1, sale_sharing: 0 },
    });
    const text = await cli(dir, ['consent', 'overview', '--interval', 'week']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('Defaults: analytics granted');
    expect(text.stdout).toMatch(/1 \(50%\)/);
  });

  it('works on the store directly when no server runs, and refuses what it cannot record', async () => {
    await stop();
    const set = await cli(dir, ['consent', 'set', 'alan', '--purpose', 'advertising', '--granted', '--json']);
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toEqual({ recorded: 1 });
    const alan = JSON.parse((await cli(dir, ['consent', 'show', 'user_id:alan', '--json'])).stdout);
    expect(
      alan.state.filter((s: { granted: boolean }) => s.granted).map((s: { purpose: string }) => s.purpose),
    ).toEqual(['analytics', 'advertising']);
    expect(alan.history.map((h: { source: string }) => h.source)).toEqual(['api', 'api']);

    const both = await cli(dir, [
      'consent',
      'set',
      'alan',
      '--purpose',
      'advertising',
      '--granted',
      '--denied',
    ]);
    expect(both.code).toBe(2);
    const wrong = await cli(dir, ['consent', 'set', 'alan', '--purpose', 'marketing', '--denied']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('--purpose must be one of');
    const person = await cli(dir, [
      'consent',
      'set',
      'email:a@example.com',
      '--purpose',
      'analytics',
      '--denied',
    ]);
    expect(person.code).not.toBe(0);
    expect(person.stderr).toContain('user id or an anonymous id');
  });
});

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_PARTS } from '../../src/privacy/requests/access-bundle.js';
import { freePort, isBuilt, runCli, serveStopper, startServeProcess } from '../helpers/cli-process.js';
import { basicAuth } from '../helpers/test-workspace.js';

function cli(dir: string, args: string[], cwd?: string) {
  return runCli([...args, '--dir', dir], { env: { REFINERY_DIR: '' }, ...(cwd ? { cwd } : {}) });
}

interface ListedRequest {
  id: string;
  kind: string;
  subject: string;
  status: string;
  result: Record<string, unknown> | null;
}

async function listed(dir: string): Promise<ListedRequest[]> {
  const result = await cli(dir, ['privacy', 'requests', '--json']);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout).requests;
}

describe.skipIf(!isBuilt)('refinery privacy (CLI)', () => {
  let dir: string;
  let out: string;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'refinery-privacy-cli-'));
    out = mkdtempSync(join(tmpdir(), 'refinery-privacy-out-'));
    expect((await runCli(['init', dir])).code).toBe(0);
    const key = JSON.parse((await cli(dir, ['keys', 'create', '--kind', 'write', '--json'])).stdout).key;
    const port = await freePort();
    const child = await startServeProcess(dir, port);
    stop = serveStopper(child);
    const at = '2026-03-01T09:00:00Z';
    const response = await fetch(`http://127.0.0.1:${port}/v1/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: basicAuth(key) },
      body: JSON.stringify({
        batch: [
          { type: 'page', anonymousId: 'hopper-laptop', name: 'Home', timestamp: at },
          {
            type: 'identify',
            userId: 'hopper-grace',
            anonymousId: 'hopper-laptop',
            traits: { email: 'grace.hopper@example.com', name: 'Grace Hopper' },
            timestamp: at,
          },
          { type: 'track', userId: 'hopper-grace', event: 'Order Completed', timestamp: at },
          { type: 'identify', userId: 'turing-alan', traits: { plan: 'basic' }, timestamp: at },
          { type: 'track', userId: 'turing-alan', event: 'Product Viewed', timestamp: at },
          { type: 'identify', userId: 'knuth-don', traits: { plan: 'basic' }, timestamp: at },
        ],
      }),
    });
    expect(response.status).toBe(200);
  }, 60_000);

  afterAll(async () => {
    await stop?.();
    rmSync(out, { recursive: true, force: true });
  });

  it('writes an access bundle and a CSV per part through the running server, and lists the request', async () => {
    const folder = join(out, 'grace');
    let result = await cli(dir, [
      'privacy',
      'request',
      'access',
      '--user-id',
      'hopper-grace',
      '--out',
      folder,
      '--json',
    ]);
    // The server loads what it accepted within a second or so; until then Grace has no events.
    for (let attempt = 0; attempt < 50 && result.code === 0; attempt++) {
      const events = JSON.parse(readFileSync(join(folder, 'bundle.json'), 'utf8')).events;
      if (events.length === 3) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
      result = await cli(dir, [
        'privacy',
        'request',
        'access',
        '--user-id',
        'hopper-grace',
        '--out',
        folder,
        '--json',
      ]);
    }
    expect(result.code, result.stderr).toBe(0);
    const printed = JSON.parse(result.stdout);
    expect(printed.request).toMatchObject({ kind: 'access', status: 'done', subject: 'user_id:ho…ce' });
    expect(printed.out).toBe(folder);
    expect(readdirSync(folder).sort()).toEqual(
      ['bundle.json', ...BUNDLE_PARTS.map((p) => `${p}.csv`)].sort(),
    );
    const bundle = JSON.parse(readFileSync(join(folder, 'bundle.json'), 'utf8'));
    expect(bundle.request.id).toBe(printed.request.id);
    expect(bundle.events).toHaveLength(3);
    expect(bundle.profile.traits).toMatchObject({ email: 'grace.hopper@example.com', name: 'Grace Hopper' });
    expect(JSON.stringify(bundle)).not.toContain('turing-alan');
    const events = readFileSync(join(folder, 'events.csv'), 'utf8').trimEnd().split('\r\n');
    expect(events).toHaveLength(1 + 3);
    expect(events[0]).toContain('messageId');

    const requests = await listed(dir);
    expect(requests.find((r) => r.id === printed.request.id)).toMatchObject({
      status: 'done',
      kind: 'access',
    });

    const table = await cli(dir, ['privacy', 'requests']);
    expect(table.stdout).toContain(printed.request.id);
    expect(table.stdout).toMatch(/id\s+kind\s+subject\s+status\s+received\s+due\s+overdue/);
  });

  it('queues an erasure, runs it and prints what was deleted, through the running server', async () => {
    const queued = await cli(dir, [
      'privacy',
      'request',
      'erase',
      '--user-id',
      'turing-alan',
      '--queue',
      '--json',
    ]);
    expect(queued.code, queued.stderr).toBe(0);
    const request = JSON.parse(queued.stdout).request;
    expect(request.status).toBe('open');
    const open = await cli(dir, ['privacy', 'requests', '--status', 'open', '--json']);
    expect(JSON.parse(open.stdout).requests.map((r: ListedRequest) => r.id)).toEqual([request.id]);

    const run = await cli(dir, ['privacy', 'run', request.id]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('Erased');
    expect(run.stdout).toMatch(/event_log\s+2/);
    expect((await listed(dir)).find((r) => r.id === request.id)?.status).toBe('done');
    const profile = await cli(dir, ['profile', 'user_id:turing-alan']);
    expect(profile.code).not.toBe(0);

    const again = await cli(dir, ['privacy', 'run', request.id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('REFINERY_ERR_PRIVACY_REQUEST_STATE');
  });

  it('refuses a queued request with a reason, and names the flag of a bad request', async () => {
    const queued = await cli(dir, [
      'privacy',
      'request',
      'access',
      '--email',
      'grace.hopper@example.com',
      '--queue',
      '--json',
    ]);
    const id = JSON.parse(queued.stdout).request.id;
    const refused = await cli(dir, ['privacy', 'refuse', id, '--reason', 'Identity not verified', '--json']);
    expect(refused.code, refused.stderr).toBe(0);
    expect(JSON.parse(refused.stdout).request).toMatchObject({
      status: 'refused',
      result: { reason: 'Identity not verified' },
    });
    const noPurpose = await cli(dir, ['privacy', 'request', 'object', '--user-id', 'hopper-grace']);
    expect(noPurpose.code).toBe(2);
    expect(noPurpose.stderr).toContain('--purpose');
    const nobody = await cli(dir, ['privacy', 'request', 'erase']);
    expect(nobody.code).toBe(2);
    expect(nobody.stderr).toContain('--user-id');
    const unknown = await cli(dir, ['privacy', 'run', 'pr_0000000000000000']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('REFINERY_ERR_PRIVACY_REQUEST_NOT_FOUND');
  });

  it('does the same directly on the store when no server runs, and records it in the audit log', async () => {
    await stop();
    const cwd = mkdtempSync(join(out, 'cwd-'));
    const access = await cli(
      dir,
      ['privacy', 'request', 'access', '--anonymous-id', 'hopper-laptop', '--json'],
      cwd,
    );
    expect(access.code, access.stderr).toBe(0);
    const printed = JSON.parse(access.stdout);
    // Without --out the bundle goes to ./privacy-<id>/ in the current folder.
    const folder = join(cwd, `privacy-${printed.request.id}`);
    expect(printed.out).toBe(folder);
    expect(existsSync(join(folder, 'bundle.json'))).toBe(true);
    expect(JSON.parse(readFileSync(join(folder, 'bundle.json'), 'utf8')).events).toHaveLength(3);
    expect(readFileSync(join(folder, 'identities.csv'), 'utf8')).toContain('user_id,hopper-grace');

    const queued = await cli(dir, [
      'privacy',
      'request',
      'erase',
      '--user-id',
      'knuth-don',
      '--queue',
      '--json',
    ]);
    expect(queued.code, queued.stderr).toBe(0);
    const id = JSON.parse(queued.stdout).request.id;
    const run = await cli(dir, ['privacy', 'run', id, '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).request).toMatchObject({
      status: 'done',
      result: { deleted: { event_log: 1, identity_persons: 1 } },
    });

    const object = await cli(dir, [
      'privacy',
      'request',
      'object',
      '--user-id',
      'hopper-grace',
      '--purpose',
      'advertising',
    ]);
    expect(object.code, object.stderr).toBe(0);
    expect(object.stdout).toContain('objects to advertising');
    const consents = await cli(dir, [
      'query',
      "SELECT purpose, granted, source FROM consents WHERE identifier_value = 'hopper-grace'",
      '--json',
    ]);
    expect(consents.code, consents.stderr).toBe(0);
    expect(consents.stdout).toContain('"source": "api"');

    const later = await cli(dir, [
      'privacy',
      'request',
      'access',
      '--email',
      'grace.hopper@example.com',
      '--queue',
      '--json',
    ]);
    const laterId = JSON.parse(later.stdout).request.id;
    const laterFolder = join(out, 'later');
    const ran = await cli(dir, ['privacy', 'run', laterId, '--out', laterFolder]);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toContain(laterFolder);
    expect(JSON.parse(readFileSync(join(laterFolder, 'bundle.json'), 'utf8')).request).toMatchObject({
      id: laterId,
      status: 'done',
    });

    const queuedAgain = await cli(dir, [
      'privacy',
      'request',
      'access',
      '--user-id',
      'hopper-grace',
      '--queue',
      '--json',
    ]);
    const refused = await cli(dir, [
      'privacy',
      'refuse',
      JSON.parse(queuedAgain.stdout).request.id,
      '--reason',
      'Duplicate',
    ]);
    expect(refused.code, refused.stderr).toBe(0);
    expect(refused.stdout).toContain('refused: Duplicate');

    const statuses = (await listed(dir)).map((r) => `${r.kind}:${r.status}`);
    expect(statuses).toEqual(
      expect.arrayContaining(['access:done', 'erase:done', 'object:done', 'access:refused']),
    );

    const exports = await cli(dir, ['audit', 'list', '--action', 'personal_data.export', '--json']);
    expect(exports.stdout).toContain(printed.request.id);
    const erasures = await cli(dir, ['audit', 'list', '--action', 'personal_data.erase', '--json']);
    expect(erasures.stdout).toContain(id);
    const verify = await cli(dir, ['audit', 'verify']);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });
});

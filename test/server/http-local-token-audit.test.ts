import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, isBuilt, waitForExit } from '../helpers/cli-process.js';
import { startTestWorkspace, type TestWorkspace } from '../helpers/test-workspace.js';

interface Entry {
  action: string;
  target: string | null;
  actor: { keyId?: string; keyName?: string; kind?: string };
}

const onLinux = process.platform === 'linux';

let ws: TestWorkspace;

beforeAll(async () => {
  ws = await startTestWorkspace();
});
afterAll(async () => {
  await ws?.close();
});

async function keyCreations(): Promise<Entry[]> {
  const response = await ws.server.app.inject({
    method: 'GET',
    url: '/v1/audit?action=key.create',
    headers: { authorization: `Bearer ${ws.adminKey}` },
  });
  expect(response.statusCode).toBe(200);
  return (response.json() as { entries: Entry[] }).entries;
}

async function createdBy(name: string): Promise<Entry['actor'] | undefined> {
  const keys = await ws.server.app.inject({
    method: 'GET',
    url: '/v1/keys',
    headers: { authorization: `Bearer ${ws.adminKey}` },
  });
  const id = (keys.json() as { keys: { id: string; name: string }[] }).keys.find(
    (key) => key.name === name,
  )?.id;
  return (await keyCreations()).find((entry) => entry.target === id)?.actor;
}

// Whoever can read data/server.json holds the local admin token: the audit log names who used it, as the
// kernel reports the connection's owner, instead of "local CLI".
describe('actions done with the local admin token', () => {
  it('are recorded as the local admin token, not as the CLI, with the OS user and process behind it', async () => {
    const response = await fetch(`${ws.server.url}/v1/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ws.server.localToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'read', name: 'made over the socket' }),
    });
    expect(response.status).toBe(201);
    const actor = await createdBy('made over the socket');
    expect(actor).toMatchObject({ keyId: 'local-token', kind: 'admin' });
    expect(actor?.keyName).toMatch(/^local admin token, used by /);
    expect(actor?.keyName).not.toContain('CLI');
    if (onLinux) {
      expect(actor?.keyName).toContain(`uid ${process.getuid?.()}`);
      // The test process is the client here.
      expect(actor?.keyName).toContain(`pid ${process.pid} `);
    }
  });

  it.skipIf(!isBuilt || !onLinux)('name the process of a refinery command that used it', async () => {
    const child = spawn(
      process.execPath,
      [BIN, 'keys', 'create', '--kind', 'read', '--name', 'made by the CLI', '--dir', ws.dir],
      { stdio: 'ignore', env: { ...process.env, CI: 'true' } },
    );
    expect(await waitForExit(child)).toBe(0);
    const actor = await createdBy('made by the CLI');
    expect(actor?.keyId).toBe('local-token');
    expect(actor?.keyName).toContain(`uid ${process.getuid?.()}`);
    expect(actor?.keyName).toContain(`pid ${child.pid} `);
  });

  it('keep the name of an API key for actions done with one', async () => {
    const response = await ws.server.app.inject({
      method: 'POST',
      url: '/v1/keys',
      headers: { authorization: `Bearer ${ws.adminKey}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ kind: 'read', name: 'made with a key' }),
    });
    expect(response.statusCode).toBe(201);
    const actor = await createdBy('made with a key');
    expect(actor).toMatchObject({ keyName: 'admin key', kind: 'admin' });
    expect(actor?.keyId).not.toBe('local-token');
  });
});

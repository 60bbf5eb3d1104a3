import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, isBuilt, runCli, serveStopper, startServeProcess } from '../helpers/cli-process.js';
import { basicAuth } from '../helpers/test-workspace.js';

const CONTRACT = `apiVersion: v3.1.0
kind: DataContract
id: checkout
version: 1.0.0
status: active
schema:
  - name: checkout_started
    physicalType: track
    physicalName: Checkout Started
    properties:
      - name: cart_id
        logicalType: string
        required: true
`;

function cli(dir: string, args: string[]) {
  return runCli([...args, '--dir', dir], { env: { REFINERY_DIR: '' } });
}

describe.skipIf(!isBuilt)('refinery quarantine and contract list (CLI)', () => {
  let dir: string;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    dir = mkdtempSync(join(tmpdir(), 'refinery-quarantine-cli-'));
    expect((await runCli(['init', dir])).code).toBe(0);
    mkdirSync(join(dir, 'contracts'), { recursive: true });
    writeFileSync(join(dir, 'contracts', 'checkout.odcs.yaml'), CONTRACT);
    const key = JSON.parse((await cli(dir, ['keys', 'create', '--kind', 'write', '--json'])).stdout).key;
    const port = await freePort();
    const child = await startServeProcess(dir, port);
    stop = serveStopper(child);
    const response = await fetch(`http://127.0.0.1:${port}/v1/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: basicAuth(key) },
      body: JSON.stringify({
        batch: ['q1', 'q2', 'q3'].map((id) => ({
          type: 'track',
          event: 'Checkout Started',
          userId: 'u1',
          messageId: id,
          properties: { total: 1 },
        })),
      }),
    });
    expect((await response.json()).quarantined).toHaveLength(3);
  }, 60_000);

  afterAll(async () => {
    await stop?.();
  });

  it('lists the contracts in force with their modes, through the running server', async () => {
    const listed = await cli(dir, ['contract', 'list', '--json']);
    expect(listed.code).toBe(0);
    const overview = JSON.parse(listed.stdout);
    expect(overview.contracts[0].governs[0]).toMatchObject({
      kind: 'track',
      target: 'Checkout Started',
      mode: 'enforce',
    });
  });

  it('lists and shows held events with their violations', async () => {
    // The loader runs on a timer; wait until all three are loaded.
    let items: { id: string }[] = [];
    for (let i = 0; i < 50 && items.length < 3; i++) {
      items = JSON.parse((await cli(dir, ['quarantine', 'list', '--json'])).stdout).items;
      if (items.length < 3) await new Promise((r) => setTimeout(r, 200));
    }
    expect(items.map((i) => i.id).sort()).toEqual(['q1', 'q2', 'q3']);
    const shown = await cli(dir, ['quarantine', 'show', 'q1']);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('properties.cart_id');
    expect(shown.stdout).toContain('"total": 1');
    const missing = await cli(dir, ['quarantine', 'show', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('REFINERY_ERR_QUARANTINE_NOT_FOUND');
  });

  it('refuses a replay that names no events', async () => {
    const result = await cli(dir, ['quarantine', 'replay']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--all');
  });

  it('replays corrected payloads from an exported file, and exits 1 while others still fail', async () => {
    const exported = await cli(dir, ['quarantine', 'export', '--event', 'Checkout Started']);
    const lines = exported.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toHaveLength(3);
    const q1 = lines.find((line) => line.id === 'q1');
    q1.payload.properties.cart_id = 'cart-9';
    const fixes = join(dir, 'fixed.ndjson');
    writeFileSync(fixes, `${JSON.stringify(q1)}\n`);
    const replay = await cli(dir, ['quarantine', 'replay', '--from-file', fixes, '--json']);
    expect(replay.code).toBe(0);
    expect(JSON.parse(replay.stdout)).toMatchObject({ selected: 1, replayed: 1, stillFailing: [] });
    const stillFailing = await cli(dir, ['quarantine', 'replay', '--all']);
    expect(stillFailing.code).toBe(1);
    expect(stillFailing.stdout).toContain('2 still failing');
  });

  it('discards by id and exports CSV', async () => {
    const discarded = await cli(dir, ['quarantine', 'discard', 'q2', '--json']);
    expect(JSON.parse(discarded.stdout)).toEqual({ discarded: 1 });
    const csv = (await cli(dir, ['quarantine', 'export', '--status', 'discarded', '--format', 'csv'])).stdout;
    expect(csv.split('\n')[0]).toBe('id,received_at,source,type,event,contract,status,violations,payload');
    expect(csv).toContain('q2,');
  });

  it('replays in the workspace directly once the server is gone, after the contract is relaxed', async () => {
    await stop();
    writeFileSync(
      join(dir, 'contracts', 'checkout.odcs.yaml'),
      readFileSync(join(dir, 'contracts', 'checkout.odcs.yaml'), 'utf8').replace(
        'required: true',
        'required: false',
      ),
    );
    const replay = await cli(dir, ['quarantine', 'replay', '--all', '--json']);
    expect(JSON.parse(replay.stdout)).toMatchObject({ selected: 1, replayed: 1 });
    const stored = await cli(dir, ['query', 'SELECT message_id FROM events ORDER BY message_id', '--json']);
    expect(JSON.parse(stored.stdout).rows.map((r: { message_id: string }) => r.message_id)).toEqual([
      'q1',
      'q3',
    ]);
    const counts = JSON.parse(
      (await cli(dir, ['quarantine', 'list', '--status', 'replayed', '--json'])).stdout,
    );
    expect(counts.counts).toEqual([
      { status: 'discarded', count: 1 },
      { status: 'replayed', count: 2 },
    ]);
  });

  it('refuses to serve a workspace whose contracts conflict, naming both files', async () => {
    writeFileSync(
      join(dir, 'contracts', 'copy.odcs.yaml'),
      CONTRACT.replace('id: checkout', 'id: checkout-copy'),
    );
    const result = await cli(dir, ['contract', 'list']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('REFINERY_ERR_CONTRACT_CONFLICT');
    expect(result.stderr).toMatch(/checkout\.odcs\.yaml.*copy\.odcs\.yaml/);
  });
});

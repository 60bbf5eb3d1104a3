import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../../src/runtime/server-runtime.js';
import { isBuilt, runCli } from '../helpers/cli-process.js';
import { basicAuth, startTestWorkspace, type TestWorkspace } from '../helpers/test-workspace.js';

// `refinery quarantine replay --from-file` writes corrected payloads to a decision file the store loads, and a
// server finishes any decision file left behind before it starts. A lone surrogate in one (from the file, or
// from a violation excerpt cut inside an emoji) failed the load and then every start.
const CART_CONTRACT = `apiVersion: v3.1.0
kind: DataContract
id: carts
version: 1.0.0
status: active
customProperties:
  - property: refinery.mode
    value: enforce
schema:
  - name: checkout_started
    physicalType: track
    physicalName: Checkout Started
    properties:
      - name: cart_id
        logicalType: string
        required: true
        logicalTypeOptions:
          pattern: "^[a-z0-9-]+$"
`;

const EMOJI = '\u{1F600}';

describe.skipIf(!isBuilt)('quarantine replay from a file (CLI, no server running)', () => {
  let ws: TestWorkspace;

  beforeAll(async () => {
    ws = await startTestWorkspace({
      yamlExtra: 'contracts:\n  reloadIntervalMs: 0',
      contracts: { 'carts.odcs.yaml': CART_CONTRACT },
    });
    const answer = await ws.server.app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: { 'content-type': 'application/json', authorization: basicAuth(ws.writeKey) },
      payload: JSON.stringify({
        batch: ['held-1', 'held-2'].map((id) => ({
          type: 'track',
          event: 'Checkout Started',
          userId: 'shopper',
          messageId: id,
          properties: {},
        })),
      }),
    });
    expect(answer.json().quarantined).toHaveLength(2);
    await ws.drain();
    // The CLI opens the store itself only while no server holds it.
    await ws.server.close();
  }, 60_000);

  afterAll(async () => {
    await ws?.close();
  });

  it('refuses a corrected payload holding a lone surrogate, stores a forced one whose excerpt is cut inside an emoji, and the server starts after', async () => {
    const file = join(ws.dir, 'fixes.ndjson');
    const base = '"type":"track","event":"Checkout Started","userId":"shopper"';
    writeFileSync(
      file,
      [
        `{"id":"held-1","payload":{${base},"properties":{"cart_id":"c\\ud800"}}}`,
        // Breaks the pattern; its excerpt is the quote, 78 letters and the emoji's first half.
        JSON.stringify({
          id: 'held-2',
          payload: { ...JSON.parse(`{${base}}`), properties: { cart_id: `${'x'.repeat(78)}${EMOJI}` } },
        }),
      ].join('\n'),
    );
    const store =
      ws.server.store.engine === 'clickhouse' ? { REFINERY_STORE: ws.server.config.store.url } : {};
    const replay = await runCli(
      ['quarantine', 'replay', '--from-file', file, '--force', '--json', '--dir', ws.dir],
      { env: { REFINERY_DIR: '', ...store } },
    );
    const report = JSON.parse(replay.stdout);
    expect(report).toMatchObject({ replayed: 1, stillFailing: [{ id: 'held-1' }] });
    expect(report.stillFailing[0].violations[0]).toMatchObject({
      path: 'properties.cart_id',
      rule: 'segment-spec',
    });
    expect(report.stillFailing[0].violations[0].message).toContain('lone surrogate');

    const again = await startServer({
      dir: ws.dir,
      storeUrl: ws.server.store.engine === 'clickhouse' ? ws.server.config.store.url : undefined,
      port: 0,
      host: '127.0.0.1',
      onLoaderError: () => undefined,
    });
    try {
      const stored = await again.store.readOnlyQuery(
        "SELECT message_id FROM events WHERE event = 'Checkout Started' ORDER BY message_id",
        { timeoutMs: 30_000, maxRows: 10 },
      );
      expect(stored.rows).toEqual([{ message_id: 'held-2' }]);
    } finally {
      await again.close();
    }
  });
});

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestWorkspace, type TestWorkspace } from '../helpers/test-workspace.js';

const COMMITTED = fileURLToPath(new URL('../../docs/openapi.json', import.meta.url));

/** The same formatting scripts/write-openapi.mjs writes: 2-space JSON and a final newline. */
function formatted(document: unknown): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}

describe('the OpenAPI document', () => {
  let ws: TestWorkspace;

  beforeAll(async () => {
    ws = await startTestWorkspace();
  });

  afterAll(async () => {
    await ws?.close();
  });

  it('matches docs/openapi.json, the committed copy', async () => {
    const response = await ws.server.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(response.statusCode).toBe(200);
    const built = formatted(response.json());
    const committed = readFileSync(COMMITTED, 'utf8');
    // Compare parsed documents first for a readable diff, then the text for formatting drift.
    expect(
      JSON.parse(committed),
      'docs/openapi.json is out of date with the route schemas: run `npm run openapi` and commit the result',
    ).toEqual(JSON.parse(built));
    expect(
      committed,
      'docs/openapi.json is not formatted as the generator writes it: run `npm run openapi`',
    ).toBe(built);
  });

  it('is browsable as HTML at /docs', async () => {
    const response = await ws.server.app.inject({ method: 'GET', url: '/docs' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.body).toMatch(/<html/i);
  });
});

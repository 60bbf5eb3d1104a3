// openapi — writes the OpenAPI document the server builds from its route schemas to docs/openapi.json.
// Usage: npm run build && npm run openapi
// It imports the compiled dist/, starts a server on a throwaway workspace bound to loopback (port 0),
// asks it for /openapi.json in-process, and writes the answer with stable formatting.
// test/docs/openapi.test.ts fails when the committed file differs from what the server builds.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const runtime = new URL('../dist/runtime/server-runtime.js', import.meta.url);
const init = new URL('../dist/workspace/init-workspace.js', import.meta.url);
const target = fileURLToPath(new URL('../docs/openapi.json', import.meta.url));

if (!existsSync(fileURLToPath(runtime))) {
  console.error('openapi: dist/ is missing; run `npm run build` first.');
  process.exit(1);
}

const { startServer } = await import(runtime.href);
const { initWorkspace } = await import(init.href);

const dir = mkdtempSync(join(tmpdir(), 'refinery-openapi-'));
let server;
try {
  initWorkspace(dir, { name: 'openapi' });
  server = await startServer({ dir, port: 0, host: '127.0.0.1', onLoaderError: () => undefined });
  const response = await server.app.inject({ method: 'GET', url: '/openapi.json' });
  if (response.statusCode !== 200) {
    throw new Error(`GET /openapi.json answered ${response.statusCode}: ${response.body}`);
  }
  writeFileSync(target, `${JSON.stringify(response.json(), null, 2)}\n`);
  console.log(`openapi: wrote ${target}`);
} finally {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
}

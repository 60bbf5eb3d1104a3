// The second pass of `npm test`: the integration tests that talk to a store (collection, SDKs, the fuzz harness,
// dashboard) run again with REFINERY_TEST_STORE=clickhouse, each test workspace on a ClickHouse server of its own.
// Without clickhouse-server on the machine the pass is skipped with a message (CI installs it).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const installed =
  ['/usr/bin/clickhouse-server', '/usr/sbin/clickhouse-server'].some((path) => existsSync(path)) ||
  spawnSync('sh', ['-c', 'command -v clickhouse-server'], { stdio: 'ignore' }).status === 0;
if (!installed) {
  console.log(
    'Integration tests on ClickHouse skipped: clickhouse-server is not installed (bash .ci/run installs it).',
  );
  process.exit(0);
}
const vitest = fileURLToPath(new URL('../node_modules/vitest/vitest.mjs', import.meta.url));
console.log('Integration tests again, on ClickHouse (REFINERY_TEST_STORE=clickhouse):');
const run = spawnSync(process.execPath, [vitest, 'run', 'test/collect', 'test/fuzz', 'test/browser'], {
  stdio: 'inherit',
  env: { ...process.env, REFINERY_TEST_STORE: 'clickhouse' },
});
process.exit(run.status ?? 1);

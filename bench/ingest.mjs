// bench:ingest — durable ingest throughput against a no-op Fastify ceiling measured in the same run.
// Usage: npm run bench:ingest [-- --seconds 15 --connections 64 --batch 100]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '15' },
    connections: { type: 'string', default: '64' },
    batch: { type: 'string', default: '100' },
    workers: { type: 'string', default: '1' },
  },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const batchSize = Number(values.batch);
const bin = fileURLToPath(new URL('../bin/refinery.js', import.meta.url));
const noop = fileURLToPath(new URL('./noop-server.mjs', import.meta.url));

async function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function run(args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], ...options });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${args.join(' ')} exited ${code}`)),
    );
  });
}

async function waitHealthy(url, child) {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error('server exited');
    try {
      const r = await fetch(url);
      if (r.status < 500) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not healthy: ${url}`);
}

function peakRssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

// One body template per run; each request swaps the placeholder for a fresh prefix, so every event has a
// unique messageId and nothing is dropped as a duplicate.
function batchTemplate() {
  const batch = Array.from({ length: batchSize }, (_, i) => ({
    type: 'track',
    event: i % 3 ? 'Product Viewed' : 'Product Added',
    userId: `user-${i % 50}`,
    messageId: `__ID__-${i}`,
    timestamp: '2026-11-23T10:00:00.000Z',
    properties: { product_id: `p_${i % 200}`, price: 2.4, category: 'bread', quantity: 1 },
    context: {
      library: { name: 'bench', version: '1' },
      userAgent:
        'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
      ip: '203.0.113.9',
    },
  }));
  return JSON.stringify({ batch });
}

async function load(url, headers) {
  const template = batchTemplate();
  let counter = 0;
  const result = await autocannon({
    url,
    method: 'POST',
    connections,
    duration: seconds,
    headers: { 'content-type': 'application/json', ...headers },
    requests: [
      {
        setupRequest(request) {
          counter++;
          return { ...request, body: template.replaceAll('__ID__', `${process.pid}-${counter}`) };
        },
      },
    ],
  });
  const ok = result['2xx'];
  return {
    requests: ok,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    eventsPerSecond: (ok * batchSize) / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
  };
}

// Contracts on every event of the bench load: types, required fields, a pattern, ranges and valid values.
const BENCH_CONTRACT = `apiVersion: v3.1.0
kind: DataContract
id: bench-events
version: 1.0.0
status: active
customProperties:
  - property: refinery.mode
    value: enforce
schema:
${['Product Viewed', 'Product Added']
  .map(
    (event) => `  - name: ${event.toLowerCase().replace(' ', '_')}
    physicalType: track
    physicalName: ${event}
    properties:
      - name: product_id
        logicalType: string
        required: true
        logicalTypeOptions:
          pattern: "^p_[0-9]+$"
      - name: price
        logicalType: number
        required: true
        logicalTypeOptions:
          minimum: 0
      - name: category
        logicalType: string
        quality:
          - metric: invalidValues
            arguments:
              validValues: [bread, pastry, cake, drinks]
            mustBe: 0
      - name: quantity
        logicalType: integer
        logicalTypeOptions:
          minimum: 1
          maximum: 1000
`,
  )
  .join('')}`;

/** The mean of several runs of one configuration (latencies and RSS: the worse run). */
function meanOf(runs) {
  const mean = (key) => runs.reduce((sum, run) => sum + run[key], 0) / runs.length;
  const worst = (key) => Math.max(...runs.map((run) => run[key]));
  return {
    eventsPerSecond: mean('eventsPerSecond'),
    requests: runs.reduce((sum, run) => sum + run.requests, 0),
    non2xx: runs.reduce((sum, run) => sum + run.non2xx, 0),
    errors: runs.reduce((sum, run) => sum + run.errors, 0),
    p50: worst('p50'),
    p99: worst('p99'),
    rss: worst('rss'),
    stored: runs.at(-1).stored,
    quarantined: runs.reduce((sum, run) => sum + (run.quarantined ?? 0), 0),
    catchUpSeconds: worst('catchUpSeconds'),
  };
}

async function makeWorkspace(withContracts) {
  const dir = mkdtempSync(join(tmpdir(), 'refinery-bench-'));
  await run([bin, 'init', dir]);
  const file = join(dir, 'refinery.yaml');
  let yaml = readFileSync(file, 'utf8');
  if (process.env.BENCH_LOADER_INTERVAL_MS) {
    yaml = yaml.replace(/loaderIntervalMs: \d+/, `loaderIntervalMs: ${process.env.BENCH_LOADER_INTERVAL_MS}`);
  }
  // Every event must be declared: anything else would be quarantined.
  if (withContracts) yaml = yaml.replace(/undeclared: allow/, 'undeclared: quarantine');
  writeFileSync(file, yaml);
  if (withContracts) writeFileSync(join(dir, 'contracts', 'bench.odcs.yaml'), BENCH_CONTRACT);
  const { key } = JSON.parse(await run([bin, 'keys', 'create', '--kind', 'write', '--json', '--dir', dir]));
  return { dir, key };
}

async function benchRefinery({ dir, key }, label) {
  const port = await freePort();
  const server = spawn(
    process.execPath,
    [
      ...(process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean),
      bin,
      'serve',
      '--dir',
      dir,
      '--port',
      String(port),
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  await waitHealthy(`http://127.0.0.1:${port}/healthz`, server);
  console.log(`Refinery ${label}: same load, acknowledged only after fsync…`);
  const auth = `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
  const result = await load(`http://127.0.0.1:${port}/v1/batch`, { authorization: auth });
  const rss = peakRssMb(server.pid);
  // Give the loader a moment, then report how far behind it is and what the store holds.
  const token = JSON.parse(readFileSync(join(dir, 'data', 'server.json'), 'utf8')).token;
  const stats = async () =>
    (
      await fetch(`http://127.0.0.1:${port}/v1/stats`, { headers: { authorization: `Bearer ${token}` } })
    ).json();
  const started = Date.now();
  let s = await stats();
  while ((s.loader.lagEvents > 0 || s.loader.pendingSegments > 0) && Date.now() - started < 300_000) {
    await new Promise((r) => setTimeout(r, 500));
    s = await stats();
  }
  const catchUpSeconds = (Date.now() - started) / 1000;
  server.kill('SIGTERM');
  await new Promise((resolve) => server.once('exit', resolve));
  return { ...result, rss, stored: s.events.total, quarantined: s.ingest.quarantinedTotal, catchUpSeconds };
}

/**
 * The validator's own CPU time per event, measured in-process on the bench events: steadier than the
 * difference of two noisy throughput runs on a shared machine, and comparable with the time one core has
 * per event at the measured rate.
 */
async function validationNanosPerEvent() {
  const { readContract } = await import('../dist/contracts/contract-model.js');
  const { ContractSet } = await import('../dist/contracts/contract-set.js');
  const { parseOdcsText } = await import('../dist/contracts/odcs-source.js');
  const set = new ContractSet([readContract(parseOdcsText(BENCH_CONTRACT, 'bench.odcs.yaml'))], 'quarantine');
  const messages = JSON.parse(batchTemplate()).batch.map((m) => ({ ...m, name: null, traits: null }));
  const rounds = 20_000;
  for (let i = 0; i < 2000; i++) for (const m of messages) set.check(m);
  const started = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) for (const m of messages) set.check(m);
  return Number(process.hrtime.bigint() - started) / (rounds * messages.length);
}

const plainWorkspace = await makeWorkspace(false);
const governedWorkspace = await makeWorkspace(true);
try {
  const noopPort = await freePort();
  const noopServer = spawn(process.execPath, [noop, String(noopPort)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await waitHealthy(`http://127.0.0.1:${noopPort}/`, noopServer);
  console.log(`no-op Fastify: ${connections} connections × ${batchSize}-event batches for ${seconds}s…`);
  const baseline = await load(`http://127.0.0.1:${noopPort}/v1/batch`, {});
  noopServer.kill('SIGTERM');

  // A-B-B-A: each configuration runs once early and once late, so disk write-back left by one run and
  // other drift on a shared machine weigh on both alike; each run starts after a sync.
  const plainRuns = [];
  const governedRuns = [];
  for (const [runs, workspace, label] of [
    [plainRuns, plainWorkspace, 'without contracts'],
    [governedRuns, governedWorkspace, 'with contracts enforced on every event'],
    [governedRuns, governedWorkspace, 'with contracts enforced on every event'],
    [plainRuns, plainWorkspace, 'without contracts'],
  ]) {
    spawnSync('sync');
    runs.push(await benchRefinery(workspace, label));
  }
  const refinery = meanOf(plainRuns);
  const governed = meanOf(governedRuns);

  const ratio = refinery.eventsPerSecond / baseline.eventsPerSecond;
  const contractCost = 1 - governed.eventsPerSecond / refinery.eventsPerSecond;
  const rows = [
    ['', 'no-op Fastify', 'Refinery (durable)', 'Refinery + contracts'],
    [
      'events/s',
      baseline.eventsPerSecond.toFixed(0),
      refinery.eventsPerSecond.toFixed(0),
      governed.eventsPerSecond.toFixed(0),
    ],
    ['requests ok', baseline.requests, refinery.requests, governed.requests],
    [
      'non-2xx / errors',
      `${baseline.non2xx} / ${baseline.errors}`,
      `${refinery.non2xx} / ${refinery.errors}`,
      `${governed.non2xx} / ${governed.errors}`,
    ],
    ['p50 ack latency (ms)', baseline.p50, refinery.p50, governed.p50],
    ['p99 ack latency (ms)', baseline.p99, refinery.p99, governed.p99],
    ['server peak RSS (MB)', '', refinery.rss.toFixed(0), governed.rss.toFixed(0)],
  ];
  console.log('');
  for (const row of rows) console.log(row.map((c, i) => String(c).padEnd(i === 0 ? 22 : 22)).join(''));
  console.log('');
  console.log(
    `durable events/s: ${refinery.eventsPerSecond.toFixed(0)}  (${(ratio * 100).toFixed(1)} % of the no-op ceiling)`,
  );
  console.log(
    `with contracts on every event: ${governed.eventsPerSecond.toFixed(0)} events/s; validation costs ${(contractCost * 100).toFixed(1)} % of throughput (${governed.quarantined} quarantined)`,
  );
  const nanos = await validationNanosPerEvent();
  const budgetNanos = 1e9 / refinery.eventsPerSecond;
  console.log(
    `validator CPU: ${nanos.toFixed(0)} ns per event = ${((nanos / budgetNanos) * 100).toFixed(1)} % of the ${budgetNanos.toFixed(0)} ns one core has per event at ${refinery.eventsPerSecond.toFixed(0)} events/s`,
  );
  console.log(
    `single runs (events/s): without contracts ${plainRuns.map((r) => r.eventsPerSecond.toFixed(0)).join(', ')}; with contracts ${governedRuns.map((r) => r.eventsPerSecond.toFixed(0)).join(', ')}`,
  );
  console.log(
    `store after the runs: ${refinery.stored} / ${governed.stored} events; loader caught up ${refinery.catchUpSeconds.toFixed(1)} s / ${governed.catchUpSeconds.toFixed(1)} s after the load stopped`,
  );
  console.log(
    `targets: ≥ 150000 events/s ${refinery.eventsPerSecond >= 150_000 ? 'met' : 'NOT met'}; ≥ 30 % of ceiling ${ratio >= 0.3 ? 'met' : 'NOT met'}; RSS < 1024 MB ${refinery.rss < 1024 ? 'met' : 'NOT met'}; contract cost ≤ 15 % ${contractCost <= 0.15 ? 'met' : 'NOT met'}`,
  );
} finally {
  rmSync(plainWorkspace.dir, { recursive: true, force: true });
  rmSync(governedWorkspace.dir, { recursive: true, force: true });
}

// bench:store — the same synthetic dataset loaded into DuckDB and ClickHouse in one run: ingest throughput,
// query latency and whether both engines give the same answers.
// Usage: npm run build && npm run bench:store [-- --events 1000000 --segment 50000 --users 50000 --days 90]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    segment: { type: 'string', default: '50000' },
    users: { type: 'string', default: '50000' },
    days: { type: 'string', default: '90' },
    seed: { type: 'string', default: '1' },
    runs: { type: 'string', default: '3' },
  },
});
const totalEvents = Number(values.events);
const segmentSize = Number(values.segment);
const userCount = Number(values.users);
const days = Number(values.days);
const seed = Number(values.seed);
const runs = Number(values.runs);
for (const [flag, value] of Object.entries({
  events: totalEvents,
  segment: segmentSize,
  users: userCount,
  runs,
})) {
  if (!Number.isSafeInteger(value) || value < 1) {
    console.error(`bench:store: --${flag} must be a positive integer`);
    process.exit(2);
  }
}
if (!Number.isSafeInteger(days) || days < 30) {
  console.error('bench:store: --days must be an integer ≥ 30 (one query covers the last 30 days)');
  process.exit(2);
}

const root = fileURLToPath(new URL('..', import.meta.url));
const openStoreModule = join(root, 'dist', 'store', 'open-store.js');
if (!existsSync(openStoreModule)) {
  console.error(`bench:store: ${openStoreModule} is missing; run \`npm run build\` first.`);
  process.exit(1);
}
const { openStore } = await import(openStoreModule);
const devScript = join(root, 'scripts', 'clickhouse-dev.sh');

const REQUEST_SIZE = 100; // events per WAL request line, like a typical SDK batch
const STREAM = 'bench';
const START = Date.UTC(2026, 0, 1); // the dataset covers [START, START + days)
const QUERY_OPTIONS = { timeoutMs: 60_000, maxRows: 100_000 };

// ~20 call names with a skewed mix; the three page views exercise topEventNames' `page: <name>` branch.
const CALLS = [
  ['track', 'Product Viewed', 30],
  ['page', 'Home', 12],
  ['track', 'Products Searched', 10],
  ['page', 'Product', 8],
  ['track', 'Product Added', 8],
  ['track', 'Product Clicked', 5],
  ['track', 'Cart Viewed', 4],
  ['page', 'Checkout', 3],
  ['track', 'Checkout Started', 3],
  ['track', 'Product Removed', 2],
  ['track', 'Order Completed', 2],
  ['track', 'Payment Info Entered', 2],
  ['track', 'Coupon Applied', 2],
  ['track', 'Promotion Viewed', 2],
  ['track', 'Product Shared', 1],
  ['track', 'Wishlist Product Added', 1],
  ['track', 'Signed In', 1],
  ['track', 'Signed Up', 1],
  ['track', 'Order Refunded', 1],
  ['track', 'Review Submitted', 1],
];
const CALL_WEIGHT = CALLS.reduce((sum, [, , weight]) => sum + weight, 0);
const PRODUCTS = 200;

// ---------------------------------------------------------------------------------------------------------
// Dataset: deterministic WAL segments, written once and loaded by both engines.

// mulberry32: a tiny seeded PRNG, so every run (and both engines) sees the same data.
function random(state) {
  let a = state >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pickCall(r) {
  let x = r * CALL_WEIGHT;
  for (const call of CALLS) {
    x -= call[2];
    if (x < 0) return call;
  }
  return CALLS[CALLS.length - 1];
}

// Whole-second ISO strings: ClickHouse 18.16 stores DateTime in seconds, so both engines hold the same value.
const iso = (ms) => new Date(Math.floor(ms / 1000) * 1000).toISOString();

/** Writes the segments and returns their paths; events are in time order, evenly spread over `days`. */
function writeSegments(dir) {
  const next = random(seed);
  const spanMs = days * 86_400_000;
  const files = [];
  let index = 0;
  for (let sequence = 1; index < totalEvents; sequence++) {
    const lines = [];
    const segmentEnd = Math.min(totalEvents, index + segmentSize);
    while (index < segmentEnd) {
      const batch = [];
      const ips = [];
      const requestEnd = Math.min(segmentEnd, index + REQUEST_SIZE);
      let lastTime = START;
      for (; index < requestEnd; index++) {
        const [type, name] = pickCall(next());
        // Squaring skews activity: low-numbered users are much more active than the rest.
        const user = Math.floor(next() ** 2 * userCount);
        const product = Math.floor(next() * PRODUCTS);
        const ip = `198.51.100.${user % 256}`;
        lastTime = START + Math.floor((index * spanMs) / totalEvents);
        batch.push({
          type,
          ...(type === 'track' ? { event: name } : { name }),
          messageId: `bench-${index}`,
          userId: `u${user}`,
          timestamp: iso(lastTime),
          properties: {
            product: `p${String(product).padStart(3, '0')}`,
            // Prices are a function of the product, in cents, so sums are exact to two decimals.
            price: (499 + ((product * 37) % 9500)) / 100,
            quantity: 1 + Math.floor(next() * 3),
          },
          context: { library: { name: 'bench', version: '1' }, ip },
        });
        ips.push(ip);
      }
      lines.push(
        JSON.stringify({
          k: 'q',
          rid: `req-${sequence}-${lines.length}`,
          received_at: iso(lastTime + 2000),
          source: 'bench',
          implied_type: null,
          ua: null,
          ip_of: ips,
          agent_of: ips.map(() => null),
          agents: [],
          skip: [],
          extra_of: [],
          body: { batch },
        }),
      );
    }
    const file = join(dir, `segment-${String(sequence).padStart(6, '0')}.ndjson`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    files.push(file);
  }
  return files;
}

// ---------------------------------------------------------------------------------------------------------
// Queries: each runs `runs` times per engine; the answers of both engines are compared as JSON.

const lastDay = new Date(START + (days - 1) * 86_400_000).toISOString().slice(0, 10);
const firstDayOf30 = new Date(START + (days - 30) * 86_400_000).toISOString().slice(0, 10);

const sqlRows = (engineSql) => async (store) =>
  (await store.readOnlyQuery(engineSql(store.engine), QUERY_OPTIONS)).rows;

const QUERIES = [
  { name: 'events.count()', run: (store) => store.events.count() },
  { name: "events.timeline({interval:'day'})", run: (store) => store.events.timeline({ interval: 'day' }) },
  { name: 'events.topEventNames(20)', run: (store) => store.events.topEventNames(20) },
  {
    // CAST(… AS DATE) runs on both engines (DuckDB's date_trunc and ClickHouse's toDate do not).
    name: 'SQL: daily active users, last 30 days',
    run: sqlRows(
      () => `SELECT CAST(timestamp AS DATE) AS day, count(DISTINCT user_id) AS users
       FROM events
       WHERE CAST(timestamp AS DATE) >= CAST('${firstDayOf30}' AS DATE)
         AND CAST(timestamp AS DATE) <= CAST('${lastDay}' AS DATE)
       GROUP BY CAST(timestamp AS DATE) ORDER BY day`,
    ),
  },
  {
    name: 'SQL: top 10 users by events',
    run: sqlRows(
      () => `SELECT user_id, count(*) AS events FROM events
       GROUP BY user_id ORDER BY events DESC, user_id LIMIT 10`,
    ),
  },
  {
    // JSON extraction has no common spelling: 18.16 has only visitParamExtract*, DuckDB json_extract*.
    name: 'SQL: revenue by product (engine-specific JSON)',
    run: sqlRows((engine) => {
      const product =
        engine === 'clickhouse'
          ? "visitParamExtractString(properties, 'product')"
          : "json_extract_string(properties, '$.product')";
      const price =
        engine === 'clickhouse'
          ? "visitParamExtractFloat(properties, 'price')"
          : "CAST(json_extract(properties, '$.price') AS DOUBLE)";
      return `SELECT ${product} AS product, count(*) AS orders, round(sum(${price}), 2) AS revenue
       FROM events WHERE event = 'Order Completed'
       GROUP BY ${product} ORDER BY product`;
    }),
  },
];

// ---------------------------------------------------------------------------------------------------------
// Measuring one engine.

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function measure(store, files) {
  let inserted = 0;
  const started = performance.now();
  for (const [i, file] of files.entries()) {
    const report = await store.events.loadBatch({
      stream: STREAM,
      sequence: i + 1,
      file,
      dedupeWindowHours: 24,
    });
    inserted += report.inserted;
  }
  const ingestSeconds = (performance.now() - started) / 1000;
  if (inserted !== totalEvents) {
    throw new Error(`${store.engine}: loadBatch inserted ${inserted} events, expected ${totalEvents}`);
  }
  const queries = [];
  for (const query of QUERIES) {
    const times = [];
    let answer;
    for (let run = 0; run < runs; run++) {
      const t = performance.now();
      answer = await query.run(store);
      times.push(performance.now() - t);
    }
    const rows = Array.isArray(answer) ? answer.length : 1;
    queries.push({ ms: median(times), rows, answer: JSON.stringify(answer) });
  }
  return { ingestSeconds, eventsPerSecond: totalEvents / ingestSeconds, queries };
}

// ---------------------------------------------------------------------------------------------------------
// ClickHouse: a private server on loopback, started and stopped with scripts/clickhouse-dev.sh.

function clickHouseInstalled() {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/bin'];
  return dirs.some((dir) => dir && existsSync(join(dir, 'clickhouse-server')));
}

function portFree(port) {
  return new Promise((resolve) => {
    const server = createServer()
      .once('error', () => resolve(false))
      .listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

// The dev script needs HTTP_PORT, +1 (native) and +2 (interserver) free.
async function freePortTriple() {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 40_000);
    if ((await portFree(port)) && (await portFree(port + 1)) && (await portFree(port + 2))) return port;
  }
  throw new Error('no three consecutive free ports on 127.0.0.1');
}

function devScriptRun(args) {
  const result = spawnSync('bash', [devScript, ...args], { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`clickhouse-dev.sh ${args.join(' ')} failed:\n${result.stderr}${result.stdout}`);
  }
}

function peakRssMbOfPid(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------
// The run: everything temporary lives under one directory, removed at the end, on failure and on Ctrl-C.

const work = mkdtempSync(join(tmpdir(), 'refinery-bench-store-'));
const clickHouseDir = join(work, 'clickhouse');
let clickHouseStarted = false;

function cleanUp() {
  if (clickHouseStarted) {
    clickHouseStarted = false;
    spawnSync('bash', [devScript, 'stop', '--dir', clickHouseDir], { stdio: 'ignore' });
  }
  rmSync(work, { recursive: true, force: true });
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    cleanUp();
    process.exit(130);
  });
}

const nodePeakRssMb = () => process.resourceUsage().maxRSS / 1024;

try {
  const walDir = join(work, 'wal');
  mkdirSync(walDir);
  let t = performance.now();
  const files = writeSegments(walDir);
  console.log(
    `dataset: ${totalEvents} events, ${userCount} users, ${CALLS.length} call names, ${days} days from ` +
      `${iso(START).slice(0, 10)}; ${files.length} WAL segments of ≤ ${segmentSize} events ` +
      `(written in ${((performance.now() - t) / 1000).toFixed(1)} s)`,
  );

  console.log('DuckDB: loading and querying…');
  t = performance.now();
  const duck = await openStore('duckdb:bench', { databaseFile: join(work, 'bench.duckdb') });
  let duckdb;
  try {
    duckdb = await measure(duck, files);
  } finally {
    await duck.close();
  }
  const rssAfterDuckDb = nodePeakRssMb();
  console.log(`DuckDB done in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  let clickhouse;
  let clickHouseRss;
  let clickHouseVersion;
  if (!clickHouseInstalled()) {
    console.log(
      'ClickHouse: clickhouse-server is not installed; skipping its column ' +
        '(on Debian: apt-get install clickhouse-server clickhouse-client).',
    );
  } else {
    const port = await freePortTriple();
    clickHouseStarted = true; // set first: a half-started server is stopped too
    devScriptRun(['single', '--dir', clickHouseDir, '--port', String(port)]);
    const serverPid = Number(readFileSync(join(clickHouseDir, 'node1', 'clickhouse.pid'), 'utf8'));
    console.log(`ClickHouse on 127.0.0.1:${port}: loading and querying…`);
    t = performance.now();
    const house = await openStore(`clickhouse://127.0.0.1:${port}/bench`, {
      databaseFile: join(work, 'unused'),
    });
    try {
      clickHouseVersion = (await house.readOnlyQuery('SELECT version() AS v', QUERY_OPTIONS)).rows[0]?.v;
      clickhouse = await measure(house, files);
    } finally {
      await house.close();
    }
    clickHouseRss = peakRssMbOfPid(serverPid);
    console.log(`ClickHouse done in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }

  // The table: one row per metric; the ratio is ClickHouse / DuckDB (for times, > 1 means ClickHouse is slower).
  const fmt = (n, digits = 0) =>
    n === undefined
      ? 'n/a'
      : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  const ratio = (d, c) => (c === undefined || d === 0 ? 'n/a' : `${(c / d).toFixed(2)}×`);
  const rows = [
    ['metric', 'DuckDB', 'ClickHouse', 'ratio CH/DuckDB', 'same answers', 'rows'],
    [
      'ingest: total seconds',
      fmt(duckdb.ingestSeconds, 2),
      fmt(clickhouse?.ingestSeconds, 2),
      ratio(duckdb.ingestSeconds, clickhouse?.ingestSeconds),
      '',
      '',
    ],
    [
      'ingest: events/s',
      fmt(duckdb.eventsPerSecond),
      fmt(clickhouse?.eventsPerSecond),
      ratio(duckdb.eventsPerSecond, clickhouse?.eventsPerSecond),
      '',
      '',
    ],
    ...QUERIES.map((query, i) => {
      const d = duckdb.queries[i];
      const c = clickhouse?.queries[i];
      return [
        `${query.name}: median ms`,
        fmt(d.ms, 1),
        fmt(c?.ms, 1),
        ratio(d.ms, c?.ms),
        c ? (c.answer === d.answer ? 'yes' : 'no') : 'n/a',
        String(d.rows),
      ];
    }),
  ];
  const widths = rows[0].map((_, col) => Math.max(...rows.map((row) => row[col].length)));
  console.log('');
  for (const [r, row] of rows.entries()) {
    console.log(
      row.map((cell, col) => (col === 0 ? cell.padEnd(widths[col]) : cell.padStart(widths[col]))).join('  '),
    );
    if (r === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
  console.log('');
  console.log(
    `queries: median of ${runs} runs each, after ingest; ClickHouse ${clickHouseVersion ?? 'not run'}, ` +
      `DuckDB in-process.`,
  );
  console.log(
    `Node peak RSS: ${fmt(rssAfterDuckDb)} MB after the DuckDB phase (DuckDB runs in-process), ` +
      `${fmt(nodePeakRssMb())} MB for the whole run` +
      (clickHouseRss === undefined ? '' : `; ClickHouse server peak RSS: ${fmt(clickHouseRss)} MB`),
  );
  const mismatched = clickhouse
    ? QUERIES.filter((_, i) => clickhouse.queries[i].answer !== duckdb.queries[i].answer)
    : [];
  for (const query of mismatched) {
    const i = QUERIES.indexOf(query);
    console.log(`different answers for ${query.name}:`);
    console.log(`  DuckDB:     ${duckdb.queries[i].answer.slice(0, 300)}`);
    console.log(`  ClickHouse: ${clickhouse.queries[i].answer.slice(0, 300)}`);
  }
  if (mismatched.length > 0) process.exitCode = 1;
} finally {
  cleanUp();
}

/**
 * `runDemo`: the product's main job, end to end, on a synthetic bakery. It generates the business, creates (or
 * resets) a demo workspace, starts the real server, sends every web event through the HTTP collection API,
 * imports the shop's tables through the HTTP import API, waits for the loader and reports what was stored.
 */
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { basename, join, resolve } from 'node:path';
import { createApiKey } from '../access/api-keys.js';
import { openWorkspaceAccess } from '../cli/workspace-access.js';
import { CONFIG_FILE, loadWorkspaceConfig } from '../config/workspace-config.js';
import { RefineryError } from '../core/errors.js';
import { findRunningServer } from '../runtime/server-file.js';
import { type RunningServer, startServer } from '../runtime/server-runtime.js';
import type { ImportReport, ImportTarget } from '../store/import-types.js';
import { initWorkspace } from '../workspace/init-workspace.js';
import { type DemoSummary, generateBakery } from './bakery-generator.js';
import { demoContractText } from './demo-contract.js';
import { writeDemoCsvFiles } from './export-files.js';
import type { SegmentMessage } from './segment-message.js';

/** The `name` in a demo workspace's refinery.yaml; only a workspace with this name is ever reset. */
export const DEMO_WORKSPACE_NAME = 'Crumb & Co. bakery (Refinery demo)';

export interface RunDemoOptions {
  /** The workspace folder; created, or reset when it holds an earlier demo. */
  readonly dir: string;
  readonly seed: number;
  readonly customers: number;
  readonly products: number;
  readonly days: number;
  /** The simulation covers the `days` whole UTC days before the day containing `end`. */
  readonly end: Date;
  /** Preferred port; when it is busy a free one is used instead. 0 picks a free port at once. */
  readonly port: number;
  readonly host: string;
  /** Leave the server running and return it (true), or close it before returning (false). */
  readonly serve: boolean;
  /** Events per request; also capped so a request stays under the workspace's `limits.maxBatchBytes`. */
  readonly batchSize?: number;
  /** Requests in flight at once. */
  readonly concurrency?: number;
}

export const DEFAULT_RUN_DEMO_OPTIONS = {
  seed: 42,
  customers: 3000,
  products: 200,
  days: 365,
  port: 4000,
  host: '127.0.0.1',
  batchSize: 250,
  concurrency: 8,
} as const;

export type DemoPhase = 'events' | 'imports';

/** How `runDemo` tells its caller what it is doing. Every method is optional to implement meaningfully. */
export interface DemoReporter {
  /** A step starts, e.g. "Generating the bakery". */
  step(message: string): void;
  /** Something the user should know that is not a failure, e.g. that the preferred port was busy. */
  notice(message: string): void;
  /** Progress within a long phase, 0..1. */
  progress(phase: DemoPhase, fraction: number, label: string): void;
  /** A long phase has finished (the place to stop a progress bar). */
  done(phase: DemoPhase): void;
}

export const SILENT_REPORTER: DemoReporter = {
  step() {},
  notice() {},
  progress() {},
  done() {},
};

export interface DemoImportCounts {
  readonly file: string;
  readonly rowsRead: number;
  readonly imported: number;
  readonly rejected: number;
}

export interface DemoRunSummary {
  readonly workspace: string;
  readonly seed: number;
  /** The simulated days: `start` inclusive, `end` exclusive, both `YYYY-MM-DD` (UTC). */
  readonly period: { readonly start: string; readonly end: string };
  /** What the generator produced. */
  readonly generated: DemoSummary;
  readonly events: {
    readonly sent: number;
    readonly accepted: number;
    readonly rejected: number;
    /** Rows in the `events` view after the loader drained. */
    readonly stored: number;
    /** Rows in `rejected_events`. */
    readonly storedRejects: number;
    readonly requests: number;
  };
  readonly imports: {
    readonly products: DemoImportCounts;
    readonly customers: DemoImportCounts;
    readonly orderLines: DemoImportCounts;
  };
  /** Counted in the store once everything was loaded and imported. */
  readonly stored: {
    readonly customers: number;
    readonly products: number;
    readonly orders: number;
    readonly orderLines: number;
    /** Sum of `order_summary.total`, GBP, rounded to pence. */
    readonly revenue: number;
  };
  readonly seconds: {
    readonly generate: number;
    /** Sending every batch until the last one was answered (durable in the write-ahead log). */
    readonly send: number;
    /** Waiting after that for the loader to move what the log still held into the store. */
    readonly load: number;
    readonly imports: number;
    readonly total: number;
  };
  /** Events accepted per second from the first request until all of them were loaded into the store. */
  readonly eventsPerSecond: number;
  readonly url: string;
  readonly dashboardUrl: string;
  readonly docsUrl: string;
  /** The preferred port was busy and another was used. */
  readonly portFallback: boolean;
  readonly keys: { readonly admin: string; readonly web: string; readonly backend: string };
  readonly serving: boolean;
}

export interface DemoRun {
  readonly summary: DemoRunSummary;
  /** The running server when `serve` was true; the caller closes it. */
  readonly server: RunningServer | undefined;
}

export async function runDemo(
  options: RunDemoOptions,
  reporter: DemoReporter = SILENT_REPORTER,
): Promise<DemoRun> {
  const started = performance.now();
  const dir = resolve(options.dir);
  const batchSize = options.batchSize ?? DEFAULT_RUN_DEMO_OPTIONS.batchSize;
  const concurrency = options.concurrency ?? DEFAULT_RUN_DEMO_OPTIONS.concurrency;

  // Refuse a folder that is not a demo before any work; reset it only once the options proved valid.
  assertDemoFolder(dir);
  reporter.step(
    `Generating Crumb & Co. (seed ${options.seed}, ${options.customers} customers, ${options.products} products, ${options.days} days)`,
  );
  const business = generate(options);
  const generateSeconds = secondsSince(started);
  prepareWorkspace(dir);

  const port = await choosePort(options.port, options.host);
  const portFallback = port !== options.port;
  if (portFallback) reporter.notice(`Port ${options.port} is busy; using ${port} instead.`);
  const server = await startServer({ dir, port, host: options.host });
  try {
    const keys = {
      admin: (await createApiKey(server.store, { kind: 'admin', name: 'demo admin' })).key,
      web: (await createApiKey(server.store, { kind: 'write', source: 'web', name: 'demo web shop' })).key,
      backend: (await createApiKey(server.store, { kind: 'write', source: 'backend', name: 'demo backend' }))
        .key,
    };

    reporter.step(
      `Sending ${business.summary.events.toLocaleString('en-GB')} events to ${server.url}/v1/batch`,
    );
    const eventsStarted = performance.now();
    const sent = await sendEvents(
      business.events(),
      business.summary.events,
      {
        url: `${server.url}/v1/batch`,
        writeKey: keys.web,
        batchSize: Math.min(batchSize, server.config.limits.maxBatchEvents),
        // Leave room for the `{"batch":[…]}` envelope and for rounding in the server's own count.
        maxBytes: Math.floor(server.config.limits.maxBatchBytes * 0.9),
        concurrency,
      },
      (fraction, label) => reporter.progress('events', fraction, label),
    );
    const sendSeconds = secondsSince(eventsStarted);
    const loadStarted = performance.now();
    await server.loader.drain();
    const loadSeconds = secondsSince(loadStarted);
    const eventsSeconds = sendSeconds + loadSeconds;
    reporter.done('events');

    reporter.step('Importing products, customers and order lines through /v1/imports');
    const importsStarted = performance.now();
    const files = await writeDemoCsvFiles(business, join(dir, 'imports'));
    const imports = await importFiles(
      dir,
      [
        { key: 'products', file: files.products, target: 'products' },
        { key: 'customers', file: files.customers, target: 'customers' },
        { key: 'orderLines', file: files.orderLines, target: 'orders' },
      ] as const,
      (fraction, label) => reporter.progress('imports', fraction, label),
    );
    const importsSeconds = secondsSince(importsStarted);
    reporter.done('imports');

    const stored = await countStored(server);
    const summary: DemoRunSummary = {
      workspace: dir,
      seed: options.seed,
      period: { start: isoDay(business.period.start), end: isoDay(business.period.end) },
      generated: business.summary,
      events: {
        sent: sent.sent,
        accepted: sent.accepted,
        rejected: sent.rejected,
        stored: stored.events,
        storedRejects: stored.rejectedEvents,
        requests: sent.requests,
      },
      imports,
      stored: {
        customers: stored.customers,
        products: stored.products,
        orders: stored.orders,
        orderLines: stored.orderLines,
        revenue: stored.revenue,
      },
      seconds: {
        generate: round(generateSeconds, 2),
        send: round(sendSeconds, 2),
        load: round(loadSeconds, 2),
        imports: round(importsSeconds, 2),
        total: round(secondsSince(started), 2),
      },
      eventsPerSecond: eventsSeconds > 0 ? Math.round(sent.accepted / eventsSeconds) : 0,
      url: server.url,
      dashboardUrl: `${server.url}/#key=${keys.admin}`,
      docsUrl: `${server.url}/docs`,
      portFallback,
      keys,
      serving: options.serve,
    };
    if (!options.serve) await server.close();
    return { summary, server: options.serve ? server : undefined };
  } catch (error) {
    await server.close().catch(() => undefined);
    throw error;
  }
}

/** The generator's range checks, reported as a user error rather than a crash. */
function generate(options: RunDemoOptions) {
  try {
    return generateBakery({
      seed: options.seed,
      customers: options.customers,
      products: options.products,
      days: options.days,
      end: options.end,
    });
  } catch (error) {
    if (error instanceof RangeError) {
      throw new RefineryError('REFINERY_ERR_INVALID_FIELD', `${error.message}.`, {}, { cause: error });
    }
    throw error;
  }
}

/**
 * Makes `dir` an empty demo workspace: creates it, or resets an earlier demo (its `data/` is deleted).
 * Anything else is refused, so the demo never destroys a user's data.
 */
export function prepareWorkspace(dir: string): void {
  if (assertDemoFolder(dir) === 'reset') rmSync(join(dir, 'data'), { recursive: true, force: true });
  initWorkspace(dir, { name: DEMO_WORKSPACE_NAME, force: true });
  writeFileSync(join(dir, 'contracts', 'bakery-web-events.odcs.yaml'), demoContractText());
}

/** Whether `dir` can hold the demo: `new` (missing or empty) or `reset` (an earlier demo); otherwise throws. */
function assertDemoFolder(dir: string): 'new' | 'reset' {
  const configFile = join(dir, CONFIG_FILE);
  if (existsSync(configFile)) {
    let name: string;
    try {
      name = loadWorkspaceConfig(dir).name;
    } catch (cause) {
      throw new RefineryError(
        'REFINERY_ERR_WORKSPACE_EXISTS',
        `${configFile} exists but cannot be read as a demo workspace, so the demo leaves it alone. Pick another folder with --dir.`,
        {},
        { cause },
      );
    }
    if (name !== DEMO_WORKSPACE_NAME) {
      throw new RefineryError(
        'REFINERY_ERR_WORKSPACE_EXISTS',
        `${dir} holds the workspace "${name}", not a demo; the demo would replace its data, so it stops. Pick another folder with --dir.`,
      );
    }
    const running = findRunningServer(join(dir, 'data', 'server.json'));
    if (running) {
      throw new RefineryError(
        'REFINERY_ERR_WORKSPACE_LOCKED',
        `A server (pid ${running.pid}) is serving the demo workspace at ${running.url}. Stop it before running the demo again.`,
      );
    }
    return 'reset';
  }
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    throw new RefineryError(
      'REFINERY_ERR_WORKSPACE_EXISTS',
      `${dir} is not empty and holds no refinery.yaml; the demo only writes to a new folder or an earlier demo. Pick another folder with --dir.`,
    );
  }
  return 'new';
}

/** `preferred` when it can be listened on, else a free port chosen by the system (0 is always "any free port"). */
async function choosePort(preferred: number, host: string): Promise<number> {
  if (preferred === 0 || (await canListen(preferred, host))) return preferred;
  return freePort(host);
}

function canListen(port: number, host: string): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const probe = createServer();
    probe.once('error', () => resolvePromise(false));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolvePromise(true)));
  });
}

function freePort(host: string): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen({ port: 0, host, exclusive: true }, () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address
          ? resolvePromise(address.port)
          : reject(new Error('no free port')),
      );
    });
  });
}

interface SendOptions {
  readonly url: string;
  readonly writeKey: string;
  readonly batchSize: number;
  readonly maxBytes: number;
  readonly concurrency: number;
}

interface SendReport {
  readonly sent: number;
  readonly accepted: number;
  readonly rejected: number;
  readonly requests: number;
}

/** How often a request refused with a 5xx (the log is full, the server is busy) is tried again. */
const RETRIES = 8;

/**
 * Sends messages as Segment batches, `concurrency` requests at a time. Batches are serialised lazily from the
 * iterator, so only the batches in flight are in memory.
 */
async function sendEvents(
  messages: Iterable<SegmentMessage>,
  expected: number,
  options: SendOptions,
  onProgress: (fraction: number, label: string) => void,
): Promise<SendReport> {
  const iterator = messages[Symbol.iterator]();
  let pending: string | undefined;
  let exhausted = false;
  // Workers share one iterator; JavaScript runs one at a time between awaits, so each batch is taken once.
  const nextBatch = (): { body: string; count: number } | undefined => {
    if (exhausted && pending === undefined) return undefined;
    const parts: string[] = [];
    let bytes = 16;
    while (parts.length < options.batchSize) {
      let json = pending;
      pending = undefined;
      if (json === undefined) {
        const next = iterator.next();
        if (next.done) {
          exhausted = true;
          break;
        }
        json = JSON.stringify(next.value);
      }
      const size = Buffer.byteLength(json) + 1;
      if (parts.length > 0 && bytes + size > options.maxBytes) {
        pending = json;
        break;
      }
      parts.push(json);
      bytes += size;
    }
    return parts.length === 0 ? undefined : { body: `{"batch":[${parts.join(',')}]}`, count: parts.length };
  };

  const authorization = `Basic ${Buffer.from(`${options.writeKey}:`).toString('base64')}`;
  const report = { sent: 0, accepted: 0, rejected: 0, requests: 0 };
  const worker = async (): Promise<void> => {
    for (let batch = nextBatch(); batch; batch = nextBatch()) {
      const answer = await postBatch(options.url, authorization, batch.body);
      report.requests++;
      report.sent += batch.count;
      report.accepted += answer.accepted;
      report.rejected += answer.rejected;
      onProgress(
        expected > 0 ? report.sent / expected : 1,
        `${report.sent.toLocaleString('en-GB')}/${expected.toLocaleString('en-GB')} events`,
      );
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker));
  return report;
}

async function postBatch(
  url: string,
  authorization: string,
  body: string,
): Promise<{ accepted: number; rejected: number }> {
  for (let attempt = 0; ; attempt++) {
    const response = await fetch(url, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json' },
      body,
    });
    const payload = (await response.json().catch(() => ({}))) as {
      accepted?: number;
      rejected?: unknown[];
      code?: string;
      message?: string;
    };
    if (response.ok || payload.code === 'REFINERY_ERR_ALL_EVENTS_REJECTED') {
      return { accepted: payload.accepted ?? 0, rejected: payload.rejected?.length ?? 0 };
    }
    if (response.status >= 500 && attempt < RETRIES) {
      await new Promise((wait) => setTimeout(wait, 100 * 2 ** attempt));
      continue;
    }
    throw new RefineryError(
      'REFINERY_ERR_INTERNAL',
      `The collector refused a demo batch (HTTP ${response.status} ${payload.code ?? ''}): ${payload.message ?? response.statusText}`,
    );
  }
}

interface ImportJob<K extends string> {
  readonly key: K;
  readonly file: string;
  readonly target: ImportTarget;
}

/**
 * Imports the files one after another through the workspace access the CLI uses; with the server running
 * that is an upload to `POST /v1/imports`. Progress is weighted by file size.
 */
async function importFiles<K extends string>(
  dir: string,
  jobs: readonly ImportJob<K>[],
  onProgress: (fraction: number, label: string) => void,
): Promise<Record<K, DemoImportCounts>> {
  const sizes = jobs.map((job) => statSync(job.file).size);
  const total = sizes.reduce((a, b) => a + b, 0) || 1;
  const access = await openWorkspaceAccess(dir);
  const counts = {} as Record<K, DemoImportCounts>;
  try {
    let before = 0;
    for (const [index, job] of jobs.entries()) {
      const size = sizes[index]!;
      const label = basename(job.file);
      const report: ImportReport = await access.importFile(
        { file: job.file, target: job.target, map: [] },
        (p) => onProgress((before + p.fraction * size) / total, label),
      );
      counts[job.key] = {
        file: label,
        rowsRead: report.rowsRead,
        imported: report.imported,
        rejected: report.rejected,
      };
      before += size;
    }
  } finally {
    await access.close();
  }
  return counts;
}

async function countStored(server: RunningServer) {
  const { rows } = await server.store.readOnlyQuery(
    `SELECT
      (SELECT count(*) FROM events) AS events,
      (SELECT count(*) FROM rejected_events) AS rejected_events,
      (SELECT count(*) FROM customers) AS customers,
      (SELECT count(*) FROM products) AS products,
      (SELECT count(*) FROM order_summary) AS orders,
      (SELECT count(*) FROM orders) AS order_lines,
      (SELECT coalesce(sum(total), 0) FROM order_summary) AS revenue`,
    { timeoutMs: 120_000, maxRows: 1 },
  );
  const row = rows[0] ?? {};
  const number = (name: string): number => Number(row[name] ?? 0);
  return {
    events: number('events'),
    rejectedEvents: number('rejected_events'),
    customers: number('customers'),
    products: number('products'),
    orders: number('orders'),
    orderLines: number('order_lines'),
    revenue: round(number('revenue'), 2),
  };
}

function secondsSince(start: number): number {
  return (performance.now() - start) / 1000;
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

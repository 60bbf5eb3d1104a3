import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { CONFIG_FILE } from '../config/workspace-config.js';
import { RefineryError } from '../core/errors.js';

export interface InitOptions {
  readonly name?: string;
  /** Overwrite refinery.yaml when it exists. */
  readonly force?: boolean;
}

/** Creates a workspace folder: `refinery.yaml` with every setting spelled out, and `data/`. */
export function initWorkspace(dir: string, options: InitOptions = {}): { root: string; configFile: string } {
  const root = resolve(dir);
  const configFile = join(root, CONFIG_FILE);
  if (existsSync(configFile) && !options.force) {
    throw new RefineryError(
      'REFINERY_ERR_WORKSPACE_EXISTS',
      `${configFile} already exists (use --force to replace it).`,
    );
  }
  mkdirSync(join(root, 'data'), { recursive: true });
  mkdirSync(join(root, 'contracts'), { recursive: true });
  const name = options.name ?? (basename(root).replace(/[^A-Za-z0-9 _-]/g, '') || 'refinery');
  writeFileSync(configFile, defaultConfigText(name));
  writeFileSync(
    join(root, 'data', '.gitignore'),
    '# Runtime data: the database, the write-ahead log and uploads.\n*\n!.gitignore\n',
  );
  writeFileSync(join(root, '.gitignore'), 'data/*\n!data/.gitignore\n');
  return { root, configFile };
}

function defaultConfigText(name: string): string {
  return `# Refinery workspace. Everything here is reviewable in git; runtime data lives in data/.
name: ${JSON.stringify(name)}

store:
  # DuckDB file inside the workspace (the default embedded engine).
  url: duckdb:data/refinery.duckdb
  memoryLimit: 512MB       # DuckDB spills to disk beyond this

server:
  host: 127.0.0.1
  port: 4000
  trustProxy: false        # behind a reverse proxy: true, or its address (client IPs from X-Forwarded-For)
  # Slow clients are cut off, so a few cannot hold every connection open.
  headersTimeoutMs: 10000  # a request's headers must arrive within this of its first byte
  requestTimeoutMs: 120000 # the whole request, headers and body, must arrive within this (an import upload
                           # too: raise it to upload large files over a slow link)
  connectionTimeoutMs: 300000  # close a socket with nothing sent either way for this long (> queryTimeoutMs)
  keepAliveTimeoutMs: 72000    # close an idle kept-alive connection after this (longer than a load
                               # balancer's usual 60 s, so the balancer closes first)
  maxConnectionsPerClient: 256 # open sockets per client address; more are dropped at once (0 = no cap).
                               # Addresses trustProxy trusts are not capped: cap clients at the proxy.

# Where events come from. Write keys belong to a source: refinery keys create --kind write --source web
sources:
  - name: web
    type: browser
    description: Web shop (analytics.js / RudderStack JS SDK)
  - name: backend
    type: server
    description: Shop backend (analytics-node)

limits:
  maxEventBytes: 32768     # one event (Segment's limit)
  maxBatchBytes: 512000    # one request body
  maxBatchEvents: 2500
  maxDepth: 32             # nesting of properties/traits/context
  maxWalBytes: 8589934592  # refuse new events (503) past this much unloaded log
  queryTimeoutMs: 30000
  queryMaxRows: 100000
  queryMaxBytes: 33554432  # cut a query's answer (truncated: true) past this much JSON
  queryMaxMemory: 1GB      # stop a query (413) that grows the server by more than this

collect:
  dedupeWindowHours: 24    # a retried messageId within this window is stored once (0 = forever)
  ip: truncate             # truncate (IPv4 /24, IPv6 /48) | drop | full (keeps addresses, which are personal data)
  loaderIntervalMs: 500
  walSegmentBytes: 16777216  # seal a log segment past this size; the loader takes one segment per transaction

# Data contracts (ODCS v3 YAML) live in contracts/; see README "Govern your data with contracts".
contracts:
  undeclared: allow        # events no contract declares: allow | flag (stored, flagged) | quarantine
  reloadIntervalMs: 2000   # the server re-reads contracts/ when files change (0 = only on restart)

# The running server deletes older raw data every hour.
retention:
  eventsDays: 0            # 0 keeps raw events forever
  rejectsDays: 30          # rejected events, import rejects, replayed/discarded quarantine (held ones stay)
  events: {}               # per call type or track event name, e.g. { page: 90, "Order Completed": 0 }
`;
}

// Starts throwaway ClickHouse servers for tests: plain child processes on loopback, each with its own
// temporary directory and free ports. Written against Debian's clickhouse-server 18.16 (see ADR 005), whose
// config is `<yandex>` XML; the same files are accepted by current releases.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface ClickHouseShard {
  host: string;
  tcpPort: number;
}

export interface ClickHouseClusterConfig {
  /** The name used in `Distributed(name, …)`. */
  name: string;
  /** One entry per shard, each with a single replica. */
  shards: ClickHouseShard[];
}

export interface StartClickHouseOptions {
  /** Written to `<remote_servers>` so `Distributed` tables work. */
  cluster?: ClickHouseClusterConfig;
  /** Databases the `reader` user may read (`<allow_databases>`); all databases when omitted. */
  readerDatabases?: string[];
}

export interface ClickHouseProcess {
  /** `http://127.0.0.1:<httpPort>`, no trailing slash. */
  httpUrl: string;
  httpPort: number;
  tcpPort: number;
  interserverPort: number;
  /** Holds config.xml, users.xml, data/, tmp/, user_files/ and log/. */
  dir: string;
  /**
   * Read-only user: profile readonly=1, max_execution_time 30 s, max_memory_usage 1 GiB (the default
   * `limits.queryMaxMemory`) over at most 2 threads (a FINAL read merges every part at once and each holds buffers
   * of its own, so a table of many small parts costs memory by itself), at most 1M rows or 1 GiB per answer (then
   * cut), loopback only. Test workspaces run user SQL as this user.
   */
  readerUser: string;
  readerPassword: string;
  /** The running server's pid, undefined while it is down. */
  readonly pid: number | undefined;
  /** SIGTERM, then SIGKILL after 3 s; removes the directory. */
  stop(): Promise<void>;
  /** SIGKILL; keeps the directory so `restart()` finds the data again. */
  kill(): Promise<void>;
  /** Starts the server again on the same ports and directory (stopping it first if it still runs). */
  restart(): Promise<void>;
}

export interface ClickHouseCluster {
  nodes: ClickHouseProcess[];
  clusterName: string;
  stop(): Promise<void>;
}

interface Ports {
  http: number;
  tcp: number;
  interserver: number;
}

const READY_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 3_000;
const START_ATTEMPTS = 3;

function findServerBinary(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/bin', '/usr/sbin'];
  for (const dir of dirs) {
    const candidate = join(dir, 'clickhouse-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Path of the `clickhouse-server` binary (PATH, /usr/bin or /usr/sbin, where Debian puts it). */
export const clickHouseServerPath: string | undefined = findServerBinary();
export const hasClickHouse: boolean = clickHouseServerPath !== undefined;

// Servers still running when the test process exits are killed, so a crashed test leaves nothing behind.
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** `count` distinct free loopback ports (a port released by one probe is not handed out twice). */
async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

async function pickPorts(nodes: number): Promise<Ports[]> {
  const ports = await freePorts(nodes * 3);
  return Array.from({ length: nodes }, (_, i) => ({
    http: ports[i * 3]!,
    tcp: ports[i * 3 + 1]!,
    interserver: ports[i * 3 + 2]!,
  }));
}

function xmlEscape(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function checkClusterName(name: string): void {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    throw new Error(`cluster name must be an identifier (it is an XML element name): ${name}`);
}

function configXml(dir: string, ports: Ports, cluster: ClickHouseClusterConfig | undefined): string {
  const path = (sub: string) => xmlEscape(`${join(dir, sub)}/`);
  const remoteServers = cluster
    ? `
  <remote_servers>
    <${cluster.name}>${cluster.shards
      .map(
        (shard) => `
      <shard><replica><host>${xmlEscape(shard.host)}</host><port>${shard.tcpPort}</port></replica></shard>`,
      )
      .join('')}
    </${cluster.name}>
  </remote_servers>`
    : '';
  return `<?xml version="1.0"?>
<yandex>
  <logger>
    <level>information</level>
    <log>${xmlEscape(join(dir, 'log', 'server.log'))}</log>
    <errorlog>${xmlEscape(join(dir, 'log', 'server.err.log'))}</errorlog>
    <size>10M</size>
    <count>1</count>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>${ports.http}</http_port>
  <tcp_port>${ports.tcp}</tcp_port>
  <interserver_http_host>127.0.0.1</interserver_http_host>
  <interserver_http_port>${ports.interserver}</interserver_http_port>
  <path>${path('data')}</path>
  <tmp_path>${path('tmp')}</tmp_path>
  <user_files_path>${path('user_files')}</user_files_path>
  <format_schema_path>${path('format_schemas')}</format_schema_path>
  <users_config>${xmlEscape(join(dir, 'users.xml'))}</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <max_concurrent_queries>100</max_concurrent_queries>
  <!-- On SIGTERM, wait at most 1 s for open (also idle keep-alive) connections instead of 5 s. -->
  <shutdown_wait_unfinished>1</shutdown_wait_unfinished>${remoteServers}
</yandex>
`;
}

function usersXml(readerUser: string, readerPassword: string, readerDatabases: string[] | undefined): string {
  const loopback = '<networks><ip>127.0.0.1</ip><ip>::1</ip></networks>';
  const allow = readerDatabases
    ? `<allow_databases>${readerDatabases.map((db) => `<database>${xmlEscape(db)}</database>`).join('')}</allow_databases>`
    : '';
  return `<?xml version="1.0"?>
<yandex>
  <profiles>
    <!-- poll_interval 1 s (default 10): a node then drops another node's idle pooled connection within 1 s
         of SIGTERM, instead of holding its shutdown for 10 s. -->
    <default><max_memory_usage>4000000000</max_memory_usage><poll_interval>1</poll_interval></default>
    <!-- The query user's profile (Refinery's store.url ?queryUser=): read-only (no writes, SET or table
         functions; settings cannot be sent), and the limits a query runs under, since none can be sent. -->
    <readonly><readonly>1</readonly><max_execution_time>30</max_execution_time><max_memory_usage>1073741824</max_memory_usage><max_threads>2</max_threads><max_result_rows>1000000</max_result_rows><max_result_bytes>1073741824</max_result_bytes><result_overflow_mode>break</result_overflow_mode></readonly>
  </profiles>
  <users>
    <default><password></password>${loopback}<profile>default</profile><quota>default</quota></default>
    <${readerUser}><password>${xmlEscape(readerPassword)}</password>${loopback}<profile>readonly</profile><quota>default</quota>${allow}</${readerUser}>
  </users>
  <quotas>
    <default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default>
  </quotas>
</yandex>
`;
}

function writeConfigs(
  dir: string,
  ports: Ports,
  options: StartClickHouseOptions,
  readerUser: string,
  readerPassword: string,
): void {
  for (const sub of ['data', 'tmp', 'user_files', 'format_schemas', 'log'])
    mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(join(dir, 'config.xml'), configXml(dir, ports, options.cluster));
  writeFileSync(join(dir, 'users.xml'), usersXml(readerUser, readerPassword, options.readerDatabases));
}

function tail(file: string, lines: number): string {
  if (!existsSync(file)) return '';
  return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

class StartError extends Error {
  constructor(
    message: string,
    readonly portInUse: boolean,
  ) {
    super(message);
  }
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, ms);
    const onExit = () => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

async function terminate(child: ChildProcess, graceMs: number): Promise<void> {
  if (exited(child)) return;
  child.kill(graceMs > 0 ? 'SIGTERM' : 'SIGKILL');
  if (graceMs > 0 && !(await waitForExit(child, graceMs))) child.kill('SIGKILL');
  await waitForExit(child, 10_000);
  running.delete(child);
}

/**
 * GET without keep-alive (fetch would keep the socket open, and the server waits for open connections when
 * it shuts down). Resolves with the trimmed body, or undefined when the server does not answer.
 */
function ping(url: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const request = get(url, { agent: false, timeout: 1_000 }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () => resolve(body.trim()));
      response.on('error', () => resolve(undefined));
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(undefined));
  });
}

/** Spawns the server and waits until GET /ping answers `Ok.`; throws with the log tail otherwise. */
async function launch(dir: string, ports: Ports): Promise<ChildProcess> {
  if (!clickHouseServerPath) throw new Error('clickhouse-server is not installed');
  const child = spawn(clickHouseServerPath, [`--config-file=${join(dir, 'config.xml')}`], {
    cwd: dir,
    env: { ...process.env, TZ: 'UTC' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let spawnError: Error | undefined;
  child.once('error', (error) => {
    spawnError = error;
  });

  const failure = async (why: string): Promise<StartError> => {
    await terminate(child, 0);
    const errors = tail(join(dir, 'log', 'server.err.log'), 30);
    const log = [output.trim(), errors || tail(join(dir, 'log', 'server.log'), 30)]
      .filter(Boolean)
      .join('\n');
    const portInUse = /address already in use/i.test(log);
    return new StartError(`clickhouse-server in ${dir} (http ${ports.http}) ${why}\n${log}`, portInUse);
  };

  const url = `http://127.0.0.1:${ports.http}/ping`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (spawnError) throw await failure(`could not be spawned: ${spawnError.message}`);
    if (exited(child))
      throw await failure(`exited early (code ${child.exitCode}, signal ${child.signalCode})`);
    if ((await ping(url)) === 'Ok.') return child;
    await sleep(50);
  }
  throw await failure(`did not answer ${url} within ${READY_TIMEOUT_MS / 1000} s`);
}

function makeProcess(
  dir: string,
  ports: Ports,
  child: ChildProcess,
  readerUser: string,
  readerPassword: string,
): ClickHouseProcess {
  let current: ChildProcess | undefined = child;
  let removed = false;
  return {
    httpUrl: `http://127.0.0.1:${ports.http}`,
    httpPort: ports.http,
    tcpPort: ports.tcp,
    interserverPort: ports.interserver,
    dir,
    readerUser,
    readerPassword,
    get pid() {
      return current && !exited(current) ? current.pid : undefined;
    },
    async stop() {
      if (current) await terminate(current, STOP_GRACE_MS);
      current = undefined;
      if (!removed) rmSync(dir, { recursive: true, force: true });
      removed = true;
    },
    async kill() {
      if (current) await terminate(current, 0);
      current = undefined;
    },
    async restart() {
      if (removed) throw new Error(`ClickHouse in ${dir} was stopped and its directory removed`);
      if (current) await terminate(current, STOP_GRACE_MS);
      current = undefined;
      // The ports are ours by now, but a port the old process held may linger briefly: retry.
      for (let attempt = 1; ; attempt++) {
        try {
          current = await launch(dir, ports);
          return;
        } catch (error) {
          if (!(error instanceof StartError && error.portInUse) || attempt >= 10) throw error;
          await sleep(300);
        }
      }
    },
  };
}

function newDir(): string {
  return mkdtempSync(join(tmpdir(), 'refinery-clickhouse-'));
}

function newPassword(): string {
  return randomBytes(12).toString('hex');
}

/** Starts one ClickHouse server on 127.0.0.1 with free ports and its own temporary directory. */
export async function startClickHouse(options: StartClickHouseOptions = {}): Promise<ClickHouseProcess> {
  if (options.cluster) checkClusterName(options.cluster.name);
  const readerUser = 'reader';
  const readerPassword = newPassword();
  for (let attempt = 1; ; attempt++) {
    const [ports] = await pickPorts(1);
    const dir = newDir();
    writeConfigs(dir, ports!, options, readerUser, readerPassword);
    try {
      const child = await launch(dir, ports!);
      return makeProcess(dir, ports!, child, readerUser, readerPassword);
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      // Another process took one of the ports between the probe and the server's bind: pick new ones.
      if (!(error instanceof StartError && error.portInUse) || attempt >= START_ATTEMPTS) throw error;
    }
  }
}

/**
 * Starts `shards` servers that all list the same `remote_servers` cluster (each node one shard with one
 * replica), so a `Distributed(clusterName, …)` table works from any node. DDL has no `ON CLUSTER` without
 * ZooKeeper: create tables on every node.
 */
export async function startClickHouseCluster(
  shards = 2,
  options: Omit<StartClickHouseOptions, 'cluster'> & { clusterName?: string } = {},
): Promise<ClickHouseCluster> {
  const clusterName = options.clusterName ?? 'refinery_test';
  checkClusterName(clusterName);
  const readerUser = 'reader';
  const readerPassword = newPassword();
  for (let attempt = 1; ; attempt++) {
    const allPorts = await pickPorts(shards);
    const cluster: ClickHouseClusterConfig = {
      name: clusterName,
      shards: allPorts.map((ports) => ({ host: '127.0.0.1', tcpPort: ports.tcp })),
    };
    const nodeOptions: StartClickHouseOptions = { ...options, cluster };
    const dirs = allPorts.map((ports) => {
      const dir = newDir();
      writeConfigs(dir, ports, nodeOptions, readerUser, readerPassword);
      return dir;
    });
    const started = await Promise.allSettled(dirs.map((dir, i) => launch(dir, allPorts[i]!)));
    const failed = started.find((result) => result.status === 'rejected');
    if (!failed) {
      const nodes = started.map((result, i) =>
        makeProcess(
          dirs[i]!,
          allPorts[i]!,
          (result as PromiseFulfilledResult<ChildProcess>).value,
          readerUser,
          readerPassword,
        ),
      );
      return {
        nodes,
        clusterName,
        async stop() {
          await Promise.all(nodes.map((node) => node.stop()));
        },
      };
    }
    await Promise.all(
      started.map((result) => (result.status === 'fulfilled' ? terminate(result.value, 0) : undefined)),
    );
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    const error: unknown = failed.reason;
    if (!(error instanceof StartError && error.portInUse) || attempt >= START_ATTEMPTS) throw error;
  }
}

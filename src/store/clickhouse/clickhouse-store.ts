import { type ClickHouseClient, type ClickHouseSettings, createClient } from '@clickhouse/client';
import { DuckDBInstance } from '@duckdb/node-api';
import { RefineryError } from '../../core/errors.js';
import { assertReadOnlySelect } from '../duckdb/duckdb-query-guard.js';
import { DuckDbSession } from '../duckdb/duckdb-session.js';
import { eventExpiryConditions } from '../event-expiry.js';
import { purposeRelations, QUERYABLE_RELATIONS } from '../public-relations.js';
import { DEFAULT_QUERY_MEMORY_BYTES, type QueryResult } from '../query-result.js';
import type { ExpiryCutoffs, ExpiryReport, ReadQueryOptions, Store } from '../store.js';
import { ClickHouseConnection } from './clickhouse-connection.js';
import { ClickHouseConsent } from './clickhouse-consent.js';
import { clickHouseErrorCode, toStoreError } from './clickhouse-errors.js';
import { ClickHouseEvents } from './clickhouse-events.js';
import { ClickHouseGovernance } from './clickhouse-governance.js';
import { ClickHouseIdentity } from './clickhouse-identity.js';
import { ClickHouseImports } from './clickhouse-imports.js';
import { ClickHouseKeys, ClickHouseMetadata } from './clickhouse-keys.js';
import { CLICKHOUSE_MIGRATIONS, forCluster } from './clickhouse-migrations.js';
import { waitForMutations } from './clickhouse-mutations.js';
import { ClickHousePrivacy } from './clickhouse-privacy.js';
import { ClickHouseProfiles } from './clickhouse-profiles.js';
import { type ClickHouseQueryRunner, runClickHouseReadOnly } from './clickhouse-read-only.js';
import { quote, toDateTimeText } from './clickhouse-sql.js';

export interface ClickHouseStoreOptions {
  /** `clickhouse://[user[:password]@]host:port/database` — the HTTP interface. */
  readonly url: string;
}

/** `clickhouse://user:pass@host:8123/db` → the HTTP URL, credentials and database it names. */
export interface ClickHouseTarget {
  readonly httpUrl: string;
  readonly username: string;
  readonly password: string;
  readonly database: string;
  /** `?cluster=NAME`: tables are Distributed over this `remote_servers` cluster. */
  readonly cluster?: string;
  /** `&nodes=host:port,…`: the HTTP address of every node, where tables are created (default: this one). */
  readonly nodeUrls: readonly string[];
  /**
   * `&queryUser=NAME[&queryPassword=…]`: the ClickHouse user user SQL runs as. Its profile must hold
   * `readonly=1` (checked at open) and the limits (max_memory_usage, max_execution_time, max_result_rows…),
   * since a readonly user cannot be sent settings; without one, user SQL runs as the store's user with those
   * settings sent per query.
   */
  readonly queryUser?: { readonly username: string; readonly password: string };
}

export function parseClickHouseUrl(url: string): ClickHouseTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new RefineryError(
      'REFINERY_ERR_CONFIG_INVALID',
      `"${url}" is not a ClickHouse URL.`,
      { field: 'store.url' },
      { cause },
    );
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || 'refinery';
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(database)) {
    throw new RefineryError(
      'REFINERY_ERR_CONFIG_INVALID',
      `"${database}" is not a valid ClickHouse database name.`,
      {
        field: 'store.url',
      },
    );
  }
  const secure = parsed.protocol === 'clickhouses:';
  const scheme = secure ? 'https' : 'http';
  const httpUrl = `${scheme}://${parsed.host || `127.0.0.1:${secure ? '8443' : '8123'}`}`;
  const cluster = parsed.searchParams.get('cluster') ?? undefined;
  if (cluster !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(cluster)) {
    throw new RefineryError('REFINERY_ERR_CONFIG_INVALID', `"${cluster}" is not a valid cluster name.`, {
      field: 'store.url',
    });
  }
  const nodes = parsed.searchParams.get('nodes');
  const queryUser = parsed.searchParams.get('queryUser') ?? undefined;
  const queryPassword = parsed.searchParams.get('queryPassword') ?? undefined;
  if (queryUser !== undefined && !/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(queryUser)) {
    throw new RefineryError(
      'REFINERY_ERR_CONFIG_INVALID',
      `"${queryUser}" is not a valid ClickHouse user name.`,
      {
        field: 'store.url',
      },
    );
  }
  if (queryPassword !== undefined && queryUser === undefined) {
    throw new RefineryError(
      'REFINERY_ERR_CONFIG_INVALID',
      'queryPassword needs queryUser in the store URL.',
      {
        field: 'store.url',
      },
    );
  }
  return {
    httpUrl,
    username: decodeURIComponent(parsed.username) || 'default',
    password: decodeURIComponent(parsed.password),
    database,
    ...(cluster ? { cluster } : {}),
    nodeUrls: nodes ? nodes.split(',').map((node) => `${scheme}://${node.trim()}`) : [httpUrl],
    ...(queryUser !== undefined ? { queryUser: { username: queryUser, password: queryPassword ?? '' } } : {}),
  };
}

/**
 * The scale-out engine. Everything runs through ClickHouse's HTTP interface. User SQL is checked on DuckDB's
 * parse tree (one SELECT, public relations only, no table expressions) and runs with `readonly=1`, which
 * forbids writes, settings and table functions inside ClickHouse itself, under ClickHouse's own memory, time
 * and answer limits: as a dedicated query user whose profile holds them, or as the store's user with them
 * sent per query.
 */
export class ClickHouseStore implements Store {
  readonly engine = 'clickhouse' as const;
  readonly events: ClickHouseEvents;
  readonly keys: ClickHouseKeys;
  readonly metadata: ClickHouseMetadata;
  readonly imports: ClickHouseImports;
  readonly governance: ClickHouseGovernance;
  readonly identity: ClickHouseIdentity;
  readonly profiles: ClickHouseProfiles;
  readonly consent: ClickHouseConsent;
  readonly privacy: ClickHousePrivacy;

  private constructor(
    private readonly db: ClickHouseConnection,
    private readonly guardInstance: DuckDBInstance,
    private readonly guard: DuckDbSession,
    private readonly queries: ClickHouseQueryRunner,
  ) {
    this.events = new ClickHouseEvents(db);
    this.keys = new ClickHouseKeys(db);
    this.metadata = new ClickHouseMetadata(db);
    this.imports = new ClickHouseImports(db);
    this.governance = new ClickHouseGovernance(db);
    this.identity = new ClickHouseIdentity(db);
    this.profiles = new ClickHouseProfiles(db);
    this.consent = new ClickHouseConsent(db, (sql, options) => this.readOnlyQuery(sql, options));
    this.privacy = new ClickHousePrivacy(db);
  }

  /** The connection itself, for bulk copies into the store's tables (`refinery migrate`). */
  get connection(): ClickHouseConnection {
    return this.db;
  }

  static async open(options: ClickHouseStoreOptions): Promise<ClickHouseStore> {
    const target = parseClickHouseUrl(options.url);
    for (const nodeUrl of target.nodeUrls) {
      const bootstrap = createClient({ url: nodeUrl, username: target.username, password: target.password });
      try {
        await bootstrap.command({ query: `CREATE DATABASE IF NOT EXISTS ${target.database}` });
      } catch (error) {
        throw toStoreError(error, `CREATE DATABASE on ${nodeUrl}`);
      } finally {
        await bootstrap.close();
      }
    }
    const client = createClient({
      url: target.httpUrl,
      username: target.username,
      password: target.password,
      database: target.database,
    });
    const guardInstance = await DuckDBInstance.create(':memory:');
    const guard = new DuckDbSession(await guardInstance.connect());
    const cluster = target.cluster
      ? {
          name: target.cluster,
          nodes: target.nodeUrls.map((nodeUrl) =>
            createClient({
              url: nodeUrl,
              username: target.username,
              password: target.password,
              database: target.database,
            }),
          ),
        }
      : undefined;
    const queries = target.queryUser
      ? await queryUserRunner(target, client)
      : { client, killer: client, settings: perQuerySettings };
    return new ClickHouseStore(
      new ClickHouseConnection(client, target.database, cluster),
      guardInstance,
      guard,
      queries,
    );
  }

  async migrate(): Promise<string[]> {
    await this.db.onEveryNode(
      "CREATE TABLE IF NOT EXISTS schema_migrations (id String, applied_at DateTime('UTC')) ENGINE = MergeTree ORDER BY id",
    );
    const done = new Set(
      (await this.db.json('SELECT id FROM schema_migrations')).data.map((row) => String(row.id)),
    );
    const applied: string[] = [];
    const cluster = this.db.cluster;
    for (const migration of CLICKHOUSE_MIGRATIONS) {
      if (done.has(migration.id)) continue;
      // No transactional DDL (and no ON CLUSTER without ZooKeeper): every statement is re-runnable after a
      // partial failure and runs on every node.
      for (const statement of migration.statements) {
        const statements = cluster ? forCluster(statement, cluster.name, this.db.database) : [statement];
        for (const each of statements) await this.db.onEveryNode(idempotent(each)).catch(alreadyAdded(each));
      }
      await this.db.onEveryNode(
        `INSERT INTO schema_migrations VALUES (${quote(migration.id)}, toDateTime(${quote(toDateTimeText(new Date()))}, 'UTC'))`,
      );
      applied.push(migration.id);
    }
    return applied;
  }

  async readOnlyQuery(sql: string, options: ReadQueryOptions): Promise<QueryResult> {
    const allowed = options.purpose ? purposeRelations(options.purpose) : QUERYABLE_RELATIONS;
    const relations = await assertReadOnlySelect(this.guard, sql, { relations: allowed });
    const answer = await runClickHouseReadOnly(this.queries, sql, options);
    return { ...answer, relations };
  }

  async expire(cutoffs: ExpiryCutoffs): Promise<ExpiryReport> {
    const removeBefore = async (table: string, cutoff: Date | undefined) => {
      if (!cutoff) return 0;
      const where = `received_at < toDateTime(${quote(toDateTimeText(cutoff))}, 'UTC')`;
      const counted = await this.db.json(`SELECT count() AS n FROM ${table} FINAL WHERE ${where}`);
      const n = Number(counted.data[0]?.n ?? 0);
      if (n > 0) await this.mutate(table, `DELETE WHERE ${where}`);
      return n;
    };
    const decided = await this.expireDecidedQuarantine(cutoffs.rejectsBefore);
    let flagged = 0;
    if (cutoffs.eventsBefore) {
      const where = `outcome = 'flagged' AND received_at < toDateTime(${quote(toDateTimeText(cutoffs.eventsBefore))}, 'UTC')`;
      const counted = await this.db.json(
        `SELECT count() AS n FROM contract_violation_log FINAL WHERE ${where}`,
      );
      flagged = Number(counted.data[0]?.n ?? 0);
      if (flagged > 0) await this.mutate('contract_violation_log', `DELETE WHERE ${where}`);
    }
    return {
      events: await this.expireEvents(cutoffs),
      rejectedEvents: await removeBefore('reject_log', cutoffs.rejectsBefore),
      importRejects: await this.expireImportRejects(cutoffs.rejectsBefore),
      decidedQuarantine: decided.rows,
      violations: decided.violations + flagged,
    };
  }

  /**
   * Replayed and discarded events decided before the cutoff, every version of them (deleting only the
   * decided version would bring the held one back), and the violations recorded when they were held.
   */
  private async expireDecidedQuarantine(
    cutoff: Date | undefined,
  ): Promise<{ rows: number; violations: number }> {
    if (!cutoff) return { rows: 0, violations: 0 };
    const decided = await this.db.json(
      `SELECT id FROM quarantine_log FINAL
       WHERE status != 'held' AND status_at < toDateTime(${quote(toDateTimeText(cutoff))}, 'UTC')`,
      { optimize_move_to_prewhere: 0 },
    );
    const ids = decided.data.map((row) => String(row.id));
    let violations = 0;
    for (let start = 0; start < ids.length; start += 1000) {
      const list = ids
        .slice(start, start + 1000)
        .map(quote)
        .join(', ');
      const counted = await this.db.json(
        `SELECT count() AS n FROM contract_violation_log FINAL WHERE outcome = 'quarantined' AND message_id IN (${list})`,
      );
      violations += Number(counted.data[0]?.n ?? 0);
      await this.mutate(
        'contract_violation_log',
        `DELETE WHERE outcome = 'quarantined' AND message_id IN (${list})`,
      );
      await this.mutate('quarantine_log', `DELETE WHERE id IN (${list})`);
    }
    return { rows: ids.length, violations };
  }

  private async expireEvents(cutoffs: ExpiryCutoffs): Promise<number> {
    const dialect = {
      text: quote,
      receivedBefore: (cutoff: Date) => `received_at < toDateTime(${quote(toDateTimeText(cutoff))}, 'UTC')`,
    };
    let removed = 0;
    for (const where of eventExpiryConditions(cutoffs, dialect)) {
      const counted = await this.db.json(`SELECT count() AS n FROM event_log FINAL WHERE ${where}`);
      const n = Number(counted.data[0]?.n ?? 0);
      if (n > 0) await this.mutate('event_log', `DELETE WHERE ${where}`);
      removed += n;
    }
    return removed;
  }

  /** Import rejects go with their import's start time, as on DuckDB. */
  private async expireImportRejects(cutoff: Date | undefined): Promise<number> {
    if (!cutoff) return 0;
    const imports = await this.db.json(
      `SELECT import_id FROM import_log FINAL
       WHERE started_at < toDateTime(${quote(toDateTimeText(cutoff))}, 'UTC')`,
    );
    const ids = imports.data.map((row) => quote(String(row.import_id)));
    if (ids.length === 0) return 0;
    const where = `import_id IN (${ids.join(', ')})`;
    const counted = await this.db.json(`SELECT count() AS n FROM import_reject_log FINAL WHERE ${where}`);
    const n = Number(counted.data[0]?.n ?? 0);
    if (n > 0) await this.mutate('import_reject_log', `DELETE WHERE ${where}`);
    return n;
  }

  async checkpoint(): Promise<void> {
    // ClickHouse writes parts to disk on insert; there is nothing to flush.
  }

  async close(): Promise<void> {
    if (this.queries.client !== this.db.client) await this.queries.client.close();
    await this.db.client.close();
    for (const node of this.db.cluster?.nodes ?? []) await node.close();
    this.guard.close();
    this.guardInstance.closeSync();
  }

  /** Runs a mutation and waits for it: 18.16 has no `mutations_sync`, so this polls `system.mutations`. */
  private async mutate(table: string, mutation: string): Promise<void> {
    // Mutations do not go through Distributed tables: each shard's local table is changed on its node.
    const target = this.db.cluster ? `${table}_local` : table;
    await this.db.onEveryNode(`ALTER TABLE ${target} ${mutation}`);
    for (const node of this.db.cluster?.nodes ?? [this.db.client]) {
      await waitForMutations(node, this.db.database, target);
    }
  }
}

/**
 * Without a query user, user SQL runs as the store's user with these settings: readonly (no writes, no SET,
 * no table functions) and the query's limits. The server stops a query past them; `break` ends an answer at
 * one row past the row cap, so `truncated` can tell.
 */
function perQuerySettings(options: ReadQueryOptions): ClickHouseSettings {
  return {
    readonly: '1',
    max_execution_time: Math.max(1, Math.ceil(options.timeoutMs / 1000)),
    max_result_rows: String(options.maxRows + 1),
    result_overflow_mode: 'break',
    max_memory_usage: String(options.maxMemoryBytes ?? DEFAULT_QUERY_MEMORY_BYTES),
  };
}

/**
 * The query user's client, once its profile is shown to be read-only: a user that could write or change
 * settings would make every limit Refinery relies on optional.
 */
async function queryUserRunner(
  target: ClickHouseTarget,
  killer: ClickHouseClient,
): Promise<ClickHouseQueryRunner> {
  const user = target.queryUser!;
  const client = createClient({
    url: target.httpUrl,
    username: user.username,
    password: user.password,
    database: target.database,
  });
  let readonly: string | undefined;
  try {
    const answer = await client.query({
      query: "SELECT value FROM system.settings WHERE name = 'readonly'",
      format: 'JSONEachRow',
    });
    readonly = ((await answer.json()) as { value: string }[])[0]?.value;
  } catch (error) {
    await client.close();
    throw new RefineryError(
      'REFINERY_ERR_CONFIG_INVALID',
      `The ClickHouse query user "${user.username}" cannot connect: ${toStoreError(error).message}`,
      { field: 'store.url' },
      { cause: error },
    );
  }
  if (readonly !== '1') {
    await client.close();
    throw new RefineryError(
      'REFINERY_ERR_CONFIG_INVALID',
      `The ClickHouse query user "${user.username}" must have readonly=1 in its profile (it has ${readonly ?? 'none'}): readonly=0 may write and readonly=2 may call table functions such as file() and url().`,
      { field: 'store.url' },
    );
  }
  return { client, killer, settings: () => ({}) };
}

/** 18.16 has no `ADD COLUMN IF NOT EXISTS`: a re-run ALTER whose column exists (a retried migration) is done. */
function alreadyAdded(statement: string): (error: unknown) => void {
  return (error) => {
    const duplicate = clickHouseErrorCode(error) === 15 || clickHouseErrorCode(error) === 44;
    if (!(/^\s*ALTER TABLE \w+ ADD COLUMN /.test(statement) && duplicate)) throw error;
  };
}

function idempotent(statement: string): string {
  return statement.replace(/^\s*CREATE (TABLE|VIEW) /, 'CREATE $1 IF NOT EXISTS ');
}

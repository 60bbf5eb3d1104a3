import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { RefineryError } from '../../core/errors.js';
import { type ExpiryDialect, eventExpiryConditions } from '../event-expiry.js';
import { MemoryWatchdog } from '../memory-watchdog.js';
import { purposeRelations, QUERYABLE_RELATIONS } from '../public-relations.js';
import { DEFAULT_QUERY_MEMORY_BYTES, type QueryResult } from '../query-result.js';
import { ResourcePool } from '../resource-pool.js';
import type { ExpiryCutoffs, ExpiryReport, ReadQueryOptions, Store } from '../store.js';
import { DuckDbConsent } from './duckdb-consent.js';
import { isLockConflict, toStoreError } from './duckdb-errors.js';
import { DuckDbEvents } from './duckdb-events.js';
import { DuckDbGovernance } from './duckdb-governance.js';
import { DuckDbIdentity } from './duckdb-identity.js';
import { DuckDbImports, IMPORT_MIGRATIONS } from './duckdb-imports.js';
import { DuckDbKeys } from './duckdb-keys.js';
import { DuckDbMetadata } from './duckdb-metadata.js';
import { DUCKDB_MIGRATIONS } from './duckdb-migrations.js';
import { DuckDbPrivacy } from './duckdb-privacy.js';
import { DuckDbProfiles } from './duckdb-profiles.js';
import { runReadOnly } from './duckdb-read-only.js';
import { DuckDbSandbox, type RelationColumn } from './duckdb-sandbox.js';
import { DuckDbSession, runOn } from './duckdb-session.js';

export interface DuckDbStoreOptions {
  /** Database file, or ':memory:'. */
  readonly path: string;
  /**
   * When set, DuckDB may read and write files only inside these folders (everything else is refused by the
   * engine itself). The server sets it to the workspace's data folder.
   */
  readonly allowedDirectories?: readonly string[];
  readonly memoryLimit?: string;
  readonly threads?: number;
}

/**
 * Connections reserved for user SQL, apart from the store's own: one slow query leaves the others free, and the
 * store's reads and writes never wait behind user SQL.
 */
const QUERY_CONNECTIONS = 3;

const DUCKDB_EXPIRY: ExpiryDialect = {
  text: (value) => `'${value.replaceAll("'", "''")}'`,
  receivedBefore: (cutoff) => `received_at < '${cutoff.toISOString()}'::TIMESTAMPTZ`,
};

async function expireEvents(c: DuckDBConnection, cutoffs: ExpiryCutoffs): Promise<number> {
  let removed = 0;
  for (const where of eventExpiryConditions(cutoffs, DUCKDB_EXPIRY)) {
    removed += await runOn(c, `DELETE FROM event_log WHERE ${where}`);
  }
  return removed;
}

export class DuckDbStore implements Store {
  readonly engine = 'duckdb' as const;
  readonly events: DuckDbEvents;
  readonly keys: DuckDbKeys;
  readonly metadata: DuckDbMetadata;
  readonly imports: DuckDbImports;
  readonly governance: DuckDbGovernance;
  readonly identity: DuckDbIdentity;
  readonly profiles: DuckDbProfiles;
  readonly consent: DuckDbConsent;
  readonly privacy: DuckDbPrivacy;
  private closed = false;
  private readonly watchdog = new MemoryWatchdog();

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly writer: DuckDbSession,
    private readonly reader: DuckDbSession,
    private readonly userQueries: ResourcePool<DuckDBConnection>,
    private readonly sandbox: DuckDbSandbox,
    importer: DuckDbSession,
  ) {
    this.events = new DuckDbEvents(writer, reader);
    this.keys = new DuckDbKeys(writer, reader);
    this.metadata = new DuckDbMetadata(writer, reader);
    this.imports = new DuckDbImports(importer, reader);
    this.governance = new DuckDbGovernance(reader);
    this.identity = new DuckDbIdentity(writer, reader);
    this.profiles = new DuckDbProfiles(reader);
    this.consent = new DuckDbConsent(writer, reader, (sql, options) => this.readOnlyQuery(sql, options));
    this.privacy = new DuckDbPrivacy(writer, reader);
  }

  /** Opens (creating if needed) a DuckDB database file. Fails with REFINERY_ERR_WORKSPACE_LOCKED if another process has it. */
  static async open(options: DuckDbStoreOptions): Promise<DuckDbStore> {
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    const config: Record<string, string> = {};
    if (options.memoryLimit) config.memory_limit = options.memoryLimit;
    if (options.threads) config.threads = String(options.threads);
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(options.path, config);
    } catch (error) {
      if (isLockConflict(error)) {
        throw new RefineryError(
          'REFINERY_ERR_WORKSPACE_LOCKED',
          `${options.path} is open in another process (a running \`refinery serve\`?). Stop it, or use its API.`,
          {},
          { cause: error },
        );
      }
      throw toStoreError(error);
    }
    const sessions = await Promise.all(
      [1, 2, 3].map(async () => new DuckDbSession(await instance.connect())),
    );
    const [writer, reader, importer] = sessions as [DuckDbSession, DuckDbSession, DuckDbSession];
    const userQueries = new ResourcePool(
      await Promise.all(Array.from({ length: QUERY_CONNECTIONS }, () => instance.connect())),
    );
    await writer.run("SET TimeZone = 'UTC'");
    if (options.allowedDirectories) {
      const list = options.allowedDirectories.map((d) => `'${d.replaceAll("'", "''")}'`).join(', ');
      await writer.run(`SET allowed_directories = [${list}]`);
      await writer.run('SET enable_external_access = false');
    }
    return new DuckDbStore(instance, writer, reader, userQueries, new DuckDbSandbox(), importer);
  }

  async migrate(): Promise<string[]> {
    await this.writer.run(
      'CREATE TABLE IF NOT EXISTS schema_migrations (id VARCHAR PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)',
    );
    const done = new Set(
      (await this.writer.all<{ id: string }>('SELECT id FROM schema_migrations')).map((row) => row.id),
    );
    const applied: string[] = [];
    for (const migration of [...DUCKDB_MIGRATIONS, ...IMPORT_MIGRATIONS]) {
      if (done.has(migration.id)) continue;
      await this.writer.exclusive(async (c) => {
        await c.run('BEGIN TRANSACTION');
        try {
          for (const statement of migration.statements) await c.run(statement);
          await c.run('INSERT INTO schema_migrations VALUES ($1, now())', [migration.id]);
          await c.run('COMMIT');
        } catch (error) {
          await c.run('ROLLBACK').catch(() => undefined);
          throw toStoreError(error, migration.id);
        }
      });
      applied.push(migration.id);
    }
    return applied;
  }

  /**
   * User SQL is bound in the sandbox catalogue first (it holds only the public relations, empty, and no file
   * access); only a statement that reads nothing but the relations this query may read runs on the store, on
   * a connection of its own, under the time, memory and answer caps.
   */
  async readOnlyQuery(sql: string, options: ReadQueryOptions): Promise<QueryResult> {
    const allowed = options.purpose ? purposeRelations(options.purpose) : QUERYABLE_RELATIONS;
    this.sandbox.mirror(await this.publicColumns());
    const { relations } = await this.sandbox.check(sql, allowed, {
      capBytes: options.maxMemoryBytes ?? DEFAULT_QUERY_MEMORY_BYTES,
      timeoutMs: options.timeoutMs,
    });
    const answer = await runReadOnly(this.userQueries, this.watchdog, sql, options);
    return { ...answer, relations };
  }

  /** The public relations' columns as the store has them now (migrations and consent settings change them). */
  private publicColumns(): Promise<RelationColumn[]> {
    const names = [...QUERYABLE_RELATIONS].map((name) => `'${name}'`).join(', ');
    return this.reader.all<RelationColumn>(
      `SELECT table_name AS relation, column_name AS "column", data_type AS type FROM duckdb_columns()
       WHERE database_name = current_database() AND schema_name = 'main' AND table_name IN (${names})
       ORDER BY table_name, column_index`,
    );
  }

  expire(cutoffs: ExpiryCutoffs): Promise<ExpiryReport> {
    return this.writer.exclusive(async (c) => {
      const deleteBefore = async (sql: string, cutoff: Date | undefined) =>
        cutoff ? runOn(c, sql, [cutoff.toISOString()]) : 0;
      await runOn(c, 'BEGIN TRANSACTION');
      try {
        const report = {
          events: await expireEvents(c, cutoffs),
          rejectedEvents: await deleteBefore(
            'DELETE FROM rejected_events WHERE received_at < $1::TIMESTAMPTZ',
            cutoffs.rejectsBefore,
          ),
          importRejects: await deleteBefore(
            `DELETE FROM import_reject_log WHERE import_id IN
               (SELECT import_id FROM import_log WHERE started_at < $1::TIMESTAMPTZ)`,
            cutoffs.rejectsBefore,
          ),
          violations:
            (await deleteBefore(
              `DELETE FROM contract_violation_log WHERE outcome = 'quarantined' AND message_id IN
                 (SELECT id FROM quarantine_log WHERE status <> 'held' AND status_at < $1::TIMESTAMPTZ)`,
              cutoffs.rejectsBefore,
            )) +
            (await deleteBefore(
              `DELETE FROM contract_violation_log WHERE outcome = 'flagged' AND received_at < $1::TIMESTAMPTZ`,
              cutoffs.eventsBefore,
            )),
          decidedQuarantine: await deleteBefore(
            `DELETE FROM quarantine_log WHERE status <> 'held' AND status_at < $1::TIMESTAMPTZ`,
            cutoffs.rejectsBefore,
          ),
        };
        await runOn(c, 'COMMIT');
        return report;
      } catch (error) {
        await runOn(c, 'ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
  }

  async checkpoint(): Promise<void> {
    await this.writer.run('CHECKPOINT');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const connection of this.userQueries.lent) connection.interrupt();
    await this.userQueries.drain();
    for (const connection of this.userQueries.resources) connection.closeSync();
    await this.sandbox.close();
    for (const session of [this.writer, this.reader]) {
      await session.exclusive(async () => undefined);
      session.close();
    }
    await this.imports.idle();
    this.imports.close();
    this.instance.closeSync();
  }
}

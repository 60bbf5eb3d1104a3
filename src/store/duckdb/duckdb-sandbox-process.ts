import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { RefineryError } from '../../core/errors.js';

type DuckDbApi = typeof import('@duckdb/node-api');

/** One column of a public relation, as the store's catalogue describes it. */
export interface RelationColumn {
  readonly relation: string;
  readonly column: string;
  readonly type: string;
}

/** What the sandbox process made of a statement: DuckDB's own JSON serialisations of it. */
export interface SandboxAnswer {
  /** `json_serialize_sql`: the parse tree. */
  readonly ast: string;
  /** `json_serialize_plan` with the optimizer off: what the binder resolved every name to. */
  readonly plan: string;
}

interface SandboxRequest {
  readonly sql: string;
  /** Sent when the relations changed since the process last saw them. */
  readonly columns?: readonly RelationColumn[];
  readonly capBytes: number;
}

type SandboxReply = { readonly ready: true } | (SandboxAnswer & { readonly failure?: string });

/** How long a new sandbox process may take to start. */
const START_TIMEOUT_MS = 15_000;

/**
 * The sandbox catalogue runs in a process of its own. DuckDB evaluates constant expressions while binding and
 * planning (`len(generate_series(1, 200000000))` is computed before the statement runs), outside its memory
 * limit and without checking for an interrupt; here that happens where it can be stopped for good: the process
 * kills itself when it grows past the query's memory cap, and is killed when it runs past the query's time.
 * A new one starts for the next query. The process holds no data and has no file access, and gets no
 * environment from the server (no keys).
 */
export class SandboxProcess {
  private child: ChildProcess | undefined;
  private starting: Promise<ChildProcess> | undefined;
  private sentColumns = '';
  private pending: Pending | undefined;

  /** Serialises `sql` in the sandbox. One statement at a time: the caller (a ResourcePool) sees to that. */
  run(
    sql: string,
    columns: readonly RelationColumn[],
    limits: { readonly capBytes: number; readonly timeoutMs: number },
  ): Promise<SandboxAnswer> {
    return this.send(sql, columns, limits);
  }

  close(): void {
    this.child?.kill('SIGKILL');
    this.child = undefined;
  }

  private async send(
    sql: string,
    columns: readonly RelationColumn[],
    limits: { readonly capBytes: number; readonly timeoutMs: number },
  ): Promise<SandboxAnswer> {
    const child = await this.started();
    const signature = JSON.stringify(columns);
    const request: SandboxRequest = {
      sql,
      ...(signature === this.sentColumns ? {} : { columns }),
      capBytes: limits.capBytes,
    };
    this.sentColumns = signature;
    return new Promise<SandboxAnswer>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.pending) this.pending.killedForTime = true;
        child.kill('SIGKILL');
      }, limits.timeoutMs);
      this.pending = { resolve, reject, timer, limits, killedForTime: false };
      child.send(request);
    });
  }

  private started(): Promise<ChildProcess> {
    if (this.child) return Promise.resolve(this.child);
    this.starting ??= this.spawnChild().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private spawnChild(): Promise<ChildProcess> {
    const api = pathToFileURL(createRequire(import.meta.url).resolve('@duckdb/node-api')).href;
    const source = `import(${JSON.stringify(api)}).then((api) => (${sandboxMain.toString()})(api));`;
    const child = spawn(process.execPath, ['-e', source], {
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
      env: {},
    });
    child.unref();
    child.channel?.unref();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(sandboxFailed('did not start'));
      }, START_TIMEOUT_MS);
      child.on('message', (message: SandboxReply) => {
        if ('ready' in message) {
          clearTimeout(timer);
          this.child = child;
          this.sentColumns = '';
          resolve(child);
          return;
        }
        const pending = this.pending;
        this.pending = undefined;
        if (!pending) return;
        clearTimeout(pending.timer);
        if (message.failure !== undefined) pending.reject(sandboxFailed(message.failure));
        else pending.resolve(message);
      });
      child.on('exit', (_code, signal) => {
        clearTimeout(timer);
        if (this.child === child) this.child = undefined;
        reject(sandboxFailed('stopped while starting'));
        const pending = this.pending;
        this.pending = undefined;
        if (!pending) return;
        clearTimeout(pending.timer);
        if (pending.killedForTime) pending.reject(timedOut(pending.limits.timeoutMs));
        else if (signal === 'SIGKILL') pending.reject(tooLarge(pending.limits.capBytes));
        else pending.reject(sandboxFailed(`exited (${signal ?? _code})`));
      });
    });
  }
}

interface Pending {
  resolve(answer: SandboxAnswer): void;
  reject(error: unknown): void;
  readonly timer: NodeJS.Timeout;
  readonly limits: { readonly capBytes: number; readonly timeoutMs: number };
  killedForTime: boolean;
}

function sandboxFailed(why: string): RefineryError {
  return new RefineryError('REFINERY_ERR_STORE', `The query sandbox ${why}.`, {});
}

function timedOut(timeoutMs: number): RefineryError {
  return new RefineryError(
    'REFINERY_ERR_QUERY_TIMEOUT',
    `The query took longer than ${timeoutMs} ms to plan and was stopped.`,
    { limit: timeoutMs },
  );
}

function tooLarge(capBytes: number): RefineryError {
  return new RefineryError(
    'REFINERY_ERR_QUERY_TOO_LARGE',
    `The query's constant expressions need more than ${Math.round(capBytes / 1048576)} MiB to compute; it was not run.`,
    { field: 'sql', limit: capBytes },
  );
}

/**
 * The sandbox process's program. It runs in the child from its source text (`toString()`), so it is
 * self-contained: no imports, no outside names, only its argument (the DuckDB client module).
 */
async function sandboxMain(api: DuckDbApi): Promise<void> {
  const instance = await api.DuckDBInstance.create(':memory:', {
    enable_external_access: 'false',
    autoload_known_extensions: 'false',
    autoinstall_known_extensions: 'false',
    threads: '1',
    lock_configuration: 'true',
  });
  const connection = await instance.connect();
  let watched: { baseline: number; capBytes: number } | undefined;
  setInterval(() => {
    if (watched && process.memoryUsage.rss() - watched.baseline > watched.capBytes) {
      process.kill(process.pid, 'SIGKILL');
    }
  }, 10);
  const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`;
  const serialise = async (sql: string, value: string): Promise<string> => {
    const reader = await connection.runAndReadAll(sql, [value]);
    return String(reader.getRows()[0]?.[0] ?? '');
  };
  const mirror = async (columns: readonly RelationColumn[]) => {
    const existing = await connection.runAndReadAll(
      "SELECT table_name FROM duckdb_tables() WHERE database_name = 'memory' AND schema_name = 'main'",
    );
    for (const [name] of existing.getRows()) await connection.run(`DROP TABLE ${quoted(String(name))}`);
    const byRelation = new Map<string, string[]>();
    for (const c of columns) {
      byRelation.set(c.relation, [...(byRelation.get(c.relation) ?? []), `${quoted(c.column)} ${c.type}`]);
    }
    for (const [relation, list] of byRelation) {
      await connection.run(`CREATE TABLE ${quoted(relation)} (${list.join(', ')})`);
    }
  };
  process.on('disconnect', () => process.exit(0));
  // An idle sandbox gives its memory back; the server starts another when a statement comes.
  const idleExit = () => setTimeout(() => process.exit(0), 5 * 60_000);
  let idle = idleExit();
  process.on('message', async (message: SandboxRequest) => {
    clearTimeout(idle);
    idle = idleExit();
    watched = { baseline: process.memoryUsage.rss(), capBytes: message.capBytes };
    try {
      if (message.columns) await mirror(message.columns);
      const ast = await serialise('SELECT json_serialize_sql($1::VARCHAR)', message.sql);
      const plan = await serialise(
        'SELECT json_serialize_plan($1::VARCHAR, skip_null := true, skip_empty := true, optimize := false)',
        message.sql,
      );
      if (plan.startsWith('{"error":false')) {
        // Preparing plans the statement and computes its constant expressions, as the store will: here, where
        // growing past the cap ends this process and nothing else. Its errors are the store's to report.
        await connection.prepare(message.sql).catch(() => undefined);
      }
      process.send?.({ ast, plan });
    } catch (error) {
      process.send?.({ failure: error instanceof Error ? error.message : String(error) });
    } finally {
      watched = undefined;
    }
  });
  process.send?.({ ready: true });
}

import { RefineryError } from '../../core/errors.js';
import { ResourcePool } from '../resource-pool.js';
import {
  type BoundPlanFacts,
  checkBoundPlan,
  checkValueSizes,
  forbiddenFunction,
  notQueryable,
} from './duckdb-bound-plan.js';
import { checkParsedSelect } from './duckdb-query-guard.js';
import { type RelationColumn, SandboxProcess } from './duckdb-sandbox-process.js';

export type { RelationColumn } from './duckdb-sandbox-process.js';

/** What a check may spend: the query's own memory cap and time limit. */
export interface SandboxLimits {
  readonly capBytes: number;
  readonly timeoutMs: number;
}

/**
 * The catalogue user SQL is bound in before it may run: an in-memory DuckDB (in a process of its own, see
 * SandboxProcess) that holds nothing but empty tables named and typed like the store's public relations. It
 * has no file access (`enable_external_access` off), loads no extensions and its configuration is locked, so
 * the only things a statement can name there are those tables, DuckDB's built-in functions and its system
 * catalogue; `checkBoundPlan` then refuses every data source but the permitted tables and the row generators.
 *
 * The statement that passed runs unchanged on the store. Binding it there resolves each name to the same
 * relation: the store's query connections have no temporary objects and the default search path, so an
 * unqualified or `main.`-qualified name finds the public view of that name in both places; a name qualified
 * with another catalogue or schema either does not exist in the sandbox or is a refused system view. Table
 * functions whose arguments are evaluated while binding (`query('…')`) could name different things in the
 * two places, so only the generators may be called at all (checked on the parse tree: binding replaces them).
 */
export class DuckDbSandbox {
  private readonly processes: ResourcePool<SandboxProcess>;
  private columns: readonly RelationColumn[] = [];

  /** `size` processes at most (started when first needed), so one slow statement does not hold up others. */
  constructor(size = 3) {
    this.processes = new ResourcePool(Array.from({ length: size }, () => new SandboxProcess()));
  }

  /** Makes the sandbox hold exactly these relations, empty, from the next check on. */
  mirror(columns: readonly RelationColumn[]): void {
    this.columns = columns;
  }

  /**
   * Parses and binds `sql` in the sandbox and checks what it reads. Resolves to the relations it scans; rejects
   * with a query error when it names anything else, calls a refused function, is not one read-only SELECT or
   * its constants exceed the limits.
   */
  check(sql: string, allowed: ReadonlySet<string>, limits: SandboxLimits): Promise<BoundPlanFacts> {
    return this.inspect(sql, allowed, limits, true);
  }

  /** The boundary alone: `check` without the friendly parse-tree check in front of it. */
  bind(sql: string, allowed: ReadonlySet<string>, limits: SandboxLimits): Promise<BoundPlanFacts> {
    return this.inspect(sql, allowed, limits, false);
  }

  async close(): Promise<void> {
    for (const process of this.processes.resources) process.close();
    await this.processes.drain();
  }

  private async inspect(
    sql: string,
    allowed: ReadonlySet<string>,
    limits: SandboxLimits,
    parseCheck: boolean,
  ): Promise<BoundPlanFacts> {
    const answer = await this.processes.use(limits.timeoutMs, (process) =>
      process.run(sql, this.columns, limits),
    );
    if (parseCheck) checkParsedSelect(answer.ast);
    const plan = JSON.parse(answer.plan) as SerializedPlan;
    if (plan.error) throw bindError(plan, allowed);
    const facts = checkBoundPlan(plan.plans, allowed);
    checkValueSizes(plan.plans);
    return facts;
  }
}

interface SerializedPlan {
  readonly error: boolean;
  readonly plans?: unknown;
  readonly error_type?: string;
  readonly error_message?: string;
  /** For catalogue errors: what kind of entry was missing, and its name. */
  readonly type?: string;
  readonly name?: string;
}

/**
 * The binder's refusal as a query error. A missing relation gets the list of queryable ones instead of DuckDB's
 * "did you mean", which would suggest the sandbox's system views.
 */
function bindError(answer: SerializedPlan, allowed: ReadonlySet<string>): RefineryError {
  const message = (answer.error_message ?? 'the query cannot be bound').replace(/\s*\n\s*/g, ' ');
  if (answer.error_type === 'catalog' && answer.name !== undefined) {
    if (/^(Table|View|Schema|Catalog)$/.test(answer.type ?? '')) return notQueryable(answer.name, allowed);
    if (/Table Function|Table Macro|Pragma/.test(answer.type ?? '')) return forbiddenFunction(answer.name);
  }
  if (answer.error_type === 'catalog' && answer.name === undefined) {
    // A catalogue or schema the sandbox does not have ("Catalog "x" does not exist!").
    return new RefineryError(
      'REFINERY_ERR_QUERY_FORBIDDEN_FUNCTION',
      `${message} Query one of: ${[...allowed].sort().join(', ')}.`,
      { field: 'sql' },
    );
  }
  if (answer.error_type === 'permission') {
    return new RefineryError(
      'REFINERY_ERR_QUERY_FORBIDDEN_FUNCTION',
      'Queries cannot read files or anything else outside the store; load files with `refinery import`.',
      { field: 'sql' },
    );
  }
  return new RefineryError('REFINERY_ERR_QUERY_FAILED', message, { field: 'sql' });
}

import { RefineryError } from '../../core/errors.js';
import type { DuckDbSession } from './duckdb-session.js';

// Table functions a read-only query may call: they generate rows and touch nothing outside the query. Checked on
// the parse tree because DuckDB replaces some table functions while binding (`query('…')`, `query_table(…)`
// become the plan of their argument, evaluated at bind time), so the bound plan no longer shows them.
const ALLOWED_TABLE_FUNCTIONS = new Set(['range', 'generate_series', 'unnest']);
// Scalar functions that reveal the server's environment or settings.
const DENIED_SCALAR_FUNCTIONS = new Set(['getenv', 'current_setting', 'getvariable']);
// Parse-tree nodes that read the catalogue rather than a relation (SHOW, DESCRIBE, SUMMARIZE) or build one.
const CATALOGUE_REFS = new Set(['SHOW_REF', 'PIVOT', 'COLUMN_DATA', 'DELIM_GET']);

interface AstNode {
  [key: string]: unknown;
}

export interface GuardOptions {
  /**
   * Check relation names on the parse tree: each must be one of these, and table expressions (`WITH x AS
   * (…)`) are refused. For an engine with no catalogue sandbox of its own (ClickHouse without a query user);
   * on DuckDB the sandbox's binder resolves names, with DuckDB's own scoping rules.
   */
  readonly relations?: ReadonlySet<string>;
}

/**
 * The friendly first check of a user's SQL, on DuckDB's parse tree (`json_serialize_sql` only parses; nothing
 * is bound or run): one SELECT, only the generator table functions, none of the functions that reveal the
 * server. It is not the boundary: the sandbox catalogue (DuckDB) and the query user (ClickHouse) are.
 */
export async function assertReadOnlySelect(
  session: DuckDbSession,
  sql: string,
  options: GuardOptions = {},
): Promise<void> {
  const rows = await session.all<{ ast: string }>('SELECT json_serialize_sql($1::VARCHAR) AS ast', [sql]);
  checkParsedSelect(rows[0]!.ast, options);
}

/** The same check on a parse tree already serialised by `json_serialize_sql`. */
export function checkParsedSelect(serialised: string, options: GuardOptions = {}): void {
  const ast = JSON.parse(serialised) as { error: boolean; error_message?: string; statements?: AstNode[] };
  if (ast.error) {
    const notSelect = /Only SELECT/.test(ast.error_message ?? '');
    throw new RefineryError(
      notSelect ? 'REFINERY_ERR_QUERY_NOT_READ_ONLY' : 'REFINERY_ERR_QUERY_FAILED',
      notSelect
        ? 'Only a single read-only SELECT statement is allowed.'
        : `The query does not parse: ${ast.error_message ?? 'unknown error'}`,
      { field: 'sql' },
    );
  }
  if (ast.statements?.length !== 1) {
    throw new RefineryError('REFINERY_ERR_QUERY_NOT_READ_ONLY', 'Send exactly one SELECT statement.', {
      field: 'sql',
    });
  }
  visit(ast.statements[0], (node) => checkNode(node, options.relations));
}

function checkNode(node: AstNode, relations: ReadonlySet<string> | undefined): void {
  if (node.type === 'TABLE_FUNCTION') {
    const name = String((node.function as AstNode | undefined)?.function_name ?? '').toLowerCase();
    if (!ALLOWED_TABLE_FUNCTIONS.has(name))
      throw forbidden(`The table function ${name}()`, { function: name });
  }
  if (node.class === 'FUNCTION') {
    const name = String(node.function_name ?? '').toLowerCase();
    if (DENIED_SCALAR_FUNCTIONS.has(name)) throw forbidden(`The function ${name}()`, { function: name });
  }
  if (typeof node.type === 'string' && CATALOGUE_REFS.has(node.type)) {
    throw new RefineryError(
      'REFINERY_ERR_QUERY_FORBIDDEN_FUNCTION',
      'SHOW, DESCRIBE, SUMMARIZE and PIVOT are not allowed in queries; the public relations and their columns are listed in docs/store.md.',
      { field: 'sql' },
    );
  }
  if (relations) checkRelationName(node, relations);
}

function checkRelationName(node: AstNode, relations: ReadonlySet<string>): void {
  const ctes = (node.cte_map as { map?: unknown[] } | undefined)?.map;
  if (ctes && ctes.length > 0) {
    throw new RefineryError(
      'REFINERY_ERR_QUERY_FAILED',
      'Table expressions (WITH name AS (SELECT …)) are not supported by this store; write a subquery instead.',
      { field: 'sql' },
    );
  }
  if (node.type !== 'BASE_TABLE') return;
  const table = String(node.table_name ?? '');
  const schema = String(node.schema_name ?? '');
  const catalog = String(node.catalog_name ?? '');
  if (catalog !== '' || schema !== '' || !relations.has(table)) {
    throw new RefineryError(
      'REFINERY_ERR_QUERY_FORBIDDEN_FUNCTION',
      `"${[catalog, schema, table].filter(Boolean).join('.')}" is not a queryable relation. Query one of: ${[...relations].sort().join(', ')}.`,
      { field: 'sql', relation: table },
    );
  }
}

function forbidden(what: string, detail: Record<string, string>): RefineryError {
  return new RefineryError('REFINERY_ERR_QUERY_FORBIDDEN_FUNCTION', `${what} is not allowed in queries.`, {
    field: 'sql',
    ...detail,
  });
}

function visit(value: unknown, onNode: (node: AstNode) => void): void {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const current = stack.pop();
    if (Array.isArray(current)) {
      stack.push(...current);
    } else if (current && typeof current === 'object') {
      onNode(current as AstNode);
      stack.push(...Object.values(current));
    }
  }
}

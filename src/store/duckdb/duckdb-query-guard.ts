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
   * (…)`) are refused. For ClickHouse, which parses what DuckDB parses here differently in places and can
   * confine a user only to whole databases; on DuckDB the sandbox's binder resolves names, with DuckDB's own
   * scoping rules.
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
): Promise<string[]> {
  const rows = await session.all<{ ast: string }>('SELECT json_serialize_sql($1::VARCHAR) AS ast', [sql]);
  return checkParsedSelect(rows[0]!.ast, options);
}

/**
 * The same check on a parse tree already serialised by `json_serialize_sql`. With `relations`, resolves to the
 * relations the statement names (sorted); otherwise to an empty list.
 */
export function checkParsedSelect(serialised: string, options: GuardOptions = {}): string[] {
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
  // Table expressions are refused below when relations are checked, so treating every name one defines as
  // defined everywhere (ignoring scope) only decides which of the two refusals comes first.
  const tableExpressions = new Set<string>();
  visit(ast.statements[0], (node) => {
    const map = (node.cte_map as { map?: { key: string }[] } | undefined)?.map;
    for (const entry of map ?? []) tableExpressions.add(entry.key);
  });
  const named = new Set<string>();
  visit(ast.statements[0], (node) => {
    checkNode(node, options.relations, tableExpressions);
    if (options.relations && node.type === 'BASE_TABLE') named.add(String(node.table_name));
  });
  if (options.relations && tableExpressions.size > 0) {
    throw new RefineryError(
      'REFINERY_ERR_QUERY_FAILED',
      'Table expressions (WITH name AS (SELECT …)) are not supported by this store; write a subquery instead.',
      { field: 'sql' },
    );
  }
  return [...named].sort();
}

function checkNode(
  node: AstNode,
  relations: ReadonlySet<string> | undefined,
  tableExpressions: ReadonlySet<string>,
): void {
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
  if (relations) checkRelationName(node, relations, tableExpressions);
}

function checkRelationName(
  node: AstNode,
  relations: ReadonlySet<string>,
  tableExpressions: ReadonlySet<string>,
): void {
  if (isInTableName(node)) {
    // ClickHouse reads `x IN name` (and `x IN (name)`) as membership in the table `name`; DuckDB parses the
    // name as a column, so it would pass the relation check above.
    throw new RefineryError(
      'REFINERY_ERR_QUERY_FORBIDDEN_FUNCTION',
      'IN needs a list of values or a subquery (IN (SELECT … FROM …)), not a bare name.',
      { field: 'sql' },
    );
  }
  if (node.type !== 'BASE_TABLE') return;
  const table = String(node.table_name ?? '');
  const schema = String(node.schema_name ?? '');
  const catalog = String(node.catalog_name ?? '');
  const known = relations.has(table) || (schema === '' && tableExpressions.has(table));
  if (catalog !== '' || schema !== '' || !known) {
    throw new RefineryError(
      'REFINERY_ERR_QUERY_FORBIDDEN_FUNCTION',
      `"${[catalog, schema, table].filter(Boolean).join('.')}" is not a queryable relation. Query one of: ${[...relations].sort().join(', ')}.`,
      { field: 'sql', relation: table },
    );
  }
}

/** `x IN name`, `x NOT IN name` (parsed as contains(name, x)) and `x IN (name)`, names qualified or not. */
function isInTableName(node: AstNode): boolean {
  const children = Array.isArray(node.children) ? (node.children as AstNode[]) : [];
  const bare = (child: AstNode | undefined) => child?.class === 'COLUMN_REF';
  if (node.class === 'FUNCTION' && node.function_name === 'contains') return bare(children[0]);
  if (node.type === 'COMPARE_IN' || node.type === 'COMPARE_NOT_IN') {
    return children.length === 2 && bare(children[1]);
  }
  return false;
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

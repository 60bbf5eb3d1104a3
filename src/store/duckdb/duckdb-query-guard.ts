import { RefineryError } from '../../core/errors.js';
import type { DuckDbSession } from './duckdb-session.js';

// Table functions a read-only query may call: they generate rows and touch nothing outside the query.
const ALLOWED_TABLE_FUNCTIONS = new Set(['range', 'generate_series', 'unnest']);
// Scalar functions that reveal the server's environment or settings.
const DENIED_SCALAR_FUNCTIONS = new Set(['getenv', 'current_setting']);

interface AstNode {
  [key: string]: unknown;
}

/**
 * Proves a user's SQL is one SELECT over Refinery's public relations, using DuckDB's own parser
 * (`json_serialize_sql` only parses; nothing is bound or run, so no file is touched while checking).
 */
export async function assertReadOnlySelect(
  session: DuckDbSession,
  sql: string,
  queryableRelations: ReadonlySet<string>,
): Promise<void> {
  const rows = await session.all<{ ast: string }>('SELECT json_serialize_sql($1::VARCHAR) AS ast', [sql]);
  const ast = JSON.parse(rows[0]!.ast) as { error: boolean; error_message?: string; statements?: AstNode[] };
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
  const cteNames = new Set<string>();
  collectCteNames(ast.statements[0], cteNames);
  visit(ast.statements[0], (node) => checkNode(node, queryableRelations, cteNames));
}

function checkNode(node: AstNode, relations: ReadonlySet<string>, cteNames: ReadonlySet<string>): void {
  if (node.type === 'BASE_TABLE') {
    const table = String(node.table_name ?? '');
    const schema = String(node.schema_name ?? '');
    const catalog = String(node.catalog_name ?? '');
    const known = relations.has(table.toLowerCase()) || cteNames.has(table.toLowerCase());
    if (catalog !== '' || (schema !== '' && schema !== 'main') || !known) {
      throw new RefineryError(
        'REFINERY_ERR_QUERY_FORBIDDEN_FUNCTION',
        `"${[catalog, schema, table].filter(Boolean).join('.')}" is not a queryable relation. Query one of: ${[...relations].sort().join(', ')}.`,
        { field: 'sql', relation: table },
      );
    }
  }
  if (node.type === 'TABLE_FUNCTION') {
    const name = String((node.function as AstNode | undefined)?.function_name ?? '').toLowerCase();
    if (!ALLOWED_TABLE_FUNCTIONS.has(name)) {
      throw new RefineryError(
        'REFINERY_ERR_QUERY_FORBIDDEN_FUNCTION',
        `The table function ${name}() is not allowed in read-only queries.`,
        { field: 'sql', function: name },
      );
    }
  }
  if (node.class === 'FUNCTION') {
    const name = String(node.function_name ?? '').toLowerCase();
    if (DENIED_SCALAR_FUNCTIONS.has(name)) {
      throw new RefineryError(
        'REFINERY_ERR_QUERY_FORBIDDEN_FUNCTION',
        `The function ${name}() is not allowed in read-only queries.`,
        { field: 'sql', function: name },
      );
    }
  }
}

function collectCteNames(value: unknown, names: Set<string>): void {
  visit(value, (node) => {
    const map = (node.cte_map as { map?: { key: string }[] } | undefined)?.map;
    for (const entry of map ?? []) names.add(entry.key.toLowerCase());
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

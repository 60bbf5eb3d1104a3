import { RefineryError } from '../../core/errors.js';

/**
 * Rules over a logical plan that DuckDB's binder produced in the sandbox catalogue (`json_serialize_plan`
 * with the optimizer off). The binder has already resolved every name with DuckDB's own scoping; these rules
 * only look at what it resolved to, so no spelling of the SQL can make them see something else.
 */

/** Where the sandbox keeps its copies of the public relations (its default catalogue and schema). */
export const SANDBOX_CATALOG = 'memory';
export const SANDBOX_SCHEMA = 'main';

/** Table functions that only generate rows from their arguments; every other table function is refused. */
const GENERATOR_TABLE_FUNCTIONS = new Set(['range', 'generate_series', 'unnest']);

// Logical operators a read-only query is made of. Anything else (writes, DDL, PRAGMA, SET, EXPLAIN, COPY, and
// LOGICAL_CHUNK_GET: a table the binder computed itself, as SHOW and DESCRIBE do) is refused: new operator
// kinds in a later DuckDB are refused until someone looks at them.
const READ_OPERATORS = new Set(
  [
    'PROJECTION',
    'FILTER',
    'AGGREGATE_AND_GROUP_BY',
    'WINDOW',
    'UNNEST',
    'LIMIT',
    'ORDER_BY',
    'TOP_N',
    'DISTINCT',
    'SAMPLE',
    'PIVOT',
    'GET',
    'DELIM_GET',
    'EXPRESSION_GET',
    'DUMMY_SCAN',
    'EMPTY_RESULT',
    'CTE_REF',
    'DELIM_JOIN',
    'COMPARISON_JOIN',
    'ANY_JOIN',
    'CROSS_PRODUCT',
    'POSITIONAL_JOIN',
    'ASOF_JOIN',
    'DEPENDENT_JOIN',
    'UNION',
    'EXCEPT',
    'INTERSECT',
    'RECURSIVE_CTE',
    'MATERIALIZED_CTE',
  ].map((name) => `LOGICAL_${name}`),
);

// Scalar functions whose answer differs between the sandbox and the store (settings, session variables) or that
// change state (sequences).
const DENIED_FUNCTIONS = new Set(['current_setting', 'getvariable', 'getenv', 'nextval', 'currval']);

/**
 * The largest value (list elements, characters) one call of a size-setting function may build per row. DuckDB
 * builds such values outside its memory limit and without checking for an interrupt, for a whole chunk of
 * rows at once. Larger row counts belong to the table functions, which stream.
 */
export const MAX_GENERATED_VALUE = 100_000;

/**
 * Functions whose result size is set by an argument rather than by the size of their input, with the
 * positions (0-based) of the arguments that set it.
 */
const SIZE_ARGUMENTS: ReadonlyMap<string, readonly number[]> = new Map([
  ['repeat', [1]],
  ['lpad', [1]],
  ['rpad', [1]],
  ['list_resize', [1]],
  ['array_resize', [1]],
  ['bitstring', [1]],
  ['equi_width_bins', [2]],
]);
const LIST_GENERATORS = new Set(['range', 'generate_series']);
const FORMAT_FUNCTIONS = new Set(['printf', 'format']);

type PlanNode = { readonly [key: string]: unknown };

/** What a vetted query reads: the public relations it scans, sorted. */
export interface BoundPlanFacts {
  readonly relations: string[];
}

/**
 * Checks every operator, data source and function call of a bound plan. `allowed` is what this query may
 * scan (all public relations, or one purpose's view); anything else is refused with a RefineryError.
 */
export function checkBoundPlan(plans: unknown, allowed: ReadonlySet<string>): BoundPlanFacts {
  if (!Array.isArray(plans) || plans.length !== 1) {
    throw new RefineryError('REFINERY_ERR_QUERY_NOT_READ_ONLY', 'Send exactly one SELECT statement.', {
      field: 'sql',
    });
  }
  const relations = new Set<string>();
  visitObjects(plans[0], (node) => {
    const type = node.type;
    if (typeof type === 'string' && type.startsWith('LOGICAL_')) {
      if (!READ_OPERATORS.has(type)) throw notReadOnly(type);
      if (type === 'LOGICAL_GET') {
        const relation = scanOf(node, allowed);
        if (relation !== undefined) relations.add(relation);
      }
    }
    if (isFunctionCall(node)) {
      const name = String(node.name ?? '').toLowerCase();
      if (DENIED_FUNCTIONS.has(name)) throw forbiddenFunction(name);
    }
  });
  return { relations: [...relations].sort() };
}

/**
 * Bounds the values size-setting functions build. A call whose arguments are all constant is computed once,
 * while the statement is prepared, which the sandbox process has already done under the query's memory cap.
 * A call with an argument from the data runs for every row: its size argument must then be an integer literal
 * of at most MAX_GENERATED_VALUE (or its format a literal with widths within it), and a list generator, whose
 * length would come from the data, is refused.
 */
export function checkValueSizes(plans: unknown): void {
  visitObjects(plans, (node) => {
    if (node.expression_class === 'BOUND_FUNCTION' && !isConstant(node)) checkSizeSetting(node);
  });
}

function isFunctionCall(node: PlanNode): boolean {
  const expressionClass = node.expression_class;
  return (
    expressionClass === 'BOUND_FUNCTION' ||
    expressionClass === 'BOUND_AGGREGATE' ||
    expressionClass === 'BOUND_WINDOW'
  );
}

/** The relation a LOGICAL_GET scans (undefined for a generator), or a refusal. */
function scanOf(node: PlanNode, allowed: ReadonlySet<string>): string | undefined {
  const name = String(node.name ?? '');
  if (name === 'seq_scan') {
    const data = (node.function_data ?? {}) as PlanNode;
    const table = String(data.table ?? '');
    const inSandbox = data.catalog === SANDBOX_CATALOG && data.schema === SANDBOX_SCHEMA;
    if (!inSandbox || !allowed.has(table)) throw notQueryable(table, allowed);
    return table;
  }
  if (GENERATOR_TABLE_FUNCTIONS.has(name) && node.catalog_name === 'system') return undefined;
  throw forbiddenFunction(name);
}

function checkSizeSetting(node: PlanNode): void {
  const name = String(node.name ?? '').toLowerCase();
  const children = Array.isArray(node.children) ? (node.children as PlanNode[]) : [];
  if (LIST_GENERATORS.has(name)) throw tooLarge(name);
  for (const index of SIZE_ARGUMENTS.get(name) ?? []) {
    const size = children[index] === undefined ? 0 : constantInteger(children[index]);
    if (size === undefined || Math.abs(size) > MAX_GENERATED_VALUE) throw tooLarge(name);
  }
  if (FORMAT_FUNCTIONS.has(name)) checkFormat(name, children[0]);
}

/** A format string sets its own output width (`%100000000d`, `{:>100000000}`): it must be a constant. */
function checkFormat(name: string, format: PlanNode | undefined): void {
  const text = format === undefined ? undefined : constantText(format);
  if (text === undefined || /[*]|\{[^}]*\{/.test(text)) throw tooLarge(name);
  for (const digits of text.match(/\d+/g) ?? []) {
    if (Number(digits) > MAX_GENERATED_VALUE) throw tooLarge(name);
  }
}

// Expressions whose value depends on the row, the query's input or chance: DuckDB cannot compute them ahead.
const ROW_DEPENDENT = new Set([
  'BOUND_COLUMN_REF',
  'BOUND_REF',
  'BOUND_LAMBDA_REF',
  'BOUND_PARAMETER',
  'BOUND_AGGREGATE',
  'BOUND_WINDOW',
  'BOUND_SUBQUERY',
  'BOUND_DEFAULT',
  'BOUND_UNNEST',
]);
const VOLATILE_FUNCTIONS = new Set(['random', 'uuid', 'gen_random_uuid', 'uuidv4', 'uuidv7', 'setseed']);

/** Whether an expression has no input from rows and no chance in it, so DuckDB computes it once. */
function isConstant(expression: PlanNode): boolean {
  let constant = true;
  visitObjects(expression, (node) => {
    const kind = String(node.expression_class ?? '');
    if (ROW_DEPENDENT.has(kind)) constant = false;
    if (kind === 'BOUND_FUNCTION' && VOLATILE_FUNCTIONS.has(String(node.name ?? '').toLowerCase())) {
      constant = false;
    }
  });
  return constant;
}

/** The value of an integer literal (possibly cast to another integer type); undefined for anything else. */
function constantInteger(node: PlanNode): number | undefined {
  if (node.expression_class === 'BOUND_CAST' && isObject(node.child)) {
    return INTEGER_TYPES.has(typeId(node.return_type)) ? constantInteger(node.child) : undefined;
  }
  if (node.expression_class !== 'BOUND_CONSTANT' || !isObject(node.value)) return undefined;
  const value = node.value as PlanNode;
  if (value.is_null === true || !INTEGER_TYPES.has(typeId(value.type))) return undefined;
  const number = Number(value.value);
  return Number.isFinite(number) ? number : undefined;
}

function constantText(node: PlanNode): string | undefined {
  if (node.expression_class !== 'BOUND_CONSTANT' || !isObject(node.value)) return undefined;
  const value = node.value as PlanNode;
  return typeof value.value === 'string' ? value.value : undefined;
}

const INTEGER_TYPES = new Set([
  'TINYINT',
  'SMALLINT',
  'INTEGER',
  'BIGINT',
  'UTINYINT',
  'USMALLINT',
  'UINTEGER',
  'UBIGINT',
]);

function typeId(type: unknown): string {
  return isObject(type) ? String((type as PlanNode).id ?? '') : '';
}

function isObject(value: unknown): value is PlanNode {
  return typeof value === 'object' && value !== null;
}

function visitObjects(root: unknown, onObject: (node: PlanNode) => void): void {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const current = stack.pop();
    if (Array.isArray(current)) stack.push(...current);
    else if (isObject(current)) {
      onObject(current);
      stack.push(...Object.values(current));
    }
  }
}

export function notQueryable(relation: string, allowed: ReadonlySet<string>): RefineryError {
  return new RefineryError(
    'REFINERY_ERR_QUERY_FORBIDDEN_FUNCTION',
    `"${relation}" is not a queryable relation. Query one of: ${[...allowed].sort().join(', ')}.`,
    { field: 'sql', relation },
  );
}

export function forbiddenFunction(name: string): RefineryError {
  return new RefineryError(
    'REFINERY_ERR_QUERY_FORBIDDEN_FUNCTION',
    `${name}() is not allowed in queries: only the public relations and the generators range(), generate_series() and unnest() may be read.`,
    { field: 'sql', function: name },
  );
}

function notReadOnly(operator: string): RefineryError {
  const what = operator.replace(/^LOGICAL_/, '').toLowerCase();
  return new RefineryError(
    'REFINERY_ERR_QUERY_NOT_READ_ONLY',
    `Only a read-only SELECT over the public relations is allowed (the statement contains ${what}).`,
    { field: 'sql' },
  );
}

function tooLarge(name: string): RefineryError {
  return new RefineryError(
    'REFINERY_ERR_QUERY_TOO_LARGE',
    `${name}() over column values may build at most ${MAX_GENERATED_VALUE} elements or characters per row, set by an integer literal; a list from range() or generate_series() must have constant arguments. For many rows use the table function: SELECT … FROM range(…).`,
    { field: 'sql', function: name, limit: MAX_GENERATED_VALUE },
  );
}

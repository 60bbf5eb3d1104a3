import { isRefineryError, RefineryError } from '../../core/errors.js';
import {
  type Contract,
  type ContractServer,
  QUALITY_OPERATORS,
  type QualityRule,
  type QualityThreshold,
  type SchemaObject,
  type SchemaProperty,
  type SlaProperty,
} from '../contract-model.js';
import { compileRecordValidator, type Violation } from '../record-validator.js';
import {
  type CheckOutcome,
  type CheckResult,
  type CheckType,
  type ContractTestReport,
  worstOutcome,
} from './check-result.js';
import {
  openFileData,
  openStoredRows,
  type RowSource,
  type SourceRow,
  type WorkspaceQuery,
} from './row-source.js';

export interface ContractTestOptions {
  /** The `servers` entry whose files to test; without it, the data stored in the workspace (needs `query`). */
  readonly server?: string | undefined;
  /** Reads the workspace's store (`WorkspaceAccess.query`). */
  readonly query?: WorkspaceQuery | undefined;
  /** A SQL condition selecting the rows to test, e.g. `order_id <= 2`. */
  readonly filter?: string | undefined;
  /** Where relative server paths resolve; the current folder by default, as datacontract-cli does. */
  readonly base?: string | undefined;
  /** Report text and custom quality rules (which Refinery cannot run) as warnings instead of skipped. */
  readonly strict?: boolean | undefined;
  /** The clock SLA checks compare with. */
  readonly now?: Date | undefined;
  /** Rows per page when reading the store. */
  readonly pageRows?: number | undefined;
}

const MAX_SAMPLES = 5;
const CLASSIFIED = '(classified)';

/**
 * Tests a contract's schema, quality rules and SLA against data: a local server's files or the workspace's
 * stored events and datasets. Data problems become checks (`failed`, or `error` when the data cannot be
 * read, e.g. a row filter naming an unknown column); only an unusable request (no such server) throws.
 *
 * @example
 * const report = await runContractTest(contract, { server: 'local', filter: 'order_id <= 2' });
 * process.exitCode = exitCodeOf(report.result);
 */
export async function runContractTest(
  contract: Contract,
  options: ContractTestOptions = {},
): Promise<ContractTestReport> {
  const started = Date.now();
  const now = options.now ?? new Date();
  const server = options.server !== undefined ? getServerOrThrow(contract, options.server) : null;
  if (!server && !options.query) {
    throw new RefineryError(
      'REFINERY_ERR_CONTRACT_SERVER',
      'Nothing to test against: name a server of the contract (--server) or run inside a workspace.',
      { field: 'server' },
    );
  }
  const files = server
    ? await openFileData(server, { base: options.base ?? process.cwd(), filter: options.filter })
    : null;
  const slas = planSlas(contract.sla);
  const checks: CheckResult[] = [];
  try {
    for (const object of contract.objects) {
      const open = () =>
        files
          ? files.forObject(object)
          : openStoredRows(options.query!, object, { filter: options.filter, ...pageOption(options) });
      checks.push(...(await testObject(object, open, slas, { ...options, now })));
    }
  } finally {
    files?.close();
  }
  checks.push(...unappliedSlaChecks(slas));
  return {
    contract: { id: contract.id, version: contract.version, file: contract.file },
    server: server?.server ?? null,
    result: worstOutcome(checks),
    checks,
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
  };
}

function pageOption(options: ContractTestOptions): { pageRows?: number } {
  return options.pageRows !== undefined ? { pageRows: options.pageRows } : {};
}

export function getServerOrThrow(contract: Contract, name: string): ContractServer {
  const server = contract.servers.find((entry) => entry.server === name);
  if (server) return server;
  const known = contract.servers.map((entry) => entry.server);
  throw new RefineryError(
    'REFINERY_ERR_CONTRACT_SERVER',
    `Contract ${contract.id} has no server "${name}"${known.length ? ` (it has ${known.join(', ')})` : ' (it declares no servers)'}.`,
    { field: 'server', server: name },
  );
}

// ---------------------------------------------------------------------------------------------------------
// One schema object: open its rows, plan the checks, stream the rows through them once, then run SQL rules

interface RunContext extends ContractTestOptions {
  readonly now: Date;
}

async function testObject(
  object: SchemaObject,
  open: () => Promise<RowSource>,
  slas: readonly SlaPlan[],
  context: RunContext,
): Promise<CheckResult[]> {
  let source: RowSource;
  try {
    source = await open();
  } catch (error) {
    return [errorCheck(object.name, error)];
  }
  const plan = planObject(object, source, slas, context);
  let total = 0;
  try {
    for await (const chunk of source.chunks()) {
      for (const row of chunk) plan.observe(row, ++total);
    }
  } catch (error) {
    return [...plan.presence.static, errorCheck(object.name, error)];
  }
  const results = dropChecksOfAbsentFields(plan.finish(total));
  for (const rule of plan.sqlRules) results.push(await runSqlRule(object, source, rule));
  return results;
}

function errorCheck(object: string, error: unknown): CheckResult {
  if (!isRefineryError(error)) throw error;
  return {
    id: `${object}.data_source`,
    object,
    field: null,
    type: 'data_source',
    name: `Read the data of ${object}`,
    result: 'error',
    reason: error.message,
    code: error.code,
  };
}

/** A check that reads every row, then reports. */
interface RowCheck {
  observe(row: SourceRow, position: number): void;
  finish(total: number): CheckResult[];
}

interface ObjectPlan {
  readonly presence: { readonly static: CheckResult[] };
  readonly sqlRules: readonly SqlRule[];
  observe(row: SourceRow, position: number): void;
  finish(total: number): CheckResult[];
}

interface SqlRule {
  readonly rule: QualityRule;
  readonly field: FieldRef | null;
}

/** A declared property at some depth: its path for people, how to read its value, whether to mask it. */
interface FieldRef {
  readonly path: string;
  readonly key: string;
  readonly property: SchemaProperty;
  readonly classified: boolean;
  read(record: Record<string, unknown>): unknown;
}

function planObject(
  object: SchemaObject,
  source: RowSource,
  slas: readonly SlaPlan[],
  context: RunContext,
): ObjectPlan {
  const identify = rowIdentifier(object, source);
  const presence = planPresence(object, source);
  const checkable = object.properties.filter((property) => !presence.missing.has(keyOf(property)));
  const fields = fieldRefs(checkable, '', false, null);
  const rowChecks: RowCheck[] = [
    recordRuleCheck(object, checkable, fields, identify),
    ...uniqueChecks(object, fields),
    ...presence.byRows,
  ];
  const sqlRules: SqlRule[] = [];
  const staticChecks: CheckResult[] = [];
  const qualityOf = (rule: QualityRule, field: FieldRef | null) => {
    if (rule.type === 'sql') sqlRules.push({ rule, field });
    else if (rule.type === 'library') {
      const check = metricCheck(object, rule, field, identify);
      if ('observe' in check) rowChecks.push(check);
      else staticChecks.push(check);
    } else staticChecks.push(notExecutedCheck(object, rule, field, context.strict === true));
  };
  for (const rule of object.quality) qualityOf(rule, null);
  for (const field of fields) {
    for (const rule of field.property.quality) {
      if (field.path.includes('[')) {
        const reason = 'quality rules on array items are not measured by Refinery';
        staticChecks.push({ ...qualityIdentity(object.name, rule, field), result: 'skipped', reason });
      } else qualityOf(rule, field);
    }
  }
  rowChecks.push(...slaChecksFor(object, source, slas, context.now));
  return {
    presence: { static: presence.static },
    sqlRules,
    observe(row, position) {
      for (const check of rowChecks) check.observe(row, position);
    },
    finish(total) {
      return [...presence.static, ...rowChecks.flatMap((check) => check.finish(total)), ...staticChecks];
    },
  };
}

function keyOf(property: SchemaProperty): string {
  return property.physicalName ?? property.name;
}

/** Every declared property, nested ones included (`address.city`, `items[].sku`). */
function fieldRefs(
  properties: readonly SchemaProperty[],
  prefix: string,
  classifiedParent: boolean,
  parent: FieldRef | null,
): FieldRef[] {
  const refs: FieldRef[] = [];
  for (const property of properties) {
    const key = keyOf(property);
    const path = prefix ? `${prefix}.${key}` : key;
    const classified = classifiedParent || isClassified(property);
    const ref: FieldRef = {
      path,
      key,
      property,
      classified,
      read: (record) => {
        const container = parent ? parent.read(record) : record;
        return container !== null && typeof container === 'object' && !Array.isArray(container)
          ? (container as Record<string, unknown>)[key]
          : undefined;
      },
    };
    refs.push(ref, ...fieldRefs(property.properties, path, classified, ref));
    if (property.items) refs.push(...itemRefs(property.items, `${path}[]`, classified));
  }
  return refs;
}

/** Array items are checked per record by the validator; their refs only name checks and mask samples. */
function itemRefs(items: SchemaProperty, path: string, classified: boolean): FieldRef[] {
  const masked = classified || isClassified(items);
  const self: FieldRef = { path, key: path, property: items, classified: masked, read: () => undefined };
  const nested = items.properties.map((property) => itemRefs(property, `${path}.${keyOf(property)}`, masked));
  return [self, ...nested.flat()];
}

function isClassified(property: SchemaProperty): boolean {
  return property.classification !== null && property.classification.toLowerCase() !== 'public';
}

/** How a failing row is named in samples: its message id, its key properties, or its position. */
function rowIdentifier(
  object: SchemaObject,
  source: RowSource,
): (row: SourceRow, position: number) => unknown {
  if (source.keyColumns.length > 0) {
    return (row) =>
      Object.fromEntries(source.keyColumns.map((column) => [column, row.columns[column] ?? null]));
  }
  const primary = object.properties.filter((property) => property.primaryKey);
  const keys = (
    primary.length > 0 ? primary : object.properties.filter((property) => property.unique)
  ).filter((property) => !isClassified(property));
  if (keys.length === 0) return (_row, position) => ({ row: position });
  return (row, position) => {
    const values = keys.map((property) => [keyOf(property), row.record[keyOf(property)]] as const);
    return values.every(([, value]) => value === undefined || value === null)
      ? { row: position }
      : Object.fromEntries(values);
  };
}

// ---------------------------------------------------------------------------------------------------------
// Presence: file columns are known up front; event payloads (and dataset `extra`) only after reading rows

interface PresencePlan {
  readonly missing: ReadonlySet<string>;
  readonly static: CheckResult[];
  readonly byRows: RowCheck[];
}

function planPresence(object: SchemaObject, source: RowSource): PresencePlan {
  const columns = new Set(source.columns);
  const missing = new Set<string>();
  const staticChecks: CheckResult[] = [];
  const byRows: RowCheck[] = [];
  for (const property of object.properties) {
    const key = keyOf(property);
    if (source.kind !== 'events' && columns.has(key)) {
      staticChecks.push(presenceCheck(object.name, key, 'passed', 'a column of the data'));
    } else if (source.kind === 'file') {
      missing.add(key);
      staticChecks.push(presenceCheck(object.name, key, 'failed', `no column ${key} in ${source.origin}`));
    } else if (source.kind === 'dataset' || property.required) {
      byRows.push(presenceByRows(object.name, key));
    }
  }
  return { missing, static: staticChecks, byRows };
}

function presenceCheck(object: string, field: string, result: CheckOutcome, reason: string): CheckResult {
  return {
    id: `${object}.${field}.field_is_present`,
    object,
    field,
    type: 'field_is_present',
    name: `Field '${field}' is present`,
    result,
    reason,
  };
}

/** Present when at least one row carries the field; otherwise its other checks are dropped. */
function presenceByRows(object: string, field: string): RowCheck {
  let seen = 0;
  return {
    observe(row) {
      if (row.record[field] !== undefined) seen++;
    },
    finish(total) {
      if (total === 0) return [presenceCheck(object, field, 'skipped', 'no rows to look at')];
      return [
        seen > 0
          ? presenceCheck(object, field, 'passed', `present in ${seen} of ${total} rows`)
          : presenceCheck(object, field, 'failed', `absent from all ${total} rows`),
      ];
    },
  };
}

/** A field absent from the data fails its presence check only, as datacontract-cli reports it. */
function dropChecksOfAbsentFields(checks: CheckResult[]): CheckResult[] {
  const absent = checks
    .filter((check) => check.type === 'field_is_present' && check.result === 'failed')
    .map((check) => `${check.object}\u0000${check.field}`);
  if (absent.length === 0) return checks;
  const within = (check: CheckResult) =>
    absent.some((entry) => {
      const [object, field] = entry.split('\u0000') as [string, string];
      return (
        check.object === object &&
        check.field !== null &&
        (check.field === field || check.field.startsWith(`${field}.`) || check.field.startsWith(`${field}[`))
      );
    });
  return checks.filter((check) => check.type === 'field_is_present' || !within(check));
}

// ---------------------------------------------------------------------------------------------------------
// Per-record rules (types, required, logicalTypeOptions), aggregated into one check per field and rule

interface Tally {
  readonly check: Omit<CheckResult, 'result' | 'reason'>;
  failed: number;
  readonly samples: unknown[];
  readonly sampleKeys: Set<string>;
  readonly describe: string;
  /** The validator's wording of the first failure, e.g. `must be <= 100`. */
  message: string | null;
}

function recordRuleCheck(
  object: SchemaObject,
  properties: readonly SchemaProperty[],
  fields: readonly FieldRef[],
  identify: (row: SourceRow, position: number) => unknown,
): RowCheck {
  // Quality rules are measured as rules of their own (with thresholds and severity), never per record here.
  const validate = compileRecordValidator(withoutQuality(properties), '');
  const byPath = new Map(fields.map((field) => [field.path, field]));
  const tallies = new Map<string, Tally>();
  for (const field of fields) {
    for (const [type, describe] of declaredRules(field)) {
      tallies.set(`${field.path}|${type}`, newTally(object.name, field.path, type, describe));
    }
  }
  return {
    observe(row, position) {
      const violations = validate(row.record);
      if (violations.length === 0) return;
      const counted = new Set<string>();
      for (const violation of violations) {
        const path = violation.path.replace(/\[\d+\]/g, '[]');
        const ref = byPath.get(path);
        const nullish =
          ref && !path.includes('[')
            ? isNullish(ref.read(row.record))
            : violation.value === undefined || violation.value === 'null';
        const type = checkTypeOf(violation, nullish);
        const key = `${path}|${type}`;
        let tally = tallies.get(key);
        if (!tally) {
          tally = newTally(object.name, path || null, type, violation.message);
          tallies.set(key, tally);
        }
        if (!counted.has(key)) {
          counted.add(key);
          tally.failed++;
          tally.message ??= violation.message;
        }
        const masked = ref?.classified ?? false;
        const sample =
          type === 'field_required' ? identify(row, position) : masked ? CLASSIFIED : sampleValue(violation);
        addSample(tally, sample);
      }
    },
    finish(total) {
      return [...tallies.values()].map((tally) => ({
        ...tally.check,
        result: tally.failed > 0 ? 'failed' : 'passed',
        reason:
          tally.failed === 0
            ? `all ${total} rows pass`
            : tally.check.type === 'field_required'
              ? `${tally.failed} of ${total} rows have no value`
              : `${tally.failed} of ${total} rows fail: ${tally.message ?? tally.describe}`,
        ...(tally.failed > 0
          ? { failedRows: tally.failed, measured: tally.failed, samples: tally.samples }
          : {}),
      }));
    },
  };
}

function newTally(object: string, field: string | null, type: CheckType, describe: string): Tally {
  return {
    check: {
      id: `${object}.${field ?? '*'}.${type}`,
      object,
      field,
      type,
      name: checkName(field, type, describe),
    },
    failed: 0,
    samples: [],
    sampleKeys: new Set(),
    describe,
    message: null,
  };
}

function checkName(field: string | null, type: CheckType, describe: string): string {
  const subject = field ? `Field '${field}'` : 'Each record';
  return type === 'field_required' ? `${subject} is required` : `${subject} ${describe}`;
}

function addSample(tally: { samples: unknown[]; sampleKeys: Set<string> }, sample: unknown): void {
  if (tally.samples.length >= MAX_SAMPLES) return;
  const key = JSON.stringify(sample) ?? String(sample);
  if (tally.sampleKeys.has(key)) return;
  tally.sampleKeys.add(key);
  tally.samples.push(sample);
}

function sampleValue(violation: Violation): unknown {
  if (violation.value === undefined) return null;
  try {
    return JSON.parse(violation.value) as unknown;
  } catch {
    return violation.value;
  }
}

function withoutQuality(properties: readonly SchemaProperty[]): SchemaProperty[] {
  return properties.map((property) => ({
    ...property,
    quality: [],
    properties: withoutQuality(property.properties),
    items: property.items ? (withoutQuality([property.items])[0] ?? null) : null,
  }));
}

/** The per-record checks a property declares, so that passing ones are listed too. */
function declaredRules(field: FieldRef): [CheckType, string][] {
  const property = field.property;
  const options = property.options;
  const rules: [CheckType, string][] = [];
  if (property.required) rules.push(['field_required', 'is required']);
  if (property.logicalType) rules.push(['field_type', `is of type ${property.logicalType}`]);
  if (typeof options.pattern === 'string') rules.push(['field_pattern', `matches ${options.pattern}`]);
  const format =
    typeof options.format === 'string'
      ? options.format
      : property.logicalType === 'date' ||
          property.logicalType === 'timestamp' ||
          property.logicalType === 'time'
        ? `an ISO ${property.logicalType}`
        : null;
  if (format) rules.push(['field_format', `is ${format}`]);
  const bound = (inclusive: unknown, exclusive: unknown, word: string, strict: string) =>
    inclusive !== undefined ? `${word} ${String(inclusive)}` : `${strict} ${String(exclusive)}`;
  if (options.minimum !== undefined || options.exclusiveMinimum !== undefined) {
    rules.push(['field_min', `is ${bound(options.minimum, options.exclusiveMinimum, '≥', '>')}`]);
  }
  if (options.maximum !== undefined || options.exclusiveMaximum !== undefined) {
    rules.push(['field_max', `is ${bound(options.maximum, options.exclusiveMaximum, '≤', '<')}`]);
  }
  if (options.minLength !== undefined)
    rules.push(['field_min_length', `has at least ${options.minLength} characters`]);
  if (options.maxLength !== undefined)
    rules.push(['field_max_length', `has at most ${options.maxLength} characters`]);
  if (options.multipleOf !== undefined)
    rules.push(['field_multiple_of', `is a multiple of ${options.multipleOf}`]);
  const constraints = (
    ['minItems', 'maxItems', 'uniqueItems', 'minProperties', 'maxProperties'] as const
  ).filter((key) => options[key] !== undefined);
  if (constraints.length > 0) {
    rules.push([
      'field_constraint',
      `meets ${constraints.map((key) => `${key} ${String(options[key])}`).join(', ')}`,
    ]);
  }
  return rules;
}

function isNullish(value: unknown): boolean {
  return value === null || value === undefined;
}

function checkTypeOf(violation: Violation, nullish: boolean): CheckType {
  switch (violation.rule) {
    case 'required':
      return 'field_required';
    case 'type':
      // A null where a value is required reads as "missing", not as a wrong type.
      return nullish ? 'field_required' : 'field_type';
    case 'pattern':
      return 'field_pattern';
    case 'format':
      return 'field_format';
    case 'minimum':
    case 'exclusiveMinimum':
    case 'formatMinimum':
    case 'formatExclusiveMinimum':
      return 'field_min';
    case 'maximum':
    case 'exclusiveMaximum':
    case 'formatMaximum':
    case 'formatExclusiveMaximum':
      return 'field_max';
    case 'minLength':
      return 'field_min_length';
    case 'maxLength':
      return 'field_max_length';
    case 'validValues':
      return 'field_enum';
    case 'multipleOf':
      return 'field_multiple_of';
    default:
      return 'field_constraint';
  }
}

// ---------------------------------------------------------------------------------------------------------
// Uniqueness: `unique` / `primaryKey` fields, and a composite primary key

/** Remembers values compactly enough for millions of rows: short values as they are, long ones hashed. */
class SeenValues {
  private readonly seen = new Set<string>();

  /** True when the value was seen before. */
  repeat(value: unknown): boolean {
    const text = JSON.stringify(value) ?? String(value);
    const key = text.length > 64 ? `#${fnv1a(text)}:${text.length}` : text;
    if (this.seen.has(key)) return true;
    this.seen.add(key);
    return false;
  }
}

function fnv1a(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    a = Math.imul(a ^ code, 0x01000193) >>> 0;
    b = Math.imul(b ^ code, 0x5bd1e995) >>> 0;
  }
  return `${a.toString(36)}${b.toString(36)}`;
}

function uniqueChecks(object: SchemaObject, fields: readonly FieldRef[]): RowCheck[] {
  const topLevel = fields.filter((field) => !field.path.includes('.') && !field.path.includes('['));
  const primary = topLevel.filter((field) => field.property.primaryKey);
  const single = topLevel.filter(
    (field) => field.property.unique || (primary.length === 1 && field.property.primaryKey),
  );
  const checks = single.map((field) =>
    duplicateCheck(object.name, [field], 'field_unique', `Field '${field.path}' is unique`),
  );
  if (primary.length > 1) {
    const names = primary.map((field) => field.path).join(', ');
    checks.push(
      duplicateCheck(object.name, primary, 'primary_key_unique', `Primary key (${names}) is unique`),
    );
  }
  return checks;
}

function duplicateCheck(
  object: string,
  fields: readonly FieldRef[],
  type: CheckType,
  name: string,
): RowCheck {
  const seen = new SeenValues();
  const tally = { samples: [] as unknown[], sampleKeys: new Set<string>() };
  const masked = fields.some((field) => field.classified);
  let duplicates = 0;
  const field = fields.length === 1 ? fields[0]!.path : null;
  return {
    observe(row) {
      const values = fields.map((ref) => ref.read(row.record));
      if (values.every((value) => value === null || value === undefined)) return;
      const value = fields.length === 1 ? values[0] : values;
      if (seen.repeat(value)) {
        duplicates++;
        addSample(tally, masked ? CLASSIFIED : value);
      }
    },
    finish(total) {
      return [
        {
          id: `${object}.${field ?? fields.map((ref) => ref.path).join('+')}.${type}`,
          object,
          field,
          type,
          name,
          result: duplicates > 0 ? 'failed' : 'passed',
          reason:
            duplicates > 0
              ? `${duplicates} of ${total} rows repeat a value of an earlier row`
              : `no duplicates in ${total} rows`,
          measured: duplicates,
          ...(duplicates > 0 ? { failedRows: duplicates, samples: tally.samples } : {}),
        },
      ];
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Quality rules: library metrics measured over all rows, SQL rules run on the same engine, the rest skipped

const COUNT_METRICS = new Set(['nullValues', 'missingValues', 'invalidValues', 'duplicateValues']);
const ZERO: QualityThreshold = { mustBe: 0 };

function metricCheck(
  object: SchemaObject,
  rule: QualityRule,
  field: FieldRef | null,
  identify: (row: SourceRow, position: number) => unknown,
): RowCheck | CheckResult {
  const metric = rule.metric;
  const base = qualityIdentity(object.name, rule, field);
  if (metric === 'rowCount') {
    return {
      observe() {},
      finish: (total) => [judge({ ...base, type: 'row_count' }, rule, total, null, `${total} rows`)],
    };
  }
  if (!metric || !COUNT_METRICS.has(metric)) {
    return {
      ...base,
      result: 'skipped',
      reason: `metric ${metric ?? '(none)'} is not one Refinery measures`,
    };
  }
  const read = field ? (record: Record<string, unknown>) => field.read(record) : tupleReader(object, rule);
  if (!read) {
    return {
      ...base,
      result: 'error',
      reason: `${metric} on the whole object needs arguments.properties (or put the rule on a property)`,
    };
  }
  let offends: (value: unknown) => boolean;
  try {
    offends = offenceTest(metric, rule);
  } catch (error) {
    return { ...base, result: 'error', reason: (error as Error).message };
  }
  const masked = field?.classified ?? false;
  const tally = { samples: [] as unknown[], sampleKeys: new Set<string>() };
  let count = 0;
  return {
    observe(row, position) {
      const value = read(row.record);
      if (!offends(value)) return;
      count++;
      addSample(tally, isNullish(value) ? identify(row, position) : masked ? CLASSIFIED : value);
    },
    finish(total) {
      const percent = rule.unit === 'percent';
      const measured = percent ? (total === 0 ? 0 : (count / total) * 100) : count;
      const what = `${count} of ${total} rows${percent ? ` (${formatNumber(measured)}%)` : ''}`;
      const check = judge(base, rule, measured, ZERO, what);
      return [{ ...check, ...(count > 0 ? { failedRows: count, samples: tally.samples } : {}) }];
    },
  };
}

function qualityIdentity(
  object: string,
  rule: QualityRule,
  field: FieldRef | null,
): Omit<CheckResult, 'result' | 'reason'> {
  const index = rule.path[rule.path.length - 1];
  const subject = field ? `${field.path} ` : '';
  const fallback = rule.type === 'library' && rule.metric && COUNT_METRICS.has(rule.metric) ? ZERO : {};
  const expected = hasOperator(rule) ? rule : fallback;
  const unit = rule.unit === 'percent' ? '%' : '';
  return {
    id: `${object}.${field?.path ?? '*'}.quality[${String(index)}]`,
    object,
    field: field?.path ?? null,
    type: 'quality',
    name:
      rule.name ??
      rule.description ??
      `${subject}${rule.metric ?? rule.type}${describeThreshold(expected, ' ', unit)}`,
  };
}

/** Reads the tuple `arguments.properties` names (for an object-level duplicateValues rule). */
function tupleReader(
  object: SchemaObject,
  rule: QualityRule,
): ((record: Record<string, unknown>) => unknown) | null {
  const names = rule.arguments.properties;
  if (rule.metric !== 'duplicateValues' || !Array.isArray(names) || names.length === 0) return null;
  const keys = names.map((name) => {
    const property = object.properties.find((candidate) => candidate.name === name);
    return property ? keyOf(property) : String(name);
  });
  return (record) => {
    const values = keys.map((key) => record[key]);
    return values.every(isNullish) ? null : values;
  };
}

/** Whether one value counts against a metric (duplicates remember what they have seen). */
function offenceTest(metric: string, rule: QualityRule): (value: unknown) => boolean {
  const args = rule.arguments;
  const missingList = Array.isArray(args.missingValues) ? (args.missingValues as unknown[]) : [];
  const isMissing = (value: unknown) =>
    isNullish(value) || missingList.some((entry) => sameValue(entry, value));
  switch (metric) {
    case 'nullValues':
      return isNullish;
    case 'missingValues':
      return isMissing;
    case 'invalidValues': {
      const valid = Array.isArray(args.validValues) ? (args.validValues as unknown[]) : null;
      const pattern = typeof args.pattern === 'string' ? compilePattern(args.pattern) : null;
      return (value) =>
        !isMissing(value) &&
        ((valid !== null && !valid.some((entry) => sameValue(entry, value))) ||
          (pattern !== null && !pattern.test(typeof value === 'string' ? value : JSON.stringify(value))));
    }
    default: {
      const seen = new SeenValues();
      return (value) => !isNullish(value) && seen.repeat(value);
    }
  }
}

function compilePattern(pattern: string): RegExp {
  try {
    return new RegExp(pattern, 'u');
  } catch (error) {
    throw new Error(`arguments.pattern is not a valid regular expression: ${(error as Error).message}`);
  }
}

function sameValue(expected: unknown, actual: unknown): boolean {
  if (expected === actual) return true;
  if (expected === null || actual === null || expected === undefined || actual === undefined) return false;
  return typeof expected !== typeof actual && String(expected) === String(actual);
}

async function runSqlRule(
  object: SchemaObject,
  source: RowSource,
  { rule, field }: SqlRule,
): Promise<CheckResult> {
  const base = qualityIdentity(object.name, rule, field);
  if (!rule.query) return { ...base, result: 'error', reason: 'a type: sql rule needs a query' };
  let measured: unknown;
  try {
    measured = await source.scalar(rule.query, field?.key ?? null);
  } catch (error) {
    return {
      ...base,
      result: 'error',
      reason: `the query failed: ${(error as Error).message.split('\n')[0]}`,
      code: isRefineryError(error) ? error.code : 'REFINERY_ERR_QUERY_FAILED',
    };
  }
  return judge(base, rule, measured, null, `the query returned ${JSON.stringify(measured)}`);
}

function notExecutedCheck(
  object: SchemaObject,
  rule: QualityRule,
  field: FieldRef | null,
  strict: boolean,
): CheckResult {
  const reason =
    rule.type === 'text'
      ? 'a text rule for people; not executed by Refinery'
      : `not executed by Refinery (custom engine ${rule.engine ?? 'unnamed'})`;
  return { ...qualityIdentity(object.name, rule, field), result: strict ? 'warning' : 'skipped', reason };
}

/** Compares what was measured with the rule's operators; severity warning/info turns a failure into a warning. */
function judge(
  check: Omit<CheckResult, 'result' | 'reason'>,
  rule: QualityRule,
  measured: unknown,
  fallback: QualityThreshold | null,
  what: string,
): CheckResult {
  const threshold = hasOperator(rule) ? rule : fallback;
  const shown = typeof measured === 'number' || typeof measured === 'string' ? { measured } : {};
  if (!threshold) return { ...check, result: 'passed', reason: `${what} (no threshold given)`, ...shown };
  const unit = rule.unit === 'percent' ? '%' : '';
  const expectation = describeThreshold(threshold, ' ', unit).trim();
  if (meetsThreshold(measured, threshold)) {
    return { ...check, result: 'passed', reason: `${what}; ${expectation}`, ...shown };
  }
  const lenient = rule.severity !== null && /^(warn|warning|info)$/i.test(rule.severity);
  return { ...check, result: lenient ? 'warning' : 'failed', reason: `${what}; ${expectation}`, ...shown };
}

function hasOperator(threshold: QualityThreshold): boolean {
  return QUALITY_OPERATORS.some((operator) => threshold[operator] !== undefined);
}

/** True when `measured` satisfies every operator given (ODCS: between bounds are inclusive). */
export function meetsThreshold(measured: unknown, threshold: QualityThreshold): boolean {
  const number =
    typeof measured === 'number' ? measured : typeof measured === 'string' ? Number(measured) : Number.NaN;
  const numeric = !Number.isNaN(number);
  const equal = (expected: unknown) =>
    typeof expected === 'number'
      ? numeric && Math.abs(number - expected) < 1e-9
      : sameValue(expected, measured);
  const checks: boolean[] = [];
  if (threshold.mustBe !== undefined) checks.push(equal(threshold.mustBe));
  if (threshold.mustNotBe !== undefined) checks.push(!equal(threshold.mustNotBe));
  if (threshold.mustBeGreaterThan !== undefined) checks.push(numeric && number > threshold.mustBeGreaterThan);
  if (threshold.mustBeGreaterOrEqualTo !== undefined)
    checks.push(numeric && number >= threshold.mustBeGreaterOrEqualTo);
  if (threshold.mustBeLessThan !== undefined) checks.push(numeric && number < threshold.mustBeLessThan);
  if (threshold.mustBeLessOrEqualTo !== undefined)
    checks.push(numeric && number <= threshold.mustBeLessOrEqualTo);
  if (threshold.mustBeBetween !== undefined) {
    const [low, high] = threshold.mustBeBetween;
    checks.push(numeric && number >= low && number <= high);
  }
  if (threshold.mustNotBeBetween !== undefined) {
    const [low, high] = threshold.mustNotBeBetween;
    checks.push(numeric && (number < low || number > high));
  }
  return checks.every(Boolean);
}

function describeThreshold(threshold: QualityThreshold, separator: string, unit = ''): string {
  const parts: string[] = [];
  const show = (value: unknown) =>
    `${typeof value === 'string' ? JSON.stringify(value) : String(value)}${unit}`;
  if (threshold.mustBe !== undefined) parts.push(`must be ${show(threshold.mustBe)}`);
  if (threshold.mustNotBe !== undefined) parts.push(`must not be ${show(threshold.mustNotBe)}`);
  if (threshold.mustBeGreaterThan !== undefined) parts.push(`must be > ${show(threshold.mustBeGreaterThan)}`);
  if (threshold.mustBeGreaterOrEqualTo !== undefined)
    parts.push(`must be ≥ ${show(threshold.mustBeGreaterOrEqualTo)}`);
  if (threshold.mustBeLessThan !== undefined) parts.push(`must be < ${show(threshold.mustBeLessThan)}`);
  if (threshold.mustBeLessOrEqualTo !== undefined)
    parts.push(`must be ≤ ${show(threshold.mustBeLessOrEqualTo)}`);
  if (threshold.mustBeBetween !== undefined) {
    parts.push(`must be between ${show(threshold.mustBeBetween[0])} and ${show(threshold.mustBeBetween[1])}`);
  }
  if (threshold.mustNotBeBetween !== undefined) {
    parts.push(
      `must not be between ${show(threshold.mustNotBeBetween[0])} and ${show(threshold.mustNotBeBetween[1])}`,
    );
  }
  return parts.length > 0 ? `${separator}${parts.join(' and ')}` : '';
}

function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(2).replace(/\.?0+$/, '');
}

// ---------------------------------------------------------------------------------------------------------
// SLA: freshness/latency (the newest timestamp is recent enough) and retention (the oldest is not too old)

interface SlaPlan {
  readonly sla: SlaProperty;
  readonly index: number;
  readonly kind: 'freshness' | 'retention' | 'other';
  readonly windowMs: number | null;
  readonly window: string;
  readonly elements: SlaElement[];
}

interface SlaElement {
  readonly text: string | null;
  readonly object: string | null;
  readonly column: string | null;
  applied: boolean;
}

function planSlas(slas: readonly SlaProperty[]): SlaPlan[] {
  return slas.map((sla, index) => {
    const property = sla.property.toLowerCase();
    const kind =
      property === 'freshness' || property === 'latency'
        ? 'freshness'
        : property === 'retention'
          ? 'retention'
          : 'other';
    const texts = sla.element
      ? sla.element
          .split(',')
          .map((part) => part.trim())
          .filter(Boolean)
      : [];
    const elements: SlaElement[] = (texts.length > 0 ? texts : [null]).map((text) => {
      if (text === null) return { text, object: null, column: null, applied: false };
      const parts = text.split('.');
      const column = parts.pop() ?? text;
      return { text, object: parts.length > 0 ? parts[parts.length - 1]! : null, column, applied: false };
    });
    return {
      sla,
      index,
      kind,
      windowMs: durationMs(sla.value, sla.unit),
      window: `${String(sla.value)}${sla.unit ? ` ${sla.unit}` : ''}`,
      elements,
    };
  });
}

function slaChecksFor(
  object: SchemaObject,
  source: RowSource,
  slas: readonly SlaPlan[],
  now: Date,
): RowCheck[] {
  const checks: RowCheck[] = [];
  for (const plan of slas) {
    if (plan.kind === 'other' || plan.windowMs === null) continue;
    for (const element of plan.elements) {
      const named = element.object !== null;
      if (named && element.object !== object.name && element.object !== object.physicalName) continue;
      const column = element.column ?? (source.kind === 'events' ? 'received_at' : null);
      if (column === null) continue;
      const known = source.columns.includes(column);
      if (!known && !named) continue;
      element.applied = true;
      checks.push(slaCheck(object.name, column, plan, known, now));
    }
  }
  return checks;
}

function slaCheck(object: string, column: string, plan: SlaPlan, known: boolean, now: Date): RowCheck {
  let newest: number | null = null;
  let oldest: number | null = null;
  const freshness = plan.kind === 'freshness';
  const identity = {
    id: `${object}.${column}.sla.${plan.sla.property}[${plan.index}]`,
    object,
    field: column,
    type: freshness ? ('sla_freshness' as const) : ('sla_retention' as const),
    name: `${plan.sla.property}: ${freshness ? 'newest' : 'oldest'} ${column} within ${plan.window}`,
  };
  return {
    observe(row) {
      const time = epochMs(row.columns[column] ?? row.record[column]);
      if (time === null) return;
      if (newest === null || time > newest) newest = time;
      if (oldest === null || time < oldest) oldest = time;
    },
    finish() {
      if (!known && newest === null) {
        return [{ ...identity, result: 'failed', reason: `the data has no column ${column}` }];
      }
      const edge = freshness ? newest : oldest;
      if (edge === null) return [{ ...identity, result: 'failed', reason: `no ${column} values to measure` }];
      const age = now.getTime() - edge;
      const within = age <= plan.windowMs!;
      return [
        {
          ...identity,
          result: within ? 'passed' : 'failed',
          reason: `${freshness ? 'newest' : 'oldest'} ${column} is ${describeAge(age)} old (limit ${plan.window})`,
          measured: new Date(edge).toISOString(),
        },
      ];
    },
  };
}

/** SLA entries no object took up: unsupported properties are skipped, unmatched elements fail. */
function unappliedSlaChecks(slas: readonly SlaPlan[]): CheckResult[] {
  const checks: CheckResult[] = [];
  for (const plan of slas) {
    const identity = {
      id: `sla.${plan.sla.property}[${plan.index}]`,
      object: '(contract)',
      field: null,
      name: `SLA ${plan.sla.property} ${plan.window}`,
    };
    if (plan.kind === 'other') {
      checks.push({
        ...identity,
        type: 'sla',
        result: 'skipped',
        reason: `SLA property ${plan.sla.property} is not checked by Refinery`,
      });
      continue;
    }
    const type = plan.kind === 'freshness' ? ('sla_freshness' as const) : ('sla_retention' as const);
    if (plan.windowMs === null) {
      checks.push({
        ...identity,
        type,
        result: 'error',
        reason: `cannot read ${plan.window} as a duration (value + unit such as 1 d, 4 h)`,
      });
      continue;
    }
    for (const element of plan.elements.filter((candidate) => !candidate.applied)) {
      checks.push(
        element.text === null
          ? {
              ...identity,
              type,
              result: 'skipped',
              reason: 'no element names the timestamp column to measure (e.g. orders.ordered_at)',
            }
          : {
              ...identity,
              type,
              field: element.text,
              result: 'failed',
              reason: `element ${element.text} names no object and column of the data`,
            },
      );
    }
  }
  return checks;
}

const UNIT_MS: Record<string, number> = {
  ms: 1,
  millisecond: 1,
  milliseconds: 1,
  s: 1_000,
  sec: 1_000,
  second: 1_000,
  seconds: 1_000,
  m: 60_000,
  min: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
  w: 604_800_000,
  week: 604_800_000,
  weeks: 604_800_000,
  month: 2_592_000_000,
  months: 2_592_000_000,
  y: 31_536_000_000,
  yr: 31_536_000_000,
  year: 31_536_000_000,
  years: 31_536_000_000,
};

/** `1` + `d` → one day in ms; also ISO 8601 durations such as `P1D` or `PT4H`. */
function durationMs(value: unknown, unit: string | null): number | null {
  if (typeof value === 'string' && unit === null) {
    const iso = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i.exec(value.trim());
    if (iso && value.trim().length > 1) {
      const [, days, hours, minutes, seconds] = iso;
      return (
        Number(days ?? 0) * 86_400_000 +
        Number(hours ?? 0) * 3_600_000 +
        Number(minutes ?? 0) * 60_000 +
        Number(seconds ?? 0) * 1000
      );
    }
  }
  const amount = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN;
  const factor = UNIT_MS[(unit ?? 'd').trim().toLowerCase()];
  return Number.isFinite(amount) && factor !== undefined ? amount * factor : null;
}

/** Milliseconds since the epoch of a timestamp as data carries it: ISO text, `YYYY-MM-DD HH:MM:SS` (UTC), a date. */
function epochMs(value: unknown): number | null {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'number') return value < 1e11 ? value * 1000 : value;
  if (typeof value !== 'string') return null;
  let text = value.trim();
  if (/^\d{4}-\d\d-\d\d$/.test(text)) text += 'T00:00:00Z';
  else if (/^\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d(\.\d+)?)?$/.test(text)) text = `${text.replace(' ', 'T')}Z`;
  else text = text.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00');
  const time = Date.parse(text);
  return Number.isNaN(time) ? null : time;
}

function describeAge(ms: number): string {
  if (ms < 0) return '0 s';
  const units: [number, string][] = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'min'],
    [1_000, 's'],
  ];
  for (const [size, name] of units) {
    if (ms >= size) return `${formatNumber(Math.floor((ms / size) * 10) / 10)} ${name}`;
  }
  return `${ms} ms`;
}

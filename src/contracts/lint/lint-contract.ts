import { createRequire } from 'node:module';
import type { AnySchemaObject, ErrorObject, ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { isRefineryError, RefineryError } from '../../core/errors.js';
import { asJsonObject } from '../../core/json-object.js';
import { CONTRACT_MODES, formatPath, readContract } from '../contract-model.js';
import { type DocumentPath, type OdcsSource, parseOdcsText, readOdcsFile } from '../odcs-source.js';
import {
  LINT_MESSAGE_KEYWORD,
  ODCS_QUALITY_METRICS,
  ODCS_QUALITY_OPERATORS,
  ODCS_TOP_LEVEL_FIELDS,
  type OdcsRuleSet,
  odcsJsonSchemaFor,
  odcsRuleSet,
} from './odcs-json-schema.js';

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

export interface LintFinding {
  /** 1-based line in the file. */
  readonly line: number;
  /** Where in the document, e.g. `schema[0].properties[2].logicalType`; empty for the file as a whole. */
  readonly path: string;
  readonly message: string;
  readonly severity: 'error' | 'warning';
}

export interface LintReport {
  readonly file: string;
  /** No errors (warnings allowed). */
  readonly valid: boolean;
  readonly apiVersion: string | null;
  readonly errors: LintFinding[];
  readonly warnings: LintFinding[];
}

export interface LintOptions {
  /** A JSON Schema to check the file against instead of Refinery's ODCS schema. */
  readonly customSchema?: object;
  /**
   * What a server field the contract's ODCS version does not define for the server's type is (`error` by
   * default: ODCS v3.1 closes server entries). Loading a contract to use it (`contract test`, enforcement)
   * takes `warning`: v3.0 left server entries open, datacontract-cli reads such contracts, and no use of a
   * contract depends on a field it does not know.
   */
  readonly undefinedServerFields?: 'error' | 'warning';
}

// ---- what Refinery acts on (shared with the modules that do the acting) --------------------------

/** Quality rule types Refinery executes; `text` and `custom` rules are reported and skipped. */
export const REFINERY_QUALITY_TYPES = ['library', 'sql'] as const;
/** Library metrics Refinery computes. */
export const REFINERY_QUALITY_METRICS: readonly string[] = ODCS_QUALITY_METRICS;
/** Server types `refinery contract test` can read data from. */
export const REFINERY_SERVER_TYPES = ['local'] as const;
/** `customProperties` Refinery reads; any other `refinery.*` name is a likely typo. */
export const REFINERY_CUSTOM_PROPERTIES = ['refinery.mode'] as const;
/** logicalTypeOptions Refinery checks on every record. */
export const REFINERY_LOGICAL_TYPE_OPTIONS = [
  'pattern',
  'format',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minItems',
  'maxItems',
  'uniqueItems',
] as const;

// ---- entry points --------------------------------------------------------------------------------

/**
 * Lints a parsed contract: the ODCS schema (or `customSchema`) first, every problem at once with its
 * line; then, if that passes, what Refinery cannot act on (warnings) and what it cannot use (errors).
 * A Data Contract Specification file gets one error whatever the schema: Refinery reads only ODCS.
 */
export function lintContractSource(source: OdcsSource, options: LintOptions = {}): LintReport {
  const root = asJsonObject(source.value);
  const apiVersion = typeof root?.apiVersion === 'string' ? root.apiVersion : null;
  const report = (errors: LintFinding[], warnings: LintFinding[] = []): LintReport => ({
    file: source.file,
    valid: errors.length === 0,
    apiVersion,
    errors: sortFindings(errors),
    warnings: sortFindings(warnings),
  });

  if (!root) {
    return report([
      error(
        source,
        [],
        `the file must hold an ODCS contract (a YAML mapping with apiVersion, kind, id, …), not ${describe(source.value)}`,
      ),
    ]);
  }
  if ('dataContractSpecification' in root) return report([notOdcs(source, root)]);

  const schema = options.customSchema
    ? validate(source, customValidator(options.customSchema), 'custom')
    : validate(
        source,
        builtInValidator(odcsRuleSet(root.apiVersion)),
        'odcs',
        options.undefinedServerFields === 'warning' ? isUndefinedServerField : undefined,
      );
  if (schema.errors.length > 0) return report(schema.errors, schema.warnings);

  const findings = refineryChecks(source, root, options.customSchema !== undefined);
  const errors = findings.filter((finding) => finding.severity === 'error');
  const modelError = readContractError(source, errors);
  if (modelError) errors.push(modelError);
  return report(errors, [
    ...schema.warnings,
    ...findings.filter((finding) => finding.severity === 'warning'),
  ]);
}

/** Lints YAML text; a YAML syntax error becomes one finding with its line. */
export function lintContractText(text: string, file: string, options: LintOptions = {}): LintReport {
  let source: OdcsSource;
  try {
    source = parseOdcsText(text, file);
  } catch (problem) {
    return yamlFailure(file, problem);
  }
  return lintContractSource(source, options);
}

/** Reads and lints one file. Throws REFINERY_ERR_CONTRACT_NOT_FOUND when it cannot be read. */
export function lintContractFile(file: string, options: LintOptions = {}): LintReport {
  let source: OdcsSource;
  try {
    source = readOdcsFile(file);
  } catch (problem) {
    if (isRefineryError(problem) && problem.code === 'REFINERY_ERR_CONTRACT_NOT_FOUND') throw problem;
    return yamlFailure(file, problem);
  }
  return lintContractSource(source, options);
}

function yamlFailure(file: string, problem: unknown): LintReport {
  if (!isRefineryError(problem)) throw problem;
  const line = typeof problem.details.line === 'number' ? problem.details.line : 1;
  return {
    file,
    valid: false,
    apiVersion: null,
    errors: [{ line, path: '', message: withoutLocation(problem.message, file), severity: 'error' }],
    warnings: [],
  };
}

function notOdcs(source: OdcsSource, root: Record<string, unknown>): LintFinding {
  try {
    readContract(source);
  } catch (problem) {
    if (isRefineryError(problem) && problem.code === 'REFINERY_ERR_CONTRACT_NOT_ODCS') {
      return error(source, ['dataContractSpecification'], withoutLocation(problem.message, source.file));
    }
  }
  return error(
    source,
    ['dataContractSpecification'],
    `this is a Data Contract Specification file (dataContractSpecification: ${String(root.dataContractSpecification)}), not ODCS v3`,
  );
}

// ---- schema validation ---------------------------------------------------------------------------

type SchemaKind = 'odcs' | 'custom';

function newAjv(draft: '2019' | '2020'): Ajv2019 | Ajv2020 {
  const options = { allErrors: true, strict: false, verbose: true } as const;
  const ajv = draft === '2020' ? new Ajv2020(options) : new Ajv2019(options);
  addFormats(ajv);
  if (draft === '2019') {
    // Many hand-written schemas (datacontract-cli's among them) declare draft-07.
    const require = createRequire(import.meta.url);
    ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-07.json') as AnySchemaObject);
  }
  return ajv;
}

let builtInAjv: Ajv2019 | Ajv2020 | undefined;
const builtIn = new Map<OdcsRuleSet, ValidateFunction>();

function builtInValidator(ruleSet: OdcsRuleSet): ValidateFunction {
  let validator = builtIn.get(ruleSet);
  if (!validator) {
    builtInAjv ??= newAjv('2019');
    validator = builtInAjv.compile(odcsJsonSchemaFor(ruleSet));
    builtIn.set(ruleSet, validator);
  }
  return validator;
}

const customValidators = new WeakMap<object, ValidateFunction>();

function customValidator(schema: object): ValidateFunction {
  let validator = customValidators.get(schema);
  if (!validator) {
    const declared = String((schema as { $schema?: unknown }).$schema ?? '');
    try {
      validator = newAjv(declared.includes('2020-12') ? '2020' : '2019').compile(schema);
    } catch (problem) {
      throw new RefineryError(
        'REFINERY_ERR_INVALID_FIELD',
        `The custom schema is not a JSON Schema Refinery can use: ${(problem as Error).message}`,
        { field: 'schema' },
        { cause: problem },
      );
    }
    customValidators.set(schema, validator);
  }
  return validator;
}

/**
 * The schema's findings: errors, and as warnings the problems `relaxed` picks. Ajv's `if` echoes of a
 * relaxed problem (the failed `then` of a server type) go with it.
 */
function validate(
  source: OdcsSource,
  validator: ValidateFunction,
  kind: SchemaKind,
  relaxed?: (problem: ErrorObject) => boolean,
): { errors: LintFinding[]; warnings: LintFinding[] } {
  if (validator(source.value)) return { errors: [], warnings: [] };
  const raw = validator.errors ?? [];
  const softened = relaxed ? raw.filter(relaxed) : [];
  const rest = raw.filter((problem) => !softened.includes(problem));
  const warnings = explainSchemaErrors(source, softened, kind).map(
    (finding): LintFinding => ({
      ...finding,
      message: `${finding.message}; accepted here, as ODCS v3.0 and datacontract-cli accept extra server fields`,
      severity: 'warning',
    }),
  );
  return { errors: explainSchemaErrors(source, rest, kind), warnings };
}

/** A field on a `servers` entry that the schema does not define for the entry's type. */
function isUndefinedServerField(problem: ErrorObject): boolean {
  return (
    (problem.keyword === 'additionalProperties' || problem.keyword === 'unevaluatedProperties') &&
    /^\/servers\/\d+$/.test(problem.instancePath)
  );
}

/**
 * Turns Ajv's errors into one finding per problem: drops `if` echoes, folds a failed oneOf/anyOf into
 * its best-matching branch (or one sentence when its branches only name required fields), and drops
 * value checks on a field whose type is already wrong.
 */
function explainSchemaErrors(
  source: OdcsSource,
  raw: readonly ErrorObject[],
  kind: SchemaKind = 'odcs',
): LintFinding[] {
  const errors = foldAlternatives(raw.filter((problem) => problem.keyword !== 'if'));
  const typed = new Set(errors.filter((problem) => problem.keyword === 'type').map((p) => p.instancePath));
  const typeReported = new Set<string>();
  const seen = new Set<string>();
  const findings: LintFinding[] = [];
  for (const problem of errors) {
    if (problem.keyword === 'type') {
      // Several schemas may each want their own type at one place; the first says it best.
      if (typeReported.has(problem.instancePath)) continue;
      typeReported.add(problem.instancePath);
    } else if (typed.has(problem.instancePath) && VALUE_KEYWORDS.has(problem.keyword)) {
      continue;
    }
    const finding = describeError(source, problem, kind);
    const key = `${finding.path}\u0000${finding.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    findings.push(finding);
  }
  return findings;
}

const VALUE_KEYWORDS = new Set([
  'enum',
  'const',
  'format',
  'pattern',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'uniqueItems',
]);

/** Replaces each failed oneOf/anyOf and its branch errors by what best explains the failure. */
function foldAlternatives(errors: ErrorObject[]): ErrorObject[] {
  const composite = errors.find(
    (problem) => (problem.keyword === 'oneOf' || problem.keyword === 'anyOf') && !isFolded(problem),
  );
  if (!composite) return errors;
  const prefix = `${composite.schemaPath}/`;
  const inBranch = (problem: ErrorObject) => problem.schemaPath.startsWith(prefix);
  const branches = new Map<string, ErrorObject[]>();
  for (const problem of errors.filter(inBranch)) {
    const index = problem.schemaPath.slice(prefix.length).split('/')[0] ?? '';
    branches.set(index, [...(branches.get(index) ?? []), problem]);
  }
  let replacement: ErrorObject[];
  const requiredOnly = requiredAlternatives(composite.schema);
  if (requiredOnly || annotation(composite) || branches.size === 0) {
    replacement = [markFolded(composite)];
  } else {
    // The branch whose shape fits (no type mismatch at the value itself) and that fails least.
    const ranked = [...branches.values()].sort(
      (a, b) => shapeMismatch(a, composite) - shapeMismatch(b, composite) || a.length - b.length,
    );
    replacement = ranked[0] ?? [];
  }
  const rest = errors.filter((problem) => problem !== composite && !inBranch(problem));
  const at = errors.indexOf(composite);
  const before = rest.filter((problem) => errors.indexOf(problem) < at);
  const after = rest.filter((problem) => errors.indexOf(problem) > at);
  return foldAlternatives([...before, ...replacement, ...after]);
}

const folded = new WeakSet<ErrorObject>();
const isFolded = (problem: ErrorObject) => folded.has(problem);
function markFolded(problem: ErrorObject): ErrorObject {
  folded.add(problem);
  return problem;
}

function shapeMismatch(branch: readonly ErrorObject[], composite: ErrorObject): number {
  return branch.some(
    (problem) => problem.keyword === 'type' && problem.instancePath === composite.instancePath,
  )
    ? 1
    : 0;
}

/** For `oneOf: [{required: [a]}, {required: [b]}]`: the names [a, b]; otherwise undefined. */
function requiredAlternatives(branches: unknown): string[] | undefined {
  if (!Array.isArray(branches)) return undefined;
  const names: string[] = [];
  for (const branch of branches) {
    const record = asJsonObject(branch);
    if (!record || Object.keys(record).some((key) => key !== 'required') || !Array.isArray(record.required)) {
      return undefined;
    }
    names.push(...record.required.map(String));
  }
  return names;
}

function annotation(problem: ErrorObject): string | undefined {
  const message = asJsonObject(problem.parentSchema)?.[LINT_MESSAGE_KEYWORD];
  if (typeof message === 'string') return message;
  const perKeyword = asJsonObject(message)?.[problem.keyword];
  return typeof perKeyword === 'string' ? perKeyword : undefined;
}

function describeError(source: OdcsSource, problem: ErrorObject, kind: SchemaKind): LintFinding {
  const at = pointerToPath(problem.instancePath, source.value);
  const params = problem.params as Record<string, unknown>;
  const child =
    params.missingProperty ?? params.additionalProperty ?? params.unevaluatedProperty ?? params.propertyName;
  const field = typeof child === 'string' ? child : label(at);
  const message =
    annotation(problem)?.replaceAll('{field}', field) ??
    defaultMessage(problem, field, at.length === 0, kind);
  switch (problem.keyword) {
    case 'required':
    case 'dependentRequired':
    case 'dependencies':
      // A missing field has no line of its own: point at the object that lacks it.
      return error(source, [...at, field], message, at);
    case 'additionalProperties':
    case 'unevaluatedProperties':
      return error(source, [...at, field], message);
    default:
      return error(source, at, message);
  }
}

function defaultMessage(problem: ErrorObject, field: string, atRoot: boolean, kind: SchemaKind): string {
  const params = problem.params as Record<string, unknown>;
  const name = `\`${field}\``;
  const least = (keyword: string) => (keyword.startsWith('min') ? 'at least' : 'at most');
  switch (problem.keyword) {
    case 'required':
    case 'dependentRequired':
    case 'dependencies':
      return `${name} is required`;
    case 'additionalProperties':
    case 'unevaluatedProperties':
      return `unknown ${atRoot ? 'top-level ' : ''}field ${name} (${kind === 'odcs' ? 'ODCS does not define it' : 'the schema does not allow it'})`;
    case 'type':
      return `${name} must be ${typeNames(params.type)}${actually(problem.data)}`;
    case 'enum':
      return `${name} must be one of ${listValues(params.allowedValues)}${actually(problem.data, true)}`;
    case 'const':
      return `${name} must be ${JSON.stringify(params.allowedValue)}${actually(problem.data, true)}`;
    case 'format':
      return `${name} must be ${formatName(String(params.format))}${actually(problem.data, true)}`;
    case 'pattern':
      return `${name} must match the pattern ${String(params.pattern)}`;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `${name} must be ${String(params.comparison)} ${String(params.limit)}`;
    case 'minItems':
    case 'maxItems':
      return `${name} must have ${least(problem.keyword)} ${plural(params.limit, 'item')}`;
    case 'minProperties':
    case 'maxProperties':
      return `${name} must have ${least(problem.keyword)} ${plural(params.limit, 'field')}`;
    case 'minLength':
    case 'maxLength':
      return `${name} must be ${least(problem.keyword)} ${plural(params.limit, 'character')} long`;
    case 'uniqueItems':
      return `${name} must not repeat an item (items ${String(params.j)} and ${String(params.i)} are equal)`;
    case 'not':
    case 'false schema':
      return `${name} is not allowed here`;
    case 'oneOf':
    case 'anyOf':
      return alternativesMessage(problem, field);
    default:
      return `${name} ${problem.message ?? 'is not valid'}`;
  }
}

function alternativesMessage(problem: ErrorObject, field: string): string {
  const names = requiredAlternatives(problem.schema);
  const passing = (problem.params as { passingSchemas?: unknown }).passingSchemas;
  if (names) {
    const listed = names.map((name) => `\`${name}\``).join(', ');
    const present = names.filter((name) => asJsonObject(problem.data)?.[name] !== undefined);
    if (Array.isArray(passing) || present.length > 1) {
      return `\`${field}\` may have only one of ${listed}; it has ${present.map((name) => `\`${name}\``).join(' and ')}`;
    }
    return `\`${field}\` needs ${problem.keyword === 'oneOf' ? 'exactly one' : 'one'} of ${listed}`;
  }
  return Array.isArray(passing)
    ? `\`${field}\` matches more than one of the allowed forms`
    : `\`${field}\` does not match any of the allowed forms`;
}

// ---- Refinery's own checks -----------------------------------------------------------------------

/** What a schema-valid contract asks of Refinery that it cannot do (warnings) or cannot use (errors). */
function refineryChecks(
  source: OdcsSource,
  root: Record<string, unknown>,
  customSchema: boolean,
): LintFinding[] {
  const findings: LintFinding[] = [];
  if (customSchema) {
    for (const key of Object.keys(root)) {
      if (!(ODCS_TOP_LEVEL_FIELDS as readonly string[]).includes(key)) {
        findings.push(warning(source, [key], `\`${key}\` is not an ODCS field; Refinery ignores it`));
      }
    }
  }
  eachNode(root, [], (node, path) => {
    if (Array.isArray(node.customProperties)) {
      findings.push(...checkCustomProperties(source, node.customProperties, [...path, 'customProperties']));
    }
  });
  asArray(root.servers).forEach((server, index) => {
    findings.push(...checkServer(source, asJsonObject(server), ['servers', index]));
  });
  asArray(root.schema).forEach((object, index) => {
    const record = asJsonObject(object);
    if (!record) return;
    const path: DocumentPath = ['schema', index];
    findings.push(...checkQuality(source, record.quality, [...path, 'quality']));
    asArray(record.properties).forEach((property, at) => {
      findings.push(...checkProperty(source, property, [...path, 'properties', at]));
    });
  });
  return findings;
}

/** Where `refinery.mode` is read: on the contract and on each schema object. */
function readsMode(path: DocumentPath): boolean {
  return path.length === 1 || (path.length === 3 && path[0] === 'schema');
}

function checkCustomProperties(source: OdcsSource, list: unknown[], path: DocumentPath): LintFinding[] {
  const findings: LintFinding[] = [];
  list.forEach((entry, index) => {
    const record = asJsonObject(entry);
    const name = record?.property;
    if (typeof name !== 'string' || !name.startsWith('refinery.')) return;
    const at: DocumentPath = [...path, index];
    if (!(REFINERY_CUSTOM_PROPERTIES as readonly string[]).includes(name)) {
      findings.push(
        warning(
          source,
          [...at, 'property'],
          `Refinery does not know the custom property \`${name}\` (it reads ${REFINERY_CUSTOM_PROPERTIES.map((known) => `\`${known}\``).join(', ')})`,
        ),
      );
    } else if (!readsMode(path)) {
      findings.push(
        warning(
          source,
          [...at, 'property'],
          '`refinery.mode` is read only on the contract and on schema objects; Refinery ignores it here',
        ),
      );
    } else if (!(CONTRACT_MODES as readonly unknown[]).includes(record?.value)) {
      findings.push(
        error(
          source,
          [...at, 'value'],
          `\`refinery.mode\` must be one of ${CONTRACT_MODES.join(', ')}, not ${JSON.stringify(record?.value ?? null)}`,
        ),
      );
    }
  });
  return findings;
}

function checkServer(
  source: OdcsSource,
  server: Record<string, unknown> | null,
  path: DocumentPath,
): LintFinding[] {
  const type = server?.type;
  if (typeof type !== 'string' || (REFINERY_SERVER_TYPES as readonly string[]).includes(type)) return [];
  const name = typeof server?.server === 'string' ? `\`${server.server}\` ` : '';
  return [
    warning(
      source,
      [...path, 'type'],
      `server ${name}has type \`${type}\`; \`refinery contract test\` can test only ${REFINERY_SERVER_TYPES.map((t) => `\`${t}\``).join(', ')} servers`,
    ),
  ];
}

function checkProperty(source: OdcsSource, raw: unknown, path: DocumentPath): LintFinding[] {
  const property = asJsonObject(raw);
  if (!property) return [];
  const findings = [
    ...checkQuality(source, property.quality, [...path, 'quality']),
    ...checkOptions(source, asJsonObject(property.logicalTypeOptions), [...path, 'logicalTypeOptions']),
  ];
  asArray(property.properties).forEach((child, index) => {
    findings.push(...checkProperty(source, child, [...path, 'properties', index]));
  });
  if (asJsonObject(property.items))
    findings.push(...checkProperty(source, property.items, [...path, 'items']));
  return findings;
}

function checkOptions(
  source: OdcsSource,
  options: Record<string, unknown> | null,
  path: DocumentPath,
): LintFinding[] {
  if (!options) return [];
  const findings: LintFinding[] = [];
  for (const [name, value] of Object.entries(options)) {
    const at = [...path, name];
    if (!(REFINERY_LOGICAL_TYPE_OPTIONS as readonly string[]).includes(name)) {
      findings.push(
        warning(
          source,
          at,
          `Refinery does not enforce the logicalTypeOption \`${name}\` (it enforces ${REFINERY_LOGICAL_TYPE_OPTIONS.join(', ')})`,
        ),
      );
    } else if (typeof value === 'boolean' && name.startsWith('exclusiveM')) {
      findings.push(
        warning(
          source,
          at,
          `Refinery does not enforce \`${name}: ${value}\` (the ODCS v3.0 form); give the bound itself, e.g. \`${name}: 0\``,
        ),
      );
    } else if (name === 'pattern' && typeof value === 'string') {
      try {
        new RegExp(value, 'u');
      } catch (problem) {
        findings.push(
          error(source, at, `\`pattern\` is not a valid regular expression: ${(problem as Error).message}`),
        );
      }
    }
  }
  return findings;
}

function checkQuality(source: OdcsSource, rules: unknown, path: DocumentPath): LintFinding[] {
  const findings: LintFinding[] = [];
  asArray(rules).forEach((raw, index) => {
    const rule = asJsonObject(raw);
    if (!rule) return;
    const at: DocumentPath = [...path, index];
    const metricKey = rule.metric !== undefined ? 'metric' : rule.rule !== undefined ? 'rule' : null;
    const type = typeof rule.type === 'string' ? rule.type : metricKey ? 'library' : null;
    const hasOperator = ODCS_QUALITY_OPERATORS.some((operator) => rule[operator] !== undefined);
    if (type === 'custom') {
      const engine = typeof rule.engine === 'string' ? ` (engine \`${rule.engine}\`)` : '';
      findings.push(
        warning(
          source,
          [...at, 'type'],
          `a \`custom\` quality rule${engine} is engine-specific; Refinery does not run it`,
        ),
      );
    } else if (type === 'text') {
      findings.push(
        warning(
          source,
          [...at, 'type'],
          'a `text` quality rule is documentation only; Refinery does not check it',
        ),
      );
    } else if (type === null) {
      findings.push(
        warning(source, at, 'this quality rule has neither `type` nor `metric`; Refinery does not run it'),
      );
    } else if (type === 'library' && metricKey === null) {
      findings.push(
        warning(source, at, 'this library quality rule names no `metric`; Refinery does not run it'),
      );
    } else if (
      type === 'library' &&
      metricKey &&
      !REFINERY_QUALITY_METRICS.includes(String(rule[metricKey]))
    ) {
      findings.push(
        warning(
          source,
          [...at, metricKey],
          `Refinery does not know the library metric \`${String(rule[metricKey])}\` (it runs ${REFINERY_QUALITY_METRICS.join(', ')})`,
        ),
      );
    } else if ((REFINERY_QUALITY_TYPES as readonly string[]).includes(type) && !hasOperator) {
      findings.push(
        warning(
          source,
          at,
          `this quality rule has no operator (${ODCS_QUALITY_OPERATORS.slice(0, 3).join(', ')}, …); Refinery cannot judge its result`,
        ),
      );
    }
  });
  return findings;
}

/** `readContract`'s first complaint, unless a finding already names the same place more precisely. */
function readContractError(source: OdcsSource, known: readonly LintFinding[]): LintFinding | undefined {
  try {
    readContract(source);
    return undefined;
  } catch (problem) {
    if (!isRefineryError(problem)) throw problem;
    const field = typeof problem.details.field === 'string' ? problem.details.field : '';
    if (field && known.some((finding) => finding.path === field || isWithin(finding.path, field)))
      return undefined;
    const line = typeof problem.details.line === 'number' ? problem.details.line : 1;
    return { line, path: field, message: withoutLocation(problem.message, source.file), severity: 'error' };
  }
}

function isWithin(path: string, ancestor: string): boolean {
  return path.startsWith(`${ancestor}.`) || path.startsWith(`${ancestor}[`);
}

// ---- helpers -------------------------------------------------------------------------------------

function error(
  source: OdcsSource,
  path: DocumentPath,
  message: string,
  lineAt: DocumentPath = path,
): LintFinding {
  return { line: source.lineOf(lineAt), path: formatPath(path), message, severity: 'error' };
}

function warning(source: OdcsSource, path: DocumentPath, message: string): LintFinding {
  return { line: source.lineOf(path), path: formatPath(path), message, severity: 'warning' };
}

function sortFindings(findings: LintFinding[]): LintFinding[] {
  return findings
    .map((finding, index) => ({ finding, index }))
    .sort((a, b) => a.finding.line - b.finding.line || a.index - b.index)
    .map(({ finding }) => finding);
}

/** Drops the `file:line: ` (or `file: `) a RefineryError message starts with; a finding carries both. */
function withoutLocation(message: string, file: string): string {
  for (const prefix of [`${file}:`, `${file} `]) {
    if (message.startsWith(prefix)) return message.slice(prefix.length).replace(/^\d+:/, '').trimStart();
  }
  return message;
}

/** `/schema/0/description` → `['schema', 0, 'description']`, numbers where the document has a list. */
function pointerToPath(pointer: string, document: unknown): DocumentPath {
  if (pointer === '') return [];
  const path: (string | number)[] = [];
  let node = document;
  for (const raw of pointer.slice(1).split('/')) {
    const step = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (Array.isArray(node) && /^\d+$/.test(step)) {
      path.push(Number(step));
      node = node[Number(step)];
    } else {
      path.push(step);
      node = asJsonObject(node)?.[step];
    }
  }
  return path;
}

/** The name a message uses for the value at `path`: its key, with the list index when it is an item. */
function label(path: DocumentPath): string {
  const last = path[path.length - 1];
  if (last === undefined) return 'the contract';
  if (typeof last === 'string') return last;
  const parent = path[path.length - 2];
  return `${parent === undefined ? '' : String(parent)}[${last}]`;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'a whole number',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
  null: 'empty',
};

function typeNames(types: unknown): string {
  const list = (Array.isArray(types) ? types : String(types).split(',')).map(String);
  if (list.length === 1) return TYPE_NAMES[list[0] ?? ''] ?? String(list[0]);
  const names = list.map((type) =>
    type === 'boolean' ? 'a boolean' : type === 'null' ? 'null' : (TYPE_NAMES[type] ?? type),
  );
  return `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'number') return Number.isInteger(value) ? 'a whole number' : 'a number';
  return TYPE_NAMES[typeof value] ?? typeof value;
}

/** `, not a list` / ` (it is empty)`; numbers and, with `showValue`, any scalar are quoted as they are. */
function actually(value: unknown, showValue = false): string {
  if (value === null || value === undefined) return ' (it is empty)';
  if (typeof value === 'object') return showValue ? '' : `, not ${describe(value)}`;
  if (showValue || typeof value === 'number') return `, not ${JSON.stringify(value)}`;
  return `, not ${describe(value)}`;
}

function listValues(values: unknown): string {
  return Array.isArray(values) ? values.map((value) => String(value)).join(', ') : String(values);
}

const FORMAT_NAMES: Record<string, string> = {
  'date-time': 'a date-time such as 2024-01-31T12:00:00Z',
  date: 'a date such as 2024-01-31',
  time: 'a time such as 12:00:00Z',
  uri: 'an absolute URI such as https://example.com/data or s3://bucket/path',
  email: 'an email address',
};

function formatName(format: string): string {
  return FORMAT_NAMES[format] ?? `a valid ${format}`;
}

function plural(count: unknown, noun: string): string {
  return `${String(count)} ${noun}${count === 1 ? '' : 's'}`;
}

function eachNode(
  node: unknown,
  path: DocumentPath,
  visit: (record: Record<string, unknown>, path: DocumentPath) => void,
): void {
  if (Array.isArray(node)) {
    node.forEach((item, index) => {
      eachNode(item, [...path, index], visit);
    });
    return;
  }
  const record = asJsonObject(node);
  if (!record) return;
  visit(record, path);
  for (const [key, value] of Object.entries(record)) eachNode(value, [...path, key], visit);
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { DEFAULT_PERSONAL_FIELDS } from '../privacy/vault/personal-fields.js';
import type { LogicalType, QualityRule, SchemaProperty } from './contract-model.js';

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

/** One way a record breaks its contract. */
export interface Violation {
  /** JSON path inside the checked message or row, e.g. `properties.price` or `traits.address.city`. */
  readonly path: string;
  /** What was broken: required, type, pattern, format, minimum, maximum, validValues, … */
  readonly rule: string;
  readonly message: string;
  /** A short excerpt of the offending value; masked for classified (e.g. PII) fields. */
  readonly value?: string;
}

/** Checks one record (an event's properties/traits, or a dataset row) against a schema object's properties. */
export type RecordValidator = (record: unknown) => Violation[];

const VALUE_EXCERPT = 80;
const PUBLIC = new Set(['public', 'open', 'internal']);

let sharedAjv: Ajv | undefined;

/** One Ajv instance for every contract: compiled code is cached per schema. */
function ajv(): Ajv {
  if (!sharedAjv) {
    sharedAjv = new Ajv({ allErrors: true, strict: false, validateFormats: true, unicodeRegExp: true });
    addFormats(sharedAjv, { mode: 'full', keywords: true });
  }
  return sharedAjv;
}

/**
 * Compiles the per-record rules of `properties` (types, required, logicalTypeOptions and zero-tolerance
 * quality rules such as valid values) into one Ajv function. Aggregate rules (row counts, duplicates,
 * percentages) need all rows and are checked by `contract test`, not here.
 */
export function compileRecordValidator(
  properties: readonly SchemaProperty[],
  pathPrefix: string,
): RecordValidator {
  const schema = objectSchema(properties);
  const validate: ValidateFunction = ajv().compile(schema);
  const classified = classifiedPaths(properties, '');
  return (record) => {
    if (validate(record ?? {})) return [];
    return (validate.errors ?? []).map((error) => toViolation(error, record, pathPrefix, classified));
  };
}

/** The JSON Schema a record must match for the given properties. */
export function objectSchema(properties: readonly SchemaProperty[]): Record<string, unknown> {
  const shape: Record<string, unknown> = {};
  const required: string[] = [];
  for (const property of properties) {
    const key = property.physicalName ?? property.name;
    shape[key] = propertySchema(property);
    if (property.required) required.push(key);
  }
  return { type: 'object', properties: shape, ...(required.length ? { required } : {}) };
}

function propertySchema(property: SchemaProperty): Record<string, unknown> {
  const schema: Record<string, unknown> = { ...typeSchema(property.logicalType, property) };
  for (const rule of property.quality) Object.assign(schema, recordRuleSchema(rule));
  if (!property.required && schema.type !== undefined) {
    schema.type = [...(Array.isArray(schema.type) ? schema.type : [schema.type]), 'null'];
  } else if (property.required && schema.type === undefined) {
    schema.not = { type: 'null' };
  }
  // Ajv's enum would reject null even when the property is optional; keep null allowed.
  if (!property.required && Array.isArray(schema.enum)) schema.enum = [...schema.enum, null];
  return schema;
}

function typeSchema(type: LogicalType | null, property: SchemaProperty): Record<string, unknown> {
  const options = property.options;
  const pick = (...keys: (keyof typeof options)[]) =>
    Object.fromEntries(keys.filter((key) => options[key] !== undefined).map((key) => [key, options[key]]));
  switch (type) {
    case 'string': {
      const format = typeof options.format === 'string' ? knownFormat(options.format) : undefined;
      return { type: 'string', ...pick('pattern', 'minLength', 'maxLength'), ...(format ? { format } : {}) };
    }
    case 'integer':
      return {
        type: 'integer',
        ...numericBounds(options),
        ...pick('multipleOf'),
      };
    case 'number':
      return { type: 'number', ...numericBounds(options), ...pick('multipleOf') };
    case 'boolean':
      return { type: 'boolean' };
    case 'date':
      return { type: 'string', format: 'date', ...textBounds(options) };
    case 'timestamp':
      return { type: 'string', format: 'iso-date-time', ...textBounds(options) };
    case 'time':
      return { type: 'string', format: 'iso-time', ...textBounds(options) };
    case 'object':
      return property.properties.length > 0
        ? { ...objectSchema(property.properties), ...pick('minProperties', 'maxProperties') }
        : { type: 'object', ...pick('minProperties', 'maxProperties') };
    case 'array':
      return {
        type: 'array',
        ...(property.items ? { items: propertySchema(property.items) } : {}),
        ...pick('minItems', 'maxItems', 'uniqueItems'),
      };
    default:
      return {};
  }
}

function numericBounds(options: SchemaProperty['options']): Record<string, unknown> {
  const bounds: Record<string, unknown> = {};
  for (const key of ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'] as const) {
    if (typeof options[key] === 'number') bounds[key] = options[key];
  }
  return bounds;
}

// ISO dates and times compare correctly as text; ajv-formats' formatMinimum does exactly that per format.
function textBounds(options: SchemaProperty['options']): Record<string, unknown> {
  const keywords = {
    minimum: 'formatMinimum',
    maximum: 'formatMaximum',
    exclusiveMinimum: 'formatExclusiveMinimum',
    exclusiveMaximum: 'formatExclusiveMaximum',
  } as const;
  const bounds: Record<string, unknown> = {};
  for (const [option, keyword] of Object.entries(keywords)) {
    const value = options[option as keyof typeof keywords];
    if (typeof value === 'string') bounds[keyword] = value;
  }
  return bounds;
}

const FORMATS: Record<string, string> = {
  email: 'email',
  uuid: 'uuid',
  uri: 'uri',
  url: 'uri',
  hostname: 'hostname',
  ipv4: 'ipv4',
  ipv6: 'ipv6',
  'date-time': 'iso-date-time',
  date: 'date',
  time: 'iso-time',
  byte: 'byte',
};

function knownFormat(format: string): string | undefined {
  return FORMATS[format.toLowerCase()];
}

/**
 * The part of a quality rule that holds per record: a library metric that tolerates no bad rows.
 * Anything with a threshold above zero, or a percentage, is a statement about the whole data set.
 */
export function recordRuleSchema(rule: QualityRule): Record<string, unknown> {
  if (rule.type !== 'library' || !toleratesNoRows(rule)) return {};
  const args = rule.arguments;
  switch (rule.metric) {
    case 'invalidValues': {
      const schema: Record<string, unknown> = {};
      if (Array.isArray(args.validValues)) schema.enum = args.validValues;
      if (typeof args.pattern === 'string') schema.pattern = args.pattern;
      return schema;
    }
    case 'nullValues':
      return { not: { type: 'null' } };
    case 'missingValues': {
      const missing = Array.isArray(args.missingValues) ? args.missingValues : [null];
      return { not: { enum: missing.includes(null) ? missing : [...missing, null] } };
    }
    default:
      return {};
  }
}

/** True when a quality rule allows zero offending rows (so it can be checked on each record alone). */
export function toleratesNoRows(rule: QualityRule): boolean {
  if (rule.unit === 'percent' && rule.mustBe !== 0) return false;
  if (rule.mustBe === 0) return true;
  if (rule.mustBeLessThan === 1 || rule.mustBeLessOrEqualTo === 0) return true;
  return false;
}

function classifiedPaths(properties: readonly SchemaProperty[], prefix: string): Set<string> {
  const paths = new Set<string>();
  for (const property of properties) {
    const key = `${prefix}/${property.physicalName ?? property.name}`;
    if (property.classification && !PUBLIC.has(property.classification.toLowerCase())) paths.add(key);
    for (const nested of classifiedPaths(property.properties, key)) paths.add(nested);
    // Array elements: any index, written `*`.
    if (property.items) {
      const items = { ...property.items, name: '*', physicalName: null };
      for (const nested of classifiedPaths([items], key)) paths.add(nested);
    }
  }
  return paths;
}

function toViolation(
  error: ErrorObject,
  record: unknown,
  pathPrefix: string,
  classified: ReadonlySet<string>,
): Violation {
  let pointer = error.instancePath;
  let rule = error.keyword;
  let message = error.message ?? 'is invalid';
  if (error.keyword === 'required') {
    const missing = (error.params as { missingProperty: string }).missingProperty;
    pointer = `${pointer}/${missing}`;
    message = 'is required';
  } else if (error.keyword === 'enum') {
    rule = 'validValues';
    const allowed = (error.params as { allowedValues: unknown[] }).allowedValues.filter((v) => v !== null);
    message = `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`;
  } else if (error.keyword === 'not') {
    rule = 'required';
    message = 'must not be null or missing';
  } else if (error.keyword === 'type') {
    const expected = String((error.params as { type: unknown }).type).replace(/,null$/, '');
    message = `must be ${expected === 'integer' ? 'an integer' : `a ${expected}`}`;
  }
  const path = jsonPath(pathPrefix, pointer);
  const pattern = pointer.replace(/\/\d+(?=\/|$)/g, '/*');
  // Classified in the contract, or a field Refinery seals as personal anyway: the excerpt would keep it in clear.
  const masked =
    [...classified].some((key) => pattern === key || pattern.startsWith(`${key}/`)) ||
    pointer.split('/').some((step) => DEFAULT_PERSONAL_FIELDS.traits.has(step));
  const value = error.keyword === 'required' ? undefined : valueAt(record, pointer);
  return {
    path,
    rule,
    message,
    ...(value === undefined ? {} : { value: masked ? '(classified; not shown)' : excerpt(value) }),
  };
}

function jsonPath(prefix: string, pointer: string): string {
  const steps = pointer
    .split('/')
    .slice(1)
    .map((step) => step.replace(/~1/g, '/').replace(/~0/g, '~'));
  let out = prefix;
  for (const step of steps) out += /^\d+$/.test(step) ? `[${step}]` : out ? `.${step}` : step;
  return out;
}

function valueAt(record: unknown, pointer: string): unknown {
  let value: unknown = record;
  for (const step of pointer.split('/').slice(1)) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[step.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return value;
}

function excerpt(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > VALUE_EXCERPT ? `${text.slice(0, VALUE_EXCERPT)}…` : text;
}

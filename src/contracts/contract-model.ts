import { RefineryError } from '../core/errors.js';
import { asJsonObject } from '../core/json-object.js';
import type { DocumentPath, OdcsSource } from './odcs-source.js';

/**
 * The parts of an ODCS v3 contract Refinery acts on, typed. Everything else in the file is kept in
 * `source` (and reported by lint when Refinery cannot act on it), never silently dropped.
 */
export interface Contract {
  readonly file: string;
  readonly id: string;
  readonly name: string | null;
  readonly version: string;
  readonly apiVersion: string;
  readonly status: string;
  /** What Refinery does with events that break it; `refinery.mode` in the contract's customProperties. */
  readonly mode: ContractMode;
  readonly owner: string | null;
  readonly objects: readonly SchemaObject[];
  readonly servers: readonly ContractServer[];
  readonly sla: readonly SlaProperty[];
  readonly source: OdcsSource;
}

export type ContractMode = 'enforce' | 'warn' | 'off';
export const CONTRACT_MODES: readonly ContractMode[] = ['enforce', 'warn', 'off'];

export const LOGICAL_TYPES = [
  'string',
  'date',
  'timestamp',
  'time',
  'number',
  'integer',
  'object',
  'array',
  'boolean',
] as const;
export type LogicalType = (typeof LOGICAL_TYPES)[number];

/** Event call types a schema object can describe (its `physicalType`); anything else is a dataset/table. */
export const EVENT_OBJECT_TYPES = ['track', 'identify', 'page', 'screen', 'group', 'alias'] as const;
export type EventObjectType = (typeof EVENT_OBJECT_TYPES)[number];

export interface SchemaObject {
  readonly name: string;
  readonly physicalName: string | null;
  readonly physicalType: string | null;
  readonly description: string | null;
  /** A per-object override of the contract's mode (`refinery.mode` in the object's customProperties). */
  readonly mode: ContractMode | null;
  readonly properties: readonly SchemaProperty[];
  readonly quality: readonly QualityRule[];
  readonly path: DocumentPath;
}

export interface SchemaProperty {
  readonly name: string;
  readonly physicalName: string | null;
  readonly logicalType: LogicalType | null;
  readonly physicalType: string | null;
  readonly required: boolean;
  readonly unique: boolean;
  readonly primaryKey: boolean;
  readonly classification: string | null;
  readonly options: LogicalTypeOptions;
  readonly quality: readonly QualityRule[];
  /** Nested fields of an `object` property. */
  readonly properties: readonly SchemaProperty[];
  /** Element description of an `array` property. */
  readonly items: SchemaProperty | null;
  readonly examples: readonly unknown[];
  readonly path: DocumentPath;
}

export interface LogicalTypeOptions {
  readonly pattern?: string;
  readonly format?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
  /** Numbers for number/integer; ISO text for date/timestamp/time. */
  readonly minimum?: number | string;
  readonly maximum?: number | string;
  readonly exclusiveMinimum?: number | string;
  readonly exclusiveMaximum?: number | string;
  readonly multipleOf?: number;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly uniqueItems?: boolean;
  readonly minProperties?: number;
  readonly maxProperties?: number;
}

/** The ODCS operators a quality rule compares its measured value with. */
export const QUALITY_OPERATORS = [
  'mustBe',
  'mustNotBe',
  'mustBeGreaterThan',
  'mustBeGreaterOrEqualTo',
  'mustBeLessThan',
  'mustBeLessOrEqualTo',
  'mustBeBetween',
  'mustNotBeBetween',
] as const;

/** The comparison a quality rule's measured value must satisfy (ODCS operators). */
export interface QualityThreshold {
  readonly mustBe?: unknown;
  readonly mustNotBe?: unknown;
  readonly mustBeGreaterThan?: number;
  readonly mustBeGreaterOrEqualTo?: number;
  readonly mustBeLessThan?: number;
  readonly mustBeLessOrEqualTo?: number;
  readonly mustBeBetween?: readonly [number, number];
  readonly mustNotBeBetween?: readonly [number, number];
}

export type QualityMetric = 'nullValues' | 'missingValues' | 'invalidValues' | 'duplicateValues' | 'rowCount';

export interface QualityRule extends QualityThreshold {
  readonly type: 'library' | 'sql' | 'text' | 'custom';
  readonly metric: QualityMetric | null;
  readonly name: string | null;
  readonly description: string | null;
  readonly dimension: string | null;
  readonly severity: string | null;
  /** `rows` (default) or `percent`. */
  readonly unit: string | null;
  readonly arguments: Readonly<Record<string, unknown>>;
  readonly query: string | null;
  readonly engine: string | null;
  readonly path: DocumentPath;
}

export interface ContractServer {
  readonly server: string;
  readonly type: string;
  readonly format: string | null;
  readonly path: string | null;
  readonly delimiter: string | null;
  readonly environment: string | null;
  readonly raw: Readonly<Record<string, unknown>>;
}

export interface SlaProperty {
  readonly property: string;
  readonly value: unknown;
  readonly unit: string | null;
  readonly element: string | null;
  readonly path: DocumentPath;
}

/**
 * Reads a parsed ODCS document into the typed model. Expects a document that passed the ODCS schema;
 * what Refinery itself needs (names, known modes, compilable patterns) it checks here, naming the line.
 */
export function readContract(source: OdcsSource): Contract {
  const root = asJsonObject(source.value);
  if (!root) throw invalidAt(source, [], 'the file must hold a YAML mapping (an ODCS contract)');
  if ('dataContractSpecification' in root) {
    throw new RefineryError(
      'REFINERY_ERR_CONTRACT_NOT_ODCS',
      `${source.file}: this is a Data Contract Specification file (dataContractSpecification: ${String(root.dataContractSpecification)}), the older format; Refinery reads ODCS v3 contracts (apiVersion: v3.x, kind: DataContract).`,
      { field: 'dataContractSpecification' },
    );
  }
  const schema = Array.isArray(root.schema) ? root.schema : [];
  return {
    file: source.file,
    id: text(root.id) ?? '',
    name: text(root.name),
    version: text(root.version) ?? '',
    apiVersion: text(root.apiVersion) ?? '',
    status: text(root.status) ?? '',
    mode: modeOf(source, root.customProperties, ['customProperties']) ?? 'enforce',
    owner: ownerOf(root),
    objects: schema.map((object, index) => readObject(source, object, ['schema', index])),
    servers: (Array.isArray(root.servers) ? root.servers : []).map(readServer),
    sla: (Array.isArray(root.slaProperties) ? root.slaProperties : []).map((entry, index) => {
      const sla = asJsonObject(entry) ?? {};
      return {
        property: text(sla.property) ?? '',
        value: sla.value,
        unit: text(sla.unit),
        element: text(sla.element),
        path: ['slaProperties', index],
      };
    }),
    source,
  };
}

/** The value of a `customProperties` entry (`[{ property, value }]`), if present. */
export function customProperty(list: unknown, property: string): unknown {
  if (!Array.isArray(list)) return undefined;
  for (const entry of list) {
    const record = asJsonObject(entry);
    if (record && record.property === property) return record.value;
  }
  return undefined;
}

function readObject(source: OdcsSource, raw: unknown, path: DocumentPath): SchemaObject {
  const object = asJsonObject(raw);
  const name = text(object?.name);
  if (!object || !name) throw invalidAt(source, path, 'each schema object needs a name');
  const properties = Array.isArray(object.properties) ? object.properties : [];
  return {
    name,
    physicalName: text(object.physicalName),
    physicalType: text(object.physicalType),
    description: text(object.description),
    mode: modeOf(source, object.customProperties, [...path, 'customProperties']),
    properties: properties.map((property, index) =>
      readProperty(source, property, [...path, 'properties', index]),
    ),
    quality: readQuality(object.quality, [...path, 'quality']),
    path,
  };
}

function readProperty(source: OdcsSource, raw: unknown, path: DocumentPath): SchemaProperty {
  const property = asJsonObject(raw);
  const name = text(property?.name);
  if (!property || !name) throw invalidAt(source, path, 'each property needs a name');
  const logicalType = text(property.logicalType);
  if (logicalType !== null && !(LOGICAL_TYPES as readonly string[]).includes(logicalType)) {
    throw invalidAt(
      source,
      [...path, 'logicalType'],
      `logicalType "${logicalType}" is not one of ${LOGICAL_TYPES.join(', ')}`,
    );
  }
  const options = (asJsonObject(property.logicalTypeOptions) ?? {}) as LogicalTypeOptions;
  if (typeof options.pattern === 'string') {
    try {
      new RegExp(options.pattern, 'u');
    } catch (error) {
      throw invalidAt(
        source,
        [...path, 'logicalTypeOptions', 'pattern'],
        `pattern is not a valid regular expression: ${(error as Error).message}`,
      );
    }
  }
  const nested = Array.isArray(property.properties) ? property.properties : [];
  return {
    name,
    physicalName: text(property.physicalName),
    logicalType: logicalType as LogicalType | null,
    physicalType: text(property.physicalType),
    required: property.required === true,
    unique: property.unique === true,
    primaryKey: property.primaryKey === true,
    classification: text(property.classification),
    options,
    quality: readQuality(property.quality, [...path, 'quality']),
    properties: nested.map((child, index) => readProperty(source, child, [...path, 'properties', index])),
    items: asJsonObject(property.items)
      ? readProperty(source, { name: 'items', ...asJsonObject(property.items) }, [...path, 'items'])
      : null,
    examples: Array.isArray(property.examples) ? property.examples : [],
    path,
  };
}

function readQuality(raw: unknown, path: DocumentPath): QualityRule[] {
  if (!Array.isArray(raw)) return [];
  return raw.map((entry, index) => {
    const rule = asJsonObject(entry) ?? {};
    const metric = text(rule.metric) ?? text(rule.rule);
    const declared = text(rule.type);
    const type = (declared ?? (metric ? 'library' : 'library')) as QualityRule['type'];
    return {
      type,
      metric: metric as QualityMetric | null,
      name: text(rule.name),
      description: text(rule.description),
      dimension: text(rule.dimension),
      severity: text(rule.severity),
      unit: text(rule.unit),
      arguments: asJsonObject(rule.arguments) ?? {},
      query: text(rule.query),
      engine: text(rule.engine),
      ...pickThreshold(rule),
      path: [...path, index],
    };
  });
}

function pickThreshold(rule: Record<string, unknown>): QualityThreshold {
  const threshold: Record<string, unknown> = {};
  for (const key of QUALITY_OPERATORS) {
    if (key in rule) threshold[key] = rule[key];
  }
  return threshold as QualityThreshold;
}

function readServer(raw: unknown): ContractServer {
  const server = asJsonObject(raw) ?? {};
  return {
    server: text(server.server) ?? '',
    type: text(server.type) ?? '',
    format: text(server.format),
    path: text(server.path) ?? text(server.location),
    delimiter: text(server.delimiter),
    environment: text(server.environment),
    raw: server,
  };
}

function modeOf(source: OdcsSource, list: unknown, path: DocumentPath): ContractMode | null {
  const value = customProperty(list, 'refinery.mode');
  if (value === undefined) return null;
  if (typeof value === 'string' && (CONTRACT_MODES as readonly string[]).includes(value))
    return value as ContractMode;
  throw invalidAt(
    source,
    path,
    `refinery.mode must be one of ${CONTRACT_MODES.join(', ')}, not ${JSON.stringify(value)}`,
  );
}

function ownerOf(root: Record<string, unknown>): string | null {
  const team = root.team;
  if (typeof team === 'string') return team;
  const record = asJsonObject(team);
  if (record) return text(record.name) ?? null;
  if (Array.isArray(team)) {
    const owner = team.map(asJsonObject).find((member) => member && /owner/i.test(String(member.role ?? '')));
    return owner ? (text(owner.username) ?? text(owner.name)) : null;
  }
  return null;
}

export function invalidAt(source: OdcsSource, path: DocumentPath, problem: string): RefineryError {
  const line = source.lineOf(path);
  return new RefineryError('REFINERY_ERR_CONTRACT_INVALID', `${source.file}:${line}: ${problem}`, {
    field: formatPath(path),
    line,
  });
}

/** `['schema', 0, 'properties', 2]` → `schema[0].properties[2]`. */
export function formatPath(path: DocumentPath): string {
  let out = '';
  for (const step of path) out += typeof step === 'number' ? `[${step}]` : out ? `.${step}` : step;
  return out;
}

function text(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}

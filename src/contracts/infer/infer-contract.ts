import { Document, isNode } from 'yaml';
import { isEnvelope } from '../../privacy/vault/field-envelope.js';
import type { EventObjectType } from '../contract-model.js';

/**
 * Drafts an ODCS v3.1.0 contract from events already collected: the types, required fields, value sets
 * and formats the samples show. The draft starts in `warn` mode, so it reports what would break before
 * anyone lets it quarantine events.
 */

export type InferredType =
  | 'string'
  | 'date'
  | 'timestamp'
  | 'integer'
  | 'number'
  | 'boolean'
  | 'object'
  | 'array';

/** The JSON kinds a value can have, as counted in the samples. */
export type ValueKind = 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array';

export interface InferredField {
  readonly name: string;
  /** Null when the values seen have no one type (see `kindsSeen`), or only nulls were seen. */
  readonly logicalType: InferredType | null;
  /** The kinds of the non-null values seen, most frequent first. */
  readonly kindsSeen: readonly ValueKind[];
  /** Present and non-null in every record it was inferred from. */
  readonly required: boolean;
  /** Records with a non-null value, out of `total`. */
  readonly present: number;
  readonly total: number;
  readonly format?: 'email' | 'uuid';
  /**
   * The values are personal fields sealed at ingest (`rfy1:` envelopes): a string, personal, whose content
   * (format, value set) cannot be seen from the stored data.
   */
  readonly sealed?: true;
  /** Set (to 0) only when every number seen was zero or more. */
  readonly minimum?: number;
  /** A small set of strings every value came from, each seen several times. */
  readonly validValues?: readonly string[];
  /** Fields of an object, inferred over its non-null values. */
  readonly properties?: readonly InferredField[];
  /** The element of an array, inferred over the elements of every array seen. */
  readonly items?: InferredField;
}

export interface InferredObject {
  /** The schema object's name: the event name in snake_case. */
  readonly name: string;
  readonly physicalType: EventObjectType;
  /** The exact event (or page/screen) name; null when the object covers every call of its type. */
  readonly physicalName: string | null;
  readonly sampleCount: number;
  /** Earliest and latest receipt among the samples (ISO 8601), when known. */
  readonly firstSeen: string | null;
  readonly lastSeen: string | null;
  readonly properties: readonly InferredField[];
}

export interface InferOptions {
  readonly physicalType: EventObjectType;
  /** The event name (track) or page/screen name; null for every call of the type. */
  readonly physicalName: string | null;
  /** When each sample was received (any order), to state the window the draft was inferred from. */
  readonly receivedAt?: readonly (string | null | undefined)[];
}

/** A string field becomes a value set only with at least this many values seen… */
export const ENUM_MIN_SAMPLES = 20;
/** …at most this many distinct values… */
export const ENUM_MAX_VALUES = 10;
/** …each of them seen at least this often. */
export const ENUM_MIN_OCCURRENCES = 2;

/**
 * Infers a schema object from sample records (an event's `properties` or `traits`).
 *
 * @example inferSchemaObject(rows.map((row) => row.properties), { physicalType: 'track', physicalName: 'Order Completed' })
 */
export function inferSchemaObject(
  samples: readonly Record<string, unknown>[],
  options: InferOptions,
): InferredObject {
  const received = (options.receivedAt ?? [])
    .filter((value): value is string => typeof value === 'string' && !Number.isNaN(Date.parse(value)))
    .sort((a, b) => Date.parse(a) - Date.parse(b));
  return {
    name: objectName(options.physicalType, options.physicalName),
    physicalType: options.physicalType,
    physicalName: options.physicalName,
    sampleCount: samples.length,
    firstSeen: received[0] ?? null,
    lastSeen: received[received.length - 1] ?? null,
    properties: inferFields(samples),
  };
}

/** `Order Completed` → `order_completed`, `checkoutStarted` → `checkout_started`. */
export function snakeCase(text: string): string {
  const snake = text
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (!snake) return 'event';
  return /^[0-9]/.test(snake) ? `event_${snake}` : snake;
}

function objectName(type: EventObjectType, name: string | null): string {
  if (name === null) return type;
  return type === 'track' ? snakeCase(name) : snakeCase(`${type} ${name}`);
}

// ---------------------------------------------------------------------------------------------------------
// Inference.

/** What the samples hold for one field. */
interface FieldStats {
  present: number;
  readonly kinds: Map<ValueKind, number>;
  readonly strings: string[];
  readonly numbers: number[];
  readonly objects: Record<string, unknown>[];
  readonly elements: unknown[];
}

function inferFields(records: readonly Record<string, unknown>[]): InferredField[] {
  const stats = new Map<string, FieldStats>();
  for (const record of records) {
    for (const [key, value] of Object.entries(record)) {
      let field = stats.get(key);
      if (!field) {
        field = { present: 0, kinds: new Map(), strings: [], numbers: [], objects: [], elements: [] };
        stats.set(key, field);
      }
      observe(field, value);
    }
  }
  return [...stats].map(([name, field]) => inferField(name, field, records.length));
}

function observe(field: FieldStats, value: unknown): void {
  const kind = kindOf(value);
  if (kind === null) return;
  field.present++;
  field.kinds.set(kind, (field.kinds.get(kind) ?? 0) + 1);
  if (kind === 'string') field.strings.push(value as string);
  else if (kind === 'integer' || kind === 'number') field.numbers.push(value as number);
  else if (kind === 'object') field.objects.push(value as Record<string, unknown>);
  else if (kind === 'array') field.elements.push(...(value as unknown[]));
}

function kindOf(value: unknown): ValueKind | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') return 'object';
  return null;
}

function inferField(name: string, field: FieldStats, total: number): InferredField {
  const kindsSeen = [...field.kinds]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([kind]) => kind);
  const base = {
    name,
    kindsSeen,
    required: total > 0 && field.present === total,
    present: field.present,
    total,
  };
  const kinds = new Set(kindsSeen);
  // Integers and fractions together are numbers; any other mix has no one type.
  if (kinds.size === 2 && kinds.has('integer') && kinds.has('number')) kinds.delete('integer');
  const [only] = kinds;
  if (kinds.size !== 1 || only === undefined) return { ...base, logicalType: null };
  switch (only) {
    case 'string':
      return { ...base, ...inferString(field.strings) };
    case 'integer':
    case 'number':
      return {
        ...base,
        logicalType: only,
        ...(field.numbers.every((value) => value >= 0) ? { minimum: 0 } : {}),
      };
    case 'object':
      return { ...base, logicalType: 'object', properties: inferFields(field.objects) };
    case 'array': {
      if (field.elements.length === 0) return { ...base, logicalType: 'array' };
      const elements: FieldStats = {
        present: 0,
        kinds: new Map(),
        strings: [],
        numbers: [],
        objects: [],
        elements: [],
      };
      for (const element of field.elements) observe(elements, element);
      const items = inferField('items', elements, field.elements.length);
      return { ...base, logicalType: 'array', items };
    }
    default:
      return { ...base, logicalType: 'boolean' };
  }
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
// Seconds required: what the contract validator accepts as a timestamp (ISO 8601, `T` or a space).
const ISO_DATE_TIME = /^(\d{4}-\d{2}-\d{2})[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}(?::?\d{2})?)?$/;
const EMAIL =
  /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function inferString(
  values: readonly string[],
): Pick<InferredField, 'logicalType' | 'format' | 'validValues' | 'sealed'> {
  if (values.every((value) => isEnvelope(value))) return { logicalType: 'string', sealed: true };
  if (values.every(isIsoDate)) return { logicalType: 'date' };
  if (values.every(isIsoDateTime)) return { logicalType: 'timestamp' };
  if (values.every((value) => EMAIL.test(value))) return { logicalType: 'string', format: 'email' };
  if (values.every((value) => UUID.test(value))) return { logicalType: 'string', format: 'uuid' };
  const validValues = valueSet(values);
  return { logicalType: 'string', ...(validValues ? { validValues } : {}) };
}

function isIsoDate(value: string): boolean {
  const match = ISO_DATE.exec(value);
  if (!match) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(value);
}

function isIsoDateTime(value: string): boolean {
  const match = ISO_DATE_TIME.exec(value);
  return match !== null && isIsoDate(match[1]!) && !Number.isNaN(Date.parse(value.replace(' ', 'T')));
}

/** The few values a field keeps repeating (a status, a plan), or undefined when it is free text. */
function valueSet(values: readonly string[]): string[] | undefined {
  if (values.length < ENUM_MIN_SAMPLES) return undefined;
  const counts = new Map<string, number>();
  for (const value of values) {
    counts.set(value, (counts.get(value) ?? 0) + 1);
    if (counts.size > ENUM_MAX_VALUES) return undefined;
  }
  if ([...counts.values()].some((count) => count < ENUM_MIN_OCCURRENCES)) return undefined;
  return [...counts.keys()].sort();
}

// ---------------------------------------------------------------------------------------------------------
// Rendering.

export interface RenderOptions {
  /** The contract's `id`; the object's name by default. */
  readonly id?: string;
}

/** Writes the inferred object as a complete ODCS v3.1.0 contract (YAML), with comments for reviewers. */
export function renderInferredContract(object: InferredObject, options: RenderOptions = {}): string {
  const document = new Document({
    apiVersion: 'v3.1.0',
    kind: 'DataContract',
    id: options.id ?? object.name,
    name: object.physicalName ?? object.name,
    version: '0.1.0',
    status: 'draft',
    description: { purpose: describeWindow(object) },
    customProperties: [{ property: 'refinery.mode', value: 'warn' }],
    schema: [
      {
        name: object.name,
        physicalType: object.physicalType,
        ...(object.physicalName !== null ? { physicalName: object.physicalName } : {}),
        description: describeObject(object),
        properties: object.properties.map(renderField),
      },
    ],
  });
  document.commentBefore = [
    ` Drafted by \`refinery contract infer\` from ${count(object.sampleCount, eventNoun(object.physicalType))}.`,
    ' Review the types, required fields and value sets before use: samples show what was sent, not what',
    ' should be. The draft warns (refinery.mode: warn); switch it to enforce once it holds.',
  ].join('\n');
  annotateFields(document, ['schema', 0, 'properties'], object.properties, eventNoun(object.physicalType));
  return document.toString({ lineWidth: 110 });
}

function renderField(field: InferredField): Record<string, unknown> {
  return {
    name: field.name,
    ...typeShape(field),
    required: field.required,
    ...(field.sealed
      ? {
          classification: 'PII',
          description: 'Personal: sealed per person at ingest, so its values were not read.',
        }
      : {}),
    ...contentShape(field),
  };
}

/** An array's element: like a property, without a name or `required`. */
function renderItems(field: InferredField): Record<string, unknown> {
  return { ...typeShape(field), ...contentShape(field) };
}

function typeShape(field: InferredField): Record<string, unknown> {
  if (!field.logicalType) return {};
  const options: Record<string, unknown> = {};
  if (field.format) options.format = field.format;
  if (field.minimum !== undefined) options.minimum = field.minimum;
  return {
    logicalType: field.logicalType,
    ...(Object.keys(options).length > 0 ? { logicalTypeOptions: options } : {}),
  };
}

/** Nested fields, the array element, and the value set as a zero-tolerance quality rule. */
function contentShape(field: InferredField): Record<string, unknown> {
  return {
    ...(field.properties && field.properties.length > 0
      ? { properties: field.properties.map(renderField) }
      : {}),
    ...(field.items ? { items: renderItems(field.items) } : {}),
    ...(field.validValues
      ? {
          quality: [
            {
              type: 'library',
              description: 'only the values seen in the samples',
              metric: 'invalidValues',
              arguments: { validValues: [...field.validValues] },
              mustBe: 0,
            },
          ],
        }
      : {}),
  };
}

/** Adds `# present in 48 of 50 events (96%)` after each `required`, and notes on mixed types. */
function annotateFields(
  document: Document,
  path: readonly (string | number)[],
  fields: readonly InferredField[],
  noun: string,
): void {
  fields.forEach((field, index) => {
    const at = [...path, index];
    const required = document.getIn([...at, 'required'], true);
    if (isNode(required)) {
      required.comment = ` present in ${field.present} of ${count(field.total, noun)} (${percent(field.present, field.total)})`;
    }
    const name = document.getIn([...at, 'name'], true);
    if (isNode(name) && field.logicalType === null) {
      name.comment =
        field.kindsSeen.length > 0
          ? ` no logicalType: values were ${field.kindsSeen.join(' and ')}`
          : ' no logicalType: only null values were seen';
    }
    if (field.properties)
      annotateFields(document, [...at, 'properties'], field.properties, `${field.name} objects`);
    if (field.items?.properties) {
      annotateFields(
        document,
        [...at, 'items', 'properties'],
        field.items.properties,
        `${field.name} elements`,
      );
    }
  });
}

function describeWindow(object: InferredObject): string {
  const one = object.sampleCount === 1;
  const what =
    object.physicalType === 'track'
      ? `"${object.physicalName}" track ${one ? 'event' : 'events'}`
      : `${object.physicalType} ${one ? 'call' : 'calls'}${object.physicalName !== null ? ` named "${object.physicalName}"` : ''}`;
  const window =
    object.firstSeen && object.lastSeen
      ? dateOf(object.firstSeen) === dateOf(object.lastSeen)
        ? ` received on ${dateOf(object.firstSeen)}`
        : ` received between ${dateOf(object.firstSeen)} and ${dateOf(object.lastSeen)}`
      : '';
  return `Inferred from ${object.sampleCount} ${what}${window}.`;
}

function describeObject(object: InferredObject): string {
  const payload =
    object.physicalType === 'identify' || object.physicalType === 'group' ? 'traits' : 'properties';
  const subject =
    object.physicalType === 'track'
      ? `the "${object.physicalName}" event`
      : object.physicalName !== null
        ? `${object.physicalType} calls named "${object.physicalName}"`
        : `every ${object.physicalType} call`;
  return `The ${payload} of ${subject}.`;
}

function eventNoun(type: EventObjectType): string {
  return type === 'track' ? 'events' : `${type} calls`;
}

/** `50 events`; a plural noun, made singular for one (`1 event`, `1 address object`). */
function count(total: number, pluralNoun: string): string {
  return `${total} ${total === 1 ? pluralNoun.replace(/s$/, '') : pluralNoun}`;
}

function percent(part: number, whole: number): string {
  if (whole === 0) return '0%';
  const value = (part / whole) * 100;
  // Never round 99.6% up to 100%: "100%" must mean every one.
  const shown = part < whole ? Math.min(99, Math.round(value)) : 100;
  return `${part > 0 && shown === 0 ? '<1' : shown}%`;
}

function dateOf(iso: string): string {
  return new Date(Date.parse(iso)).toISOString().slice(0, 10);
}

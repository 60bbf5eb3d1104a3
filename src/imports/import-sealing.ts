import { isJsonObject } from '../core/json-object.js';
import {
  type FieldNameSet,
  holdsPersonalFields,
  messageSubject,
  type PersonalFields,
  type PersonalMessage,
  protectMessage,
} from '../privacy/vault/personal-fields.js';
import type { Subject, SubjectKeyVault } from '../privacy/vault/subject-key-vault.js';
import type { ImportSealer, ImportTarget, SealedImportRow } from '../store/import-types.js';
import { TARGETS } from './targets.js';

/**
 * What an import needs to keep personal values out of the store in clear: the workspace's key vault, which
 * field names are personal (`privacy.personalFields` plus Segment's identifying traits, as the collector uses)
 * and the keyed hash the identity graph holds emails as. `WorkspacePrivacy` is one.
 */
export interface ImportPrivacy {
  readonly vault: SubjectKeyVault;
  readonly fields: PersonalFields;
  readonly identifiers: { email(raw: unknown): string | undefined };
}

type Row = Readonly<Record<string, unknown>>;

/**
 * How imported rows are sealed, with the collector's own `protectMessage`, so both paths share one rule:
 *
 * - a **customer** row is its customer's traits: personal fields (email, phone, names, …) and personal unmapped
 *   columns are sealed as `traits.<name>` with the key of the subject `user_id:<customer_id>`, the key an
 *   erasure of that user id shreds (events of that user are sealed with the same key);
 * - an **order** line's personal fields (its email) and unmapped columns are sealed as `properties.<name>` with
 *   its customer's key; a line without a customer is keyed by its email (the subject `anonymous_id:<keyed hash of
 *   the email>`); a line with personal values and neither is refused;
 * - an **event** is sealed exactly as a collected one (`traits`, `context.traits`, `properties`, by `userId`,
 *   else `anonymousId`), its unmapped columns as the properties (traits for identify and group) they become.
 *
 * Products carry no one's data and are not sealed. The key columns (customer_id, user_id, anonymous_id) stay
 * clear: they name the key and join the tables.
 */
export function importSealer(
  target: ImportTarget,
  mapping: Readonly<Record<string, string>>,
  unmappedColumns: readonly string[],
  privacy: ImportPrivacy,
): ImportSealer | undefined {
  switch (target) {
    case 'customers':
    case 'orders':
      return recordSealer(target, mapping, unmappedColumns, privacy);
    case 'events':
      return eventSealer(mapping, unmappedColumns, privacy);
    case 'products':
      return undefined;
  }
}

/** Fields that name a row's key; they stay clear whatever the settings, since the key is found by them. */
const KEY_FIELDS = new Set([
  'customer_id',
  'user_id',
  'anonymous_id',
  'message_id',
  'order_id',
  'product_id',
]);

function recordSealer(
  target: 'customers' | 'orders',
  mapping: Readonly<Record<string, string>>,
  unmappedColumns: readonly string[],
  privacy: ImportPrivacy,
): ImportSealer {
  // A customer record is the person's traits; an order line is like an order event's properties.
  const section = target === 'customers' ? 'traits' : 'properties';
  const names = privacy.fields[section];
  const personal = TARGETS[target].fields
    .filter((field) => (field.type === 'text' || field.type === 'email') && !KEY_FIELDS.has(field.name))
    .map((field) => field.name)
    .filter((name) => names.has(name));
  const mapped = personal.filter((name) => mapping[name] !== undefined);
  // The full name falls back to first and last name, which are sealed: it is worked out here, in clear.
  const nameParts =
    target === 'customers' && personal.includes('name') && mapping.name === undefined
      ? ['first_name', 'last_name'].filter((name) => mapping[name] !== undefined)
      : [];
  const columns = [...new Set([...mapped, ...(nameParts.length > 0 ? ['name'] : [])]), 'extra'];
  const subjectOf = (row: Row): PersonalMessage => {
    if (typeof row.customer_id === 'string' && row.customer_id !== '') return { userId: row.customer_id };
    const hash = emailHashOf(row, privacy);
    return hash ? { anonymousId: hash } : {};
  };

  async function sealRow(row: Row): Promise<SealedImportRow> {
    const record: Record<string, unknown> = {};
    for (const name of mapped) if (row[name] !== null && row[name] !== undefined) record[name] = row[name];
    if (nameParts.length > 0 && record.name === undefined) {
      const full = nameParts
        .map((name) => row[name])
        .filter((part): part is string => typeof part === 'string' && part !== '')
        .join(' ');
      if (full) record.name = full;
    }
    const sealed = await sealRecord(subjectOf(row), section, record, parseObject(row.extra), privacy);
    if (!sealed) {
      const field = Object.keys(record)[0] ?? 'extra';
      const reason = `${field}: a personal value needs the row's customer_id (or a valid email) to be sealed with its owner's key`;
      return { values: {}, emailHash: null, refusal: { field, reason } };
    }
    const values: Record<string, string | null> = {};
    for (const name of columns) {
      values[name] = name === 'extra' ? jsonText(sealed.extra) : textOf(sealed.record[name]);
    }
    return { values, emailHash: emailHashOf(row, privacy) ?? null };
  }

  return {
    columns,
    reads: ['customer_id', 'email', ...nameParts],
    personalFields: personal,
    personalColumns: personalColumnsOf(mapping, unmappedColumns, personal, names),
    seal: (rows) => sealPage(rows, sealRow, subjectOf, privacy),
  };
}

function eventSealer(
  mapping: Readonly<Record<string, string>>,
  unmappedColumns: readonly string[],
  privacy: ImportPrivacy,
): ImportSealer {
  const messageFields = ['traits', 'properties', 'context'];
  const subjectOf = (row: Row): PersonalMessage => ({ userId: row.user_id, anonymousId: row.anonymous_id });

  async function sealRow(row: Row): Promise<SealedImportRow> {
    const message: PersonalMessage = {
      ...subjectOf(row),
      traits: parseObject(row.traits),
      properties: parseObject(row.properties),
      context: parseObject(row.context),
    };
    const { message: sealed } = await protectMessage(message, privacy.vault, privacy.fields);
    // Unmapped columns join properties, or traits for identify and group calls (as the store merges them).
    const extraSection = row.type === 'identify' || row.type === 'group' ? 'traits' : 'properties';
    const extra = await sealPart(subjectOf(row), extraSection, parseObject(row.extra), privacy);
    return {
      values: {
        traits: jsonText(sealed.traits),
        properties: jsonText(sealed.properties),
        context: jsonText(sealed.context),
        extra: jsonText(extra),
      },
      emailHash: null,
    };
  }

  return {
    columns: [...messageFields, 'extra'],
    reads: ['type', 'user_id', 'anonymous_id'],
    personalFields: messageFields,
    // The JSON columns may hold anything personal anywhere: a reject shows none of them.
    personalColumns: personalColumnsOf(mapping, unmappedColumns, messageFields, privacy.fields.traits),
    seal: (rows) => sealPage(rows, sealRow, subjectOf, privacy),
  };
}

/**
 * Seals a page row by row, after making sure every subject of the page has its key: new keys are created
 * together (the vault writes them with shared syncs) rather than one durable write after another.
 */
async function sealPage(
  rows: readonly Row[],
  sealRow: (row: Row) => Promise<SealedImportRow>,
  subjectOf: (row: Row) => PersonalMessage,
  privacy: ImportPrivacy,
): Promise<SealedImportRow[]> {
  const subjects = new Map<string, Subject>();
  for (const row of rows) {
    const subject = messageSubject(subjectOf(row));
    if (subject) subjects.set(`${subject.type}:${subject.value}`, subject);
  }
  await Promise.all([...subjects.values()].map((subject) => privacy.vault.keyFor(subject)));
  const sealed: SealedImportRow[] = [];
  for (const row of rows) sealed.push(await sealRow(row));
  return sealed;
}

/**
 * A record and its unmapped columns with their personal names sealed for the subject `who` names: a customer's
 * as `traits` and `context.traits` in one pass (both are sealed as `traits.<name>`), an order line's as two sets
 * of properties. Undefined when a personal value is there but `who` names no one to seal it for.
 */
async function sealRecord(
  who: PersonalMessage,
  section: 'traits' | 'properties',
  record: Record<string, unknown>,
  extra: Record<string, unknown> | null,
  privacy: ImportPrivacy,
): Promise<{ record: Record<string, unknown>; extra: Record<string, unknown> | null } | undefined> {
  if (section === 'properties') {
    const sealedRecord = await sealPart(who, section, record, privacy);
    const sealedExtra = await sealPart(who, section, extra, privacy);
    return sealedRecord === undefined || sealedExtra === undefined
      ? undefined
      : { record: sealedRecord ?? {}, extra: sealedExtra };
  }
  const message: PersonalMessage = {
    ...who,
    traits: record,
    ...(extra ? { context: { traits: extra } } : {}),
  };
  const { message: sealed, subject } = await protectMessage(message, privacy.vault, privacy.fields);
  if (subject === undefined && holdsPersonalFields(message, privacy.fields)) return undefined;
  const context = sealed.context as { traits?: Record<string, unknown> } | undefined;
  return { record: sealed.traits as Record<string, unknown>, extra: context?.traits ?? null };
}

/** One object with its personal names sealed as `<section>.<name>`; null for none; undefined as above. */
async function sealPart(
  who: PersonalMessage,
  section: 'traits' | 'properties',
  value: Record<string, unknown> | null,
  privacy: ImportPrivacy,
): Promise<Record<string, unknown> | null | undefined> {
  if (value === null) return null;
  const message: PersonalMessage = { ...who, [section]: value };
  const { message: sealed, subject } = await protectMessage(message, privacy.vault, privacy.fields);
  if (subject === undefined && holdsPersonalFields(message, privacy.fields)) return undefined;
  return sealed[section] as Record<string, unknown>;
}

function emailHashOf(row: Row, privacy: ImportPrivacy): string | undefined {
  return typeof row.email === 'string' ? privacy.identifiers.email(row.email) : undefined;
}

/** The file columns whose values are personal: mapped to a personal field, or unmapped with a personal name. */
function personalColumnsOf(
  mapping: Readonly<Record<string, string>>,
  unmappedColumns: readonly string[],
  personalFields: readonly string[],
  names: FieldNameSet,
): string[] {
  const columns = new Set<string>();
  for (const field of personalFields) {
    const column = mapping[field];
    if (column !== undefined) columns.add(column);
  }
  // Unmapped columns are kept under their own names (in `extra`), so their names decide, as for any field.
  for (const column of unmappedColumns) if (names.has(column)) columns.add(column);
  return [...columns];
}

function parseObject(value: unknown): Record<string, unknown> | null {
  if (isJsonObject(value)) return value;
  if (typeof value !== 'string') return null;
  try {
    const parsed: unknown = JSON.parse(value);
    return isJsonObject(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

function jsonText(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

function textOf(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

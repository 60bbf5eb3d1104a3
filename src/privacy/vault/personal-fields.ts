import { RefineryError } from '../../core/errors.js';
import { readId } from '../../identity/identifier-extraction.js';
import {
  decryptField,
  encryptField,
  envelopeKeyId,
  isEnvelope,
  type JsonValue,
  type SubjectKey,
} from './field-envelope.js';
import type { Subject, SubjectKeyVault } from './subject-key-vault.js';

/**
 * Segment's reserved traits that identify a person. In traits (`traits` and `context.traits`) they are personal at
 * any depth. In `properties` all but two are too: `name` there is a page's or a product's name (Segment's page and
 * e-commerce specs put it there), and `ip` is only personal as a trait (the request's IP has its own policy).
 */
export const DEFAULT_PERSONAL_TRAITS: readonly string[] = Object.freeze([
  'email',
  'phone',
  'name',
  'firstName',
  'lastName',
  'first_name',
  'last_name',
  'username',
  'address',
  'birthday',
  'ip',
]);

const NOT_PERSONAL_IN_PROPERTIES = new Set(['name', 'ip']);

/** Field names matched case-insensitively, built for a fast "is this key personal?" on every message. */
export class FieldNameSet {
  private readonly names: ReadonlySet<string>;
  /** `byLength[n]` is 1 when some name has n characters: most keys are ruled out without touching a string. */
  private readonly byLength: Uint8Array;

  constructor(names: Iterable<string>) {
    this.names = new Set([...names].map((name) => name.toLowerCase()));
    this.byLength = new Uint8Array(Math.max(0, ...[...this.names].map((name) => name.length)) + 1);
    for (const name of this.names) this.byLength[name.length] = 1;
  }

  has(key: string): boolean {
    if (this.byLength[key.length] !== 1) return false;
    return this.names.has(key) || this.names.has(key.toLowerCase());
  }

  /** The names, lower case, sorted. */
  get list(): string[] {
    return [...this.names].sort();
  }
}

/** The `privacy.personalFields` setting, validated: the names that are personal in each section. */
export interface PersonalFields {
  /** Personal at any depth of `traits` and `context.traits`. */
  readonly traits: FieldNameSet;
  /** Personal at any depth of `properties`. */
  readonly properties: FieldNameSet;
}

const MAX_NAME = 128;

/**
 * Checks `privacy.personalFields` (a list of field names) and returns the names to encrypt. The names given are
 * added to `DEFAULT_PERSONAL_TRAITS` and count in traits and properties alike, at any depth, ignoring case. Every
 * problem is reported at once in one REFINERY_ERR_CONFIG_INVALID; `field` names the first.
 *
 * @example validatePersonalFieldsConfig(['loyaltyCardNumber', 'shipping_address'])
 */
export function validatePersonalFieldsConfig(
  input: unknown = [],
  path = 'privacy.personalFields',
): PersonalFields {
  const problems: { field: string; text: string }[] = [];
  const problem = (field: string, text: string) => problems.push({ field, text: `${field} ${text}` });
  const extra: string[] = [];
  if (input !== undefined && input !== null && !Array.isArray(input)) {
    problem(path, 'must be a list of field names, such as [loyaltyCardNumber, shipping_address]');
  }
  const seen = new Map<string, string>();
  (Array.isArray(input) ? (input as unknown[]) : []).forEach((name, index) => {
    const field = `${path}[${index}]`;
    if (typeof name !== 'string' || name.trim() === '' || name.length > MAX_NAME) {
      problem(field, `is ${describe(name)}; give a field name of 1 to ${MAX_NAME} characters`);
    } else if (name !== name.trim() || /[.[\]]/.test(name)) {
      problem(
        field,
        `is "${name}": give the field's own name without spaces around it, not a path; names are matched at any depth`,
      );
    } else if (seen.has(name.toLowerCase())) {
      problem(field, `repeats "${seen.get(name.toLowerCase())}" (names ignore case)`);
    } else {
      seen.set(name.toLowerCase(), name);
      extra.push(name);
    }
  });
  if (problems.length > 0) {
    const first = problems[0]!;
    throw new RefineryError(
      'REFINERY_ERR_CONFIG_INVALID',
      `Personal field settings are not valid:\n${problems.map((p) => p.text).join('\n')}`,
      { field: first.field, problems: problems.map((p) => p.text) },
    );
  }
  const inProperties = DEFAULT_PERSONAL_TRAITS.filter((name) => !NOT_PERSONAL_IN_PROPERTIES.has(name));
  return Object.freeze({
    traits: new FieldNameSet([...DEFAULT_PERSONAL_TRAITS, ...extra]),
    properties: new FieldNameSet([...inProperties, ...extra]),
  });
}

/** The personal fields of a workspace with no `privacy.personalFields` setting. */
export const DEFAULT_PERSONAL_FIELDS: PersonalFields = validatePersonalFieldsConfig();

/** The parts of a Segment message (raw JSON or validated) that name its subject or may hold personal fields. */
export interface PersonalMessage {
  readonly userId?: unknown;
  readonly anonymousId?: unknown;
  readonly traits?: unknown;
  readonly properties?: unknown;
  readonly context?: unknown;
}

export interface ProtectedMessage<M> {
  /** The message with personal fields sealed; the very same object when nothing changed. */
  readonly message: M;
  readonly changed: boolean;
  /** Whose key sealed them; undefined when the message has no subject. */
  readonly subject: Subject | undefined;
}

/**
 * The subject whose key protects a message: its `userId`, else its `anonymousId` (numbers count as their
 * string, as Segment stores them; blank ids identify no one).
 */
export function messageSubject(message: PersonalMessage): Subject | undefined {
  const userId = readId(message.userId);
  if (userId !== undefined) return { type: 'user_id', value: userId };
  const anonymousId = readId(message.anonymousId);
  return anonymousId === undefined ? undefined : { type: 'anonymous_id', value: anonymousId };
}

/**
 * Seals the personal fields under `traits`, `context.traits` and `properties` with the subject's key, before the
 * message is written anywhere. Returns a new message and leaves the input alone; a message with no personal
 * field (or no subject) comes back as the same object after one scan, with no key looked up or created. A value
 * that is already a valid envelope of this subject's for its field is kept as it is, never sealed twice.
 *
 * @example const { message } = await protectMessage(raw, vault, DEFAULT_PERSONAL_FIELDS)
 */
export async function protectMessage<M extends PersonalMessage>(
  message: M,
  vault: SubjectKeyVault,
  fields: PersonalFields,
): Promise<ProtectedMessage<M>> {
  const subject = messageSubject(message);
  const context = message.context;
  const contextTraits = isObject(context) ? context.traits : undefined;
  if (
    subject === undefined ||
    !(
      holdsPersonal(message.traits, fields.traits) ||
      holdsPersonal(contextTraits, fields.traits) ||
      holdsPersonal(message.properties, fields.properties)
    )
  ) {
    return { message, changed: false, subject };
  }

  const sealer: Sealer = { key: await vault.keyFor(subject), vault, subject };
  const traits = seal(message.traits, fields.traits, 'traits', sealer);
  const properties = seal(message.properties, fields.properties, 'properties', sealer);
  const sealedContextTraits = seal(contextTraits, fields.traits, 'traits', sealer);
  if (
    traits === message.traits &&
    properties === message.properties &&
    sealedContextTraits === contextTraits
  ) {
    return { message, changed: false, subject };
  }
  const copy: Record<string, unknown> = { ...(message as PersonalMessage) };
  if (traits !== message.traits) copy.traits = traits;
  if (properties !== message.properties) copy.properties = properties;
  if (sealedContextTraits !== contextTraits)
    copy.context = { ...(context as object), traits: sealedContextTraits };
  return { message: copy as M, changed: true, subject };
}

/**
 * True when `protectMessage` would have something to seal: a personal field with a value under `traits`,
 * `context.traits` or `properties`. Synchronous and allocation-free, so the collector can skip the (async)
 * sealing for the many messages that carry nothing personal.
 */
export function holdsPersonalFields(message: PersonalMessage, fields: PersonalFields): boolean {
  const context = message.context;
  return (
    holdsPersonal(message.traits, fields.traits) ||
    (isObject(context) && holdsPersonal(context.traits, fields.traits)) ||
    holdsPersonal(message.properties, fields.properties)
  );
}

/** What a redacted personal value is replaced by. */
export const REDACTED = '[redacted]';

/**
 * A copy of a message with the values of its personal fields (where `protectMessage` would seal them: `traits`,
 * `context.traits`, `properties`) replaced by `[redacted]`. For what is kept only to explain a problem, such as
 * the excerpt of a rejected message: a broken message may have no subject key to seal with, and the clear value
 * is never needed to fix a sender.
 */
export function redactPersonalFields(message: unknown, fields: PersonalFields): unknown {
  if (!isObject(message)) return message;
  const context = message.context;
  const traits = redact(message.traits, fields.traits, 0);
  const properties = redact(message.properties, fields.properties, 0);
  const contextTraits = isObject(context) ? redact(context.traits, fields.traits, 0) : undefined;
  if (
    traits === message.traits &&
    properties === message.properties &&
    (!isObject(context) || contextTraits === context.traits)
  ) {
    return message;
  }
  const copy: Record<string, unknown> = { ...message };
  if (traits !== message.traits) copy.traits = traits;
  if (properties !== message.properties) copy.properties = properties;
  if (isObject(context) && contextTraits !== context.traits)
    copy.context = { ...context, traits: contextTraits };
  return copy;
}

function redact(value: unknown, names: FieldNameSet, depth: number): unknown {
  // Deeper than any message the collector accepts (limits.maxDepth); left as it is rather than recursed into.
  if (typeof value !== 'object' || value === null || depth > 64) return value;
  if (Array.isArray(value)) return mapArray(value, (item) => redact(item, names, depth + 1));
  let copy: Record<string, unknown> | undefined;
  for (const key in value) {
    const child = (value as Record<string, unknown>)[key];
    const next =
      names.has(key) && child !== null && child !== undefined ? REDACTED : redact(child, names, depth + 1);
    if (next !== child) {
      copy ??= { ...(value as Record<string, unknown>) };
      setOwn(copy, key, next);
    }
  }
  return copy ?? value;
}

/** What revealing found besides values: where keys were shredded (those values became `null`). */
export interface Revealed<T> {
  readonly value: T;
  /** Field paths whose envelope's key was destroyed. */
  readonly shredded: readonly string[];
}

/**
 * Decrypts every envelope in a JSON value that sits at `path` (`'traits'` for a stored traits column,
 * `'properties'` for properties). Envelopes whose key was shredded become `null` and are listed. Throws a
 * RefineryError on an envelope that fails authentication. Returns the same value when it holds no envelope.
 *
 * Keys created by another process since the vault was opened are picked up by re-reading the key file once.
 */
export async function revealValue<T>(value: T, vault: SubjectKeyVault, path: string): Promise<Revealed<T>> {
  if (hasUnknownKey(value, vault)) await vault.refresh();
  const shredded: string[] = [];
  return { value: openEnvelopes(value, path, vault, shredded) as T, shredded };
}

/**
 * Decrypts the envelopes of a message or stored row: `traits`, `context.traits` and `properties`.
 *
 * @example const { value: row } = await revealMessage({ traits, properties, context }, vault)
 */
export async function revealMessage<M extends PersonalMessage>(
  message: M,
  vault: SubjectKeyVault,
): Promise<Revealed<M>> {
  const context = message.context;
  const contextTraits = isObject(context) ? context.traits : undefined;
  if (
    hasUnknownKey(message.traits, vault) ||
    hasUnknownKey(message.properties, vault) ||
    hasUnknownKey(contextTraits, vault)
  ) {
    await vault.refresh();
  }
  const shredded: string[] = [];
  const traits = openEnvelopes(message.traits, 'traits', vault, shredded);
  const properties = openEnvelopes(message.properties, 'properties', vault, shredded);
  const openedContextTraits = openEnvelopes(contextTraits, 'traits', vault, shredded);
  if (
    traits === message.traits &&
    properties === message.properties &&
    openedContextTraits === contextTraits
  ) {
    return { value: message, shredded };
  }
  const copy: Record<string, unknown> = { ...(message as PersonalMessage) };
  if (traits !== message.traits) copy.traits = traits;
  if (properties !== message.properties) copy.properties = properties;
  if (openedContextTraits !== contextTraits)
    copy.context = { ...(context as object), traits: openedContextTraits };
  return { value: copy as M, shredded };
}

interface Sealer {
  readonly key: SubjectKey;
  readonly vault: SubjectKeyVault;
  readonly subject: Subject;
}

/** True when some personal name holds a value worth sealing. Allocates nothing. */
function holdsPersonal(value: unknown, names: FieldNameSet): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) {
    for (const item of value) if (holdsPersonal(item, names)) return true;
    return false;
  }
  for (const key in value) {
    const child = (value as Record<string, unknown>)[key];
    if (names.has(key)) {
      if (child !== null && child !== undefined) return true;
    } else if (typeof child === 'object' && child !== null && holdsPersonal(child, names)) {
      return true;
    }
  }
  return false;
}

/** The value with its personal fields sealed, copying only the objects on the way to them. */
function seal(value: unknown, names: FieldNameSet, path: string, sealer: Sealer): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return mapArray(value, (item) => seal(item, names, `${path}[]`, sealer));
  let copy: Record<string, unknown> | undefined;
  for (const key in value) {
    const child = (value as Record<string, unknown>)[key];
    let next = child;
    if (names.has(key)) {
      const fieldPath = `${path}.${key}`;
      if (child !== null && child !== undefined && !isOwnEnvelope(child, fieldPath, sealer)) {
        next = encryptField(child as JsonValue, sealer.key, fieldPath);
      }
    } else {
      next = seal(child, names, `${path}.${key}`, sealer);
    }
    if (next !== child) {
      copy ??= { ...(value as Record<string, unknown>) };
      setOwn(copy, key, next);
    }
  }
  return copy ?? value;
}

/**
 * True for an envelope this subject sealed for this very field. Anything else shaped like one (a client's
 * string, another subject's envelope) is sealed like any value, so it can never pass for our own.
 */
function isOwnEnvelope(value: unknown, path: string, sealer: Sealer): boolean {
  const keyId = envelopeKeyId(value);
  if (keyId === undefined || !sealer.vault.isKeyOf(keyId, sealer.subject)) return false;
  try {
    return decryptField(value as string, sealer.vault, path).status === 'ok';
  } catch {
    return false;
  }
}

function hasUnknownKey(value: unknown, vault: SubjectKeyVault): boolean {
  const keyId = envelopeKeyId(value);
  if (keyId !== undefined) return vault.keyById(keyId) === undefined;
  if (typeof value !== 'object' || value === null) return false;
  for (const child of Array.isArray(value) ? value : Object.values(value)) {
    if (hasUnknownKey(child, vault)) return true;
  }
  return false;
}

/** The value with its envelopes opened, copying only the objects on the way to them. */
function openEnvelopes(value: unknown, path: string, vault: SubjectKeyVault, shredded: string[]): unknown {
  if (isEnvelope(value)) {
    const opened = decryptField(value, vault, path);
    if (opened.status === 'ok') return opened.value;
    shredded.push(path);
    return null;
  }
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value))
    return mapArray(value, (item) => openEnvelopes(item, `${path}[]`, vault, shredded));
  let copy: Record<string, unknown> | undefined;
  for (const key in value) {
    const child = (value as Record<string, unknown>)[key];
    const next = openEnvelopes(child, `${path}.${key}`, vault, shredded);
    if (next !== child) {
      copy ??= { ...(value as Record<string, unknown>) };
      setOwn(copy, key, next);
    }
  }
  return copy ?? value;
}

function mapArray(items: readonly unknown[], map: (item: unknown) => unknown): readonly unknown[] {
  let copy: unknown[] | undefined;
  for (let index = 0; index < items.length; index++) {
    const next = map(items[index]);
    if (next !== items[index]) {
      copy ??= items.slice();
      copy[index] = next;
    }
  }
  return copy ?? items;
}

function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  // Assigning to `__proto__` would change the copy's prototype instead of setting the field.
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  return typeof value === 'string' ? `"${value}"` : (JSON.stringify(value) ?? String(value));
}

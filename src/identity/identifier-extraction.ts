import { asJsonObject } from '../core/json-object.js';
import type { IdentifierHasher } from './identifier-hashing.js';
import type { Identifier, IdentityRules } from './identity-rules.js';

/**
 * Reads the identifiers a Segment message asserts belong to one person, ready for `IdentityGraph.observe`.
 *
 * - `userId` and `anonymousId` of every message type.
 * - `alias`: `previousId` joins `userId`. It is typed `anonymous_id` when it equals the message's own
 *   `anonymousId` (what analytics.js sends when an anonymous visitor is aliased), and `user_id` otherwise, since
 *   an alias otherwise renames a user. With the default limit of one user id per person, aliasing one user id to
 *   another is therefore refused by the graph (and logged) unless the `user_id` limit is raised.
 * - `traits.email` / `traits.phone` of `identify` calls, and `context.traits.email` / `.phone` of every call.
 *   A `group` call's top-level traits describe the group (a company's address), not the person, so they are
 *   left out.
 * - `context.externalIds` entries of the `users` collection (or with no collection) whose type the rules name.
 *
 * Emails are trimmed and lowercased, phones reduced to their digits with a leading `+` kept; both are then
 * hashed with the workspace's key (`IdentifierHasher`) and never returned in clear. External ids of type `email`
 * or `phone` are hashed the same way, or keyed from their digest when their `encoding` is `sha256`; other
 * encodings (md5, …) cannot be compared with our hashes and are skipped. Identifier types the rules do not name
 * are left out, and each identifier is returned once, in the order above.
 */
export function extractIdentifiers(
  message: IdentityMessage,
  rules: IdentityRules,
  hasher: IdentifierHasher,
): Identifier[] {
  const collected = new IdentifierList(rules);
  const userId = readId(message.userId);
  const anonymousId = readId(message.anonymousId);
  collected.add('user_id', userId);
  if (message.type === 'alias') {
    const previousId = readId(message.previousId);
    collected.add(
      previousId !== undefined && previousId === anonymousId ? 'anonymous_id' : 'user_id',
      previousId,
    );
  }
  collected.add('anonymous_id', anonymousId);

  const context = asJsonObject(message.context);
  const traitSources = [
    message.type === 'identify' ? asJsonObject(message.traits) : undefined,
    asJsonObject(context?.traits),
  ];
  for (const traits of traitSources) collected.add('email', hasher.email(traits?.email));
  for (const traits of traitSources) collected.add('phone', hasher.phone(traits?.phone));

  const externalIds = context?.externalIds;
  if (Array.isArray(externalIds)) {
    for (const entry of externalIds) {
      const external = readExternalId(entry, hasher);
      if (external) collected.add(external.type, external.value);
    }
  }
  return collected.identifiers;
}

/** The fields of a Segment message identity extraction reads; a validated message or raw JSON both fit. */
export interface IdentityMessage {
  readonly type?: unknown;
  readonly userId?: unknown;
  readonly anonymousId?: unknown;
  readonly previousId?: unknown;
  readonly traits?: unknown;
  readonly context?: unknown;
}

/** An email as compared: trimmed and lowercased; undefined unless it has the shape `local@domain`. */
export function normaliseEmail(raw: unknown): string | undefined {
  if (typeof raw !== 'string') return undefined;
  const email = raw.trim().toLowerCase();
  return /^[^\s@]+@[^\s@]+$/.test(email) ? email : undefined;
}

/**
 * A phone number as compared: its digits, with a leading `+` kept when it was written. No country code is
 * guessed, so `+44 20 7946 0000` and `020 7946 0000` stay different. Fewer than five digits is not a number.
 */
export function normalisePhone(raw: unknown): string | undefined {
  const text = typeof raw === 'number' && Number.isSafeInteger(raw) && raw > 0 ? String(raw) : raw;
  if (typeof text !== 'string') return undefined;
  const trimmed = text.trim();
  const digits = trimmed.replace(/\D/g, '');
  if (digits.length < 5) return undefined;
  return trimmed.startsWith('+') ? `+${digits}` : digits;
}

const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

function readExternalId(entry: unknown, hasher: IdentifierHasher): Identifier | undefined {
  const external = asJsonObject(entry);
  if (!external || typeof external.type !== 'string') return undefined;
  if (external.collection !== undefined && external.collection !== 'users') return undefined;
  const encoding = external.encoding ?? 'none';
  const { type } = external;
  if (type === 'email' || type === 'phone') {
    if (encoding === 'none') {
      const value = type === 'email' ? hasher.email(external.id) : hasher.phone(external.id);
      return value === undefined ? undefined : { type, value };
    }
    if (encoding === 'sha256' && typeof external.id === 'string' && SHA256_HEX.test(external.id)) {
      return { type, value: hasher.fromDigest(external.id) };
    }
    return undefined;
  }
  const value = readId(external.id);
  return value === undefined ? undefined : { type, value };
}

/** An id as it identifies someone: Segment accepts numeric ids and stores them as strings; blank ids identify no one. */
export function readId(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  return value;
}

/** Identifiers in first-seen order, each once, of the types the rules name. */
class IdentifierList {
  readonly identifiers: Identifier[] = [];
  private readonly seen = new Set<string>();
  private readonly types: ReadonlySet<string>;

  constructor(rules: IdentityRules) {
    this.types = new Set(rules.identifiers.map((rule) => rule.type));
  }

  add(type: string, value: string | undefined): void {
    if (value === undefined || !this.types.has(type)) return;
    const key = `${type}:${value}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.identifiers.push({ type, value });
  }
}

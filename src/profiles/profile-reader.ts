import { RefineryError } from '../core/errors.js';
import {
  CONTACT_IDENTIFIER_TYPES,
  type IdentifierHasher,
  isKeyedHash,
} from '../identity/identifier-hashing.js';
import type { Identifier } from '../identity/identity-rules.js';
import { revealImportedRecords, withholdImportedRecords } from '../imports/imported-records.js';
import type { ConsentDefaults } from '../privacy/consent-purposes.js';
import { type ConsentStanding, profileConsents } from '../privacy/consent-reader.js';
import { type FieldNameSet, type PersonalFields, revealValue } from '../privacy/vault/personal-fields.js';
import type { SubjectKeyVault } from '../privacy/vault/subject-key-vault.js';
import type { StoredPerson } from '../store/identity-types.js';
import type { PersonEvent, PersonEventKeys } from '../store/profile-types.js';
import type { Store } from '../store/store.js';
import { type ComputedTraits, computeTraits, ORDER_COMPLETED } from './computed-traits.js';

/** The 360° view of one person. */
export interface Profile {
  readonly personId: string;
  /** Emails and phones are the workspace's keyed hashes (`h1:…`): the identity graph never holds them in clear. */
  readonly identities: readonly Identifier[];
  /** Latest value of every trait by event time, from identify traits and `context.traits`. */
  readonly traits: Record<string, unknown>;
  /** When each trait was last set. */
  readonly traitsUpdatedAt: Record<string, string>;
  readonly firstSeen: string | null;
  readonly lastSeen: string | null;
  readonly eventCount: number;
  readonly computed: ComputedTraits;
  readonly recentEvents: readonly RecentEvent[];
  /** The person's standing per consent purpose: their latest choice, else the workspace's default. */
  readonly consents: readonly ConsentStanding[];
  /** Trait names whose values were withheld from this reader (personal fields, without read:personal). */
  readonly hidden: readonly string[];
  /**
   * Imported customer records whose customer id is one of the person's user ids: personal values opened for a
   * reader who may see them, `[hidden]` for others (they are stored sealed).
   */
  readonly customers: readonly Record<string, unknown>[];
}

export interface RecentEvent {
  readonly messageId: string;
  readonly type: string;
  /** Track event name, or page/screen name. */
  readonly name: string | null;
  readonly timestamp: string;
  readonly source: string;
  readonly properties: Record<string, unknown> | null;
}

export interface ProfileReadOptions {
  /** False hides the values of personal fields (traits and event properties). */
  readonly personal: boolean;
  /** Which field names are personal, in traits and in event properties. */
  readonly personalFields: PersonalFields;
  /**
   * Opens sealed personal values for a reader who may see them (`personal`). Without it they stay sealed
   * envelopes; a value whose person's key was shredded reads as null.
   */
  readonly vault?: SubjectKeyVault;
  /** What applies to purposes the person made no choice about (`consent.default` in refinery.yaml). */
  readonly consentDefaults: ConsentDefaults;
  readonly recentEvents?: number;
}

const MAX_TRAIT_EVENTS = 5000;
const MAX_ORDERS = 10_000;
const WITHHELD = '[hidden]';

/**
 * Identifier types that name a person only inside this workspace: ids the sources made up (a shop's customer
 * number, a browser's random id) and person ids. Knowing one says nothing about who someone is, and holding one
 * means having seen the workspace's own data. Every other type (email, phone, and whatever external ids the
 * rules name, which may be anything from an advertising id to a national number) can be known by anyone who
 * knows the person, so a lookup by it tells whether that person is a customer.
 */
const PSEUDONYMOUS_TYPES: ReadonlySet<string> = new Set(['user_id', 'anonymous_id']);

const PERSON_ID = /^p_[0-9a-f]{16}$/;

/**
 * Whether looking a person up by this reference needs `read:personal`: true for `email:`, `phone:` and any
 * other identifier type that is not pseudonymous (see above). A person id, `user_id:`, `anonymous_id:` and a
 * bare value (a user id) do not. Decided from the reference's form alone, before anything is looked up, so a
 * refusal says nothing about whether the person exists.
 *
 * @example referenceNeedsPersonalAccess('email:ada@example.com') // true
 */
export function referenceNeedsPersonalAccess(reference: string): boolean {
  const text = reference.trim();
  if (PERSON_ID.test(text)) return false;
  const colon = text.indexOf(':');
  if (colon <= 0) return false;
  return !PSEUDONYMOUS_TYPES.has(text.slice(0, colon));
}

/**
 * Finds a person by what a caller knows: a person id (`p_…`, also one merged away since), or
 * `type:value` for any identifier type — `email:` and `phone:` take the clear value (normalised and hashed with
 * the workspace's key as the graph holds it), the keyed hash itself (`h1:…`), or the SHA-256 hex of the
 * normalised value. A bare value is taken as a user id. Decide first whether the caller may ask
 * (`referenceNeedsPersonalAccess`).
 */
export async function findPerson(
  store: Store,
  reference: string,
  hasher: IdentifierHasher | undefined,
): Promise<StoredPerson | undefined> {
  const text = reference.trim();
  if (PERSON_ID.test(text)) return store.identity.person(text);
  const identifier = identifierOfReference(text, hasher);
  const personId = await store.identity.personOf(identifier);
  return personId === undefined ? undefined : store.identity.person(personId);
}

export function identifierOfReference(reference: string, hasher: IdentifierHasher | undefined): Identifier {
  const colon = reference.indexOf(':');
  if (colon <= 0) return { type: 'user_id', value: reference };
  const type = reference.slice(0, colon);
  const value = reference.slice(colon + 1);
  if (!CONTACT_IDENTIFIER_TYPES.has(type)) return { type, value };
  if (isKeyedHash(value.toLowerCase())) return { type, value: value.toLowerCase() };
  if (!hasher) {
    throw new RefineryError(
      'REFINERY_ERR_NOT_SUPPORTED',
      `Looking people up by ${type} needs the workspace's keys, which this process has not opened.`,
      { field: 'id' },
    );
  }
  const hashed = /^[0-9a-f]{64}$/i.test(value)
    ? hasher.fromDigest(value)
    : type === 'email'
      ? hasher.email(value)
      : hasher.phone(value);
  if (hashed === undefined) {
    throw new RefineryError('REFINERY_ERR_INVALID_FIELD', `"${value}" is not a valid ${type}.`, {
      field: 'id',
    });
  }
  return { type, value: hashed };
}

/** The ids a person's events carry, as `ProfileRepository` takes them. */
export function eventKeysOf(person: StoredPerson): PersonEventKeys {
  return {
    userIds: person.identifiers.filter((i) => i.type === 'user_id').map((i) => i.value),
    anonymousIds: person.identifiers.filter((i) => i.type === 'anonymous_id').map((i) => i.value),
  };
}

export async function readProfile(
  store: Store,
  person: StoredPerson,
  options: ProfileReadOptions,
): Promise<Profile> {
  const keys = eventKeysOf(person);
  const [activity, traitEvents, orders, recent, consents, customers] = await Promise.all([
    store.profiles.activity(keys),
    store.profiles.events(keys, { withTraits: true, limit: MAX_TRAIT_EVENTS, order: 'newest' }),
    store.profiles.events(keys, {
      types: ['track'],
      events: [ORDER_COMPLETED],
      limit: MAX_ORDERS,
      order: 'newest',
    }),
    store.profiles.events(keys, { limit: options.recentEvents ?? 20, order: 'newest' }),
    profileConsents(store, person, options.consentDefaults),
    store.imports.customersOf(keys.userIds),
  ]);
  const latest = latestTraits(traitEvents);
  const { updatedAt } = latest;
  const reveal = options.personal ? options.vault : undefined;
  const traits = reveal ? (await revealValue(latest.traits, reveal, 'traits')).value : latest.traits;
  const hidden = options.personal
    ? []
    : Object.keys(traits)
        .filter((name) => options.personalFields.traits.has(name))
        .sort();
  for (const name of hidden) traits[name] = WITHHELD;
  return {
    personId: person.personId,
    identities: person.identifiers,
    traits,
    traitsUpdatedAt: updatedAt,
    firstSeen: activity.firstSeen,
    lastSeen: activity.lastSeen,
    eventCount: activity.events,
    computed: computeTraits(orders),
    consents,
    recentEvents: await Promise.all(
      recent.map(async (event) => ({
        messageId: event.messageId,
        type: event.type,
        name: event.type === 'track' ? event.event : event.name,
        timestamp: event.timestamp,
        source: event.source,
        properties: !options.personal
          ? withheld(event.properties, options.personalFields.properties)
          : reveal
            ? (await revealValue(event.properties, reveal, 'properties')).value
            : event.properties,
      })),
    ),
    hidden,
    customers: options.personal
      ? await revealImportedRecords(customers, 'traits', reveal)
      : withholdImportedRecords(customers, 'traits', options.personalFields),
  };
}

/**
 * The latest value of each trait by event time. `context.traits` counts as well as identify traits (analytics.js
 * and RudderStack send the known traits with every call); on the same event the call's own traits win.
 */
export function latestTraits(newestFirst: readonly PersonEvent[]): {
  traits: Record<string, unknown>;
  updatedAt: Record<string, string>;
} {
  const traits: Record<string, unknown> = {};
  const updatedAt: Record<string, string> = {};
  for (const event of [...newestFirst].reverse()) {
    for (const source of [event.contextTraits, event.traits]) {
      if (!source) continue;
      for (const [name, value] of Object.entries(source)) {
        if (value === undefined) continue;
        traits[name] = value;
        updatedAt[name] = event.timestamp;
      }
    }
  }
  return { traits, updatedAt };
}

function withheld(
  value: Record<string, unknown> | null,
  personal: FieldNameSet,
): Record<string, unknown> | null {
  if (!value) return value;
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (node && typeof node === 'object') {
      return Object.fromEntries(
        Object.entries(node).map(([key, child]) => [key, personal.has(key) ? WITHHELD : walk(child)]),
      );
    }
    return node;
  };
  return walk(value) as Record<string, unknown>;
}

export interface ProfileSearch {
  /** A top-level trait name; `email` and `phone` are looked up through the identity graph's hashes. */
  readonly trait: string;
  readonly value: string;
  readonly limit: number;
}

/**
 * People whose latest-known or past trait matched, newest activity first, each read as a profile. An email or
 * phone is also looked up through the identity graph, with `hasher`.
 */
export async function searchProfiles(
  store: Store,
  search: ProfileSearch,
  options: ProfileReadOptions,
  hasher: IdentifierHasher | undefined,
): Promise<Profile[]> {
  const personIds: string[] = [];
  if (search.trait === 'email' || search.trait === 'phone') {
    const person = await findPerson(store, `${search.trait}:${search.value}`, hasher).catch(() => undefined);
    if (person) personIds.push(person.personId);
  }
  const matches = await store.profiles.findByTrait(search.trait, search.value, search.limit * 4);
  for (const match of matches) {
    if (personIds.length >= search.limit) break;
    const identifier: Identifier = match.userId
      ? { type: 'user_id', value: match.userId }
      : { type: 'anonymous_id', value: match.anonymousId ?? '' };
    const personId = await store.identity.personOf(identifier);
    if (personId !== undefined && !personIds.includes(personId)) personIds.push(personId);
  }
  const profiles: Profile[] = [];
  for (const personId of personIds.slice(0, search.limit)) {
    const person = await store.identity.person(personId);
    if (person) profiles.push(await readProfile(store, person, { ...options, recentEvents: 0 }));
  }
  return profiles;
}

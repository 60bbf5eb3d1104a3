import { normaliseEmail } from '../../identity/identifier-extraction.js';
import { digestEmail, type IdentifierHasher } from '../../identity/identifier-hashing.js';
import type { Identifier } from '../../identity/identity-rules.js';
import { eventKeysOf } from '../../profiles/profile-reader.js';
import { identifierKey, type StoredPerson } from '../../store/identity-types.js';
import type { ErasureTarget } from '../../store/privacy-types.js';
import type { Store } from '../../store/store.js';
import { revealMessage } from '../vault/personal-fields.js';
import type { SubjectKeyVault } from '../vault/subject-key-vault.js';
import type { SubjectReference } from './privacy-request.js';
import { subjectIdentifiers } from './privacy-request.js';

/** The person a request names, as the identity graph knows them, with everyone merged into them. */
export interface ResolvedPerson {
  /** The live person, or undefined when no identifier of the request is in the graph. */
  readonly person: StoredPerson | undefined;
  /** The live person id and the ids merged into it. */
  readonly personIds: readonly string[];
  /** The person's identifiers, plus those the request named. */
  readonly identifiers: readonly Identifier[];
}

/** Finds the person holding one of the request's identifiers (the first that is known). */
export async function resolvePerson(
  store: Store,
  subject: SubjectReference,
  hasher: IdentifierHasher,
): Promise<ResolvedPerson> {
  const named = subjectIdentifiers(subject, hasher);
  let person: StoredPerson | undefined;
  for (const identifier of named) {
    const personId = await store.identity.personOf(identifier);
    if (personId !== undefined) {
      person = await store.identity.person(personId);
      if (person) break;
    }
  }
  const identifiers = new Map<string, Identifier>();
  for (const identifier of [...(person?.identifiers ?? []), ...named]) {
    identifiers.set(identifierKey(identifier), identifier);
  }
  const personIds = person ? await withMergedPersons(store, person.personId) : [];
  return { person, personIds, identifiers: [...identifiers.values()] };
}

/** The person and every person merged into them (directly or through others). */
async function withMergedPersons(store: Store, personId: string): Promise<string[]> {
  const graph = await store.identity.readGraph();
  const into = new Map(graph.persons.map((p) => [p.personId, p.mergedInto]));
  const survivor = (id: string): string => {
    let current = id;
    for (let hop = 0; hop <= into.size; hop++) {
      const next = into.get(current);
      if (!next) return current;
      current = next;
    }
    return current;
  };
  return [
    personId,
    ...graph.persons.map((p) => p.personId).filter((id) => id !== personId && survivor(id) === personId),
  ];
}

/**
 * Everything an erasure matches the person by. Clear emails and phones are gathered from the request and from
 * the person's own events (revealed with the vault), so raw payloads quoting them (a rejected identify) go too.
 */
export async function erasureTarget(
  store: Store,
  resolved: ResolvedPerson,
  subject: SubjectReference,
  vault: SubjectKeyVault | undefined,
  hasher: IdentifierHasher,
): Promise<ErasureTarget> {
  const ofType = (type: string) => resolved.identifiers.filter((i) => i.type === type).map((i) => i.value);
  const userIds = ofType('user_id');
  const anonymousIds = ofType('anonymous_id');
  const contacts = await clearContacts(store, userIds, anonymousIds, vault);
  if (subject.email !== undefined) contacts.emails.add(subject.email.trim());
  const emailHashes = new Set(ofType('email'));
  const emailDigests = new Set<string>();
  for (const email of contacts.emails) {
    const hashed = hasher.email(email);
    if (hashed) emailHashes.add(hashed);
    const digest = digestEmail(email);
    if (digest) emailDigests.add(digest);
  }
  const phoneHashes = new Set(ofType('phone'));
  for (const phone of contacts.phones) {
    const hashed = hasher.phone(phone);
    if (hashed) phoneHashes.add(hashed);
  }
  const needles = new Set<string>([...userIds, ...anonymousIds]);
  for (const email of contacts.emails) {
    needles.add(email);
    const normal = normaliseEmail(email);
    if (normal) needles.add(normal);
  }
  for (const phone of contacts.phones) needles.add(phone);
  // Imported customers are found by the keyed hash kept beside their sealed email: their customer ids name this
  // person too, so their rows are matched and the keys their values were sealed with are shredded.
  for (const id of await store.imports.customerIdsOfEmails([...emailHashes])) {
    if (!userIds.includes(id)) userIds.push(id);
  }
  return {
    personIds: resolved.personIds,
    userIds,
    anonymousIds,
    identifierKeys: resolved.identifiers.map(identifierKey),
    emailHashes: [...emailHashes],
    phoneHashes: [...phoneHashes],
    emailDigests: [...emailDigests],
    needles: [...needles].filter((needle) => needle.length >= 3),
  };
}

const MAX_EVENTS_SCANNED = 100_000;

async function clearContacts(
  store: Store,
  userIds: readonly string[],
  anonymousIds: readonly string[],
  vault: SubjectKeyVault | undefined,
): Promise<{ emails: Set<string>; phones: Set<string> }> {
  const emails = new Set<string>();
  const phones = new Set<string>();
  if (userIds.length === 0 && anonymousIds.length === 0) return { emails, phones };
  const events = await store.profiles.events(
    eventKeysOf({
      personId: '',
      seq: 0,
      firstSeenAt: '',
      mergedInto: null,
      identifiers: [
        ...userIds.map((value) => ({ type: 'user_id', value })),
        ...anonymousIds.map((value) => ({ type: 'anonymous_id', value })),
      ],
    }),
    { withTraits: true, limit: MAX_EVENTS_SCANNED, order: 'oldest' },
  );
  for (const event of events) {
    const message = { traits: event.traits, context: { traits: event.contextTraits } };
    const revealed = vault ? (await revealMessage(message, vault)).value : message;
    for (const traits of [revealed.traits, (revealed.context as { traits?: unknown }).traits]) {
      if (!traits || typeof traits !== 'object') continue;
      const { email, phone } = traits as { email?: unknown; phone?: unknown };
      if (typeof email === 'string' && email.trim() !== '') emails.add(email.trim());
      if (typeof phone === 'string' && phone.trim() !== '') phones.add(phone.trim());
    }
  }
  return { emails, phones };
}

/** The person a done request was about, from the person id it kept (undefined once erased). */
export async function resolvePersonById(store: Store, personId: string | null): Promise<ResolvedPerson> {
  const person = personId === null ? undefined : await store.identity.person(personId);
  if (!person) return { person: undefined, personIds: [], identifiers: [] };
  return {
    person,
    personIds: await withMergedPersons(store, person.personId),
    identifiers: person.identifiers,
  };
}

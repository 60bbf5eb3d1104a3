import { csvDocument } from '../../core/csv-writer.js';
import { RefineryError } from '../../core/errors.js';
import { revealImportedRecords } from '../../imports/imported-records.js';
import { eventKeysOf, type Profile, readProfile } from '../../profiles/profile-reader.js';
import type { ErasureTarget } from '../../store/privacy-types.js';
import type { Store } from '../../store/store.js';
import type { ConsentDefaults } from '../consent-purposes.js';
import { type PersonalFields, revealMessage, revealValue } from '../vault/personal-fields.js';
import type { SubjectKeyVault } from '../vault/subject-key-vault.js';
import type { ResolvedPerson } from './person-target.js';
import type { PrivacyRequest } from './privacy-request.js';

/** Everything held about one person, revealed (sealed fields decrypted), as one JSON document. */
export interface AccessBundle {
  readonly request: PrivacyRequest;
  readonly generatedAt: string;
  readonly personId: string | null;
  readonly profile: Profile | null;
  readonly events: readonly Record<string, unknown>[];
  readonly consents: readonly Record<string, unknown>[];
  readonly quarantined: readonly Record<string, unknown>[];
  readonly merges: readonly Record<string, unknown>[];
  readonly customers: readonly Record<string, unknown>[];
  readonly orders: readonly Record<string, unknown>[];
  readonly requests: readonly PrivacyRequest[];
}

/** The parts of a bundle, each one CSV file. */
export const BUNDLE_PARTS = [
  'profile',
  'identities',
  'events',
  'consents',
  'quarantined',
  'merges',
  'customers',
  'orders',
  'requests',
] as const;
export type BundlePart = (typeof BUNDLE_PARTS)[number];

const MAX_EVENTS = 1_000_000;

export async function buildAccessBundle(options: {
  store: Store;
  request: PrivacyRequest;
  resolved: ResolvedPerson;
  target: ErasureTarget;
  requests: readonly PrivacyRequest[];
  vault: SubjectKeyVault | undefined;
  now: Date;
  consentDefaults: ConsentDefaults;
  personalFields: PersonalFields;
}): Promise<AccessBundle> {
  const { store, resolved, vault } = options;
  const reveal = async <T>(value: T, path: string): Promise<T> =>
    vault ? (await revealValue(value, vault, path)).value : value;
  let profile: Profile | null = null;
  if (resolved.person) {
    const read = await readProfile(store, resolved.person, {
      personal: true,
      personalFields: options.personalFields,
      recentEvents: 0,
      consentDefaults: options.consentDefaults,
    });
    profile = { ...read, traits: await reveal(read.traits, 'traits') };
  }
  const keys = eventKeysOf({
    personId: '',
    seq: 0,
    firstSeenAt: '',
    mergedInto: null,
    identifiers: resolved.identifiers,
  });
  const stored = await store.profiles.events(keys, { limit: MAX_EVENTS, order: 'oldest' });
  const events: Record<string, unknown>[] = [];
  for (const event of stored) {
    const message = {
      traits: event.traits,
      properties: event.properties,
      context: { traits: event.contextTraits },
    };
    const revealed = vault ? (await revealMessage(message, vault)).value : message;
    events.push({
      messageId: event.messageId,
      type: event.type,
      event: event.event,
      name: event.name,
      userId: event.userId,
      anonymousId: event.anonymousId,
      timestamp: event.timestamp,
      source: event.source,
      properties: revealed.properties,
      traits: revealed.traits,
      contextTraits: (revealed.context as { traits?: unknown }).traits ?? null,
    });
  }
  const records = await store.privacy.personRecords(options.target);
  const quarantined: Record<string, unknown>[] = [];
  for (const row of records.quarantined) {
    const payload = row.payload as Record<string, unknown> | null;
    quarantined.push({
      ...row,
      payload: payload && vault ? (await revealMessage(payload, vault)).value : payload,
    });
  }
  return {
    request: options.request,
    generatedAt: options.now.toISOString(),
    personId: resolved.person?.personId ?? null,
    profile,
    events,
    consents: records.consents,
    quarantined,
    merges: records.merges,
    customers: await revealImportedRecords(records.customers, 'traits', vault),
    orders: await revealImportedRecords(records.orders, 'properties', vault),
    requests: options.requests,
  };
}

/** One part of a bundle as rows, for CSV. */
export function bundlePartRows(bundle: AccessBundle, part: BundlePart): Record<string, unknown>[] {
  switch (part) {
    case 'profile': {
      const profile = bundle.profile;
      if (!profile) return [];
      return Object.keys(profile.traits)
        .sort()
        .map((name) => ({
          trait: name,
          value: profile.traits[name],
          updatedAt: profile.traitsUpdatedAt[name] ?? null,
        }));
    }
    case 'identities':
      return (bundle.profile?.identities ?? []).map((identity) => ({
        type: identity.type,
        value: identity.value,
      }));
    case 'requests':
      return bundle.requests.map((request) => ({ ...request }));
    default:
      return bundle[part].map((row) => ({ ...row }));
  }
}

export function parseBundlePart(value: unknown): BundlePart {
  if (typeof value === 'string' && (BUNDLE_PARTS as readonly string[]).includes(value))
    return value as BundlePart;
  throw new RefineryError('REFINERY_ERR_INVALID_FIELD', `part must be one of ${BUNDLE_PARTS.join(', ')}.`, {
    field: 'part',
  });
}

/**
 * One part of a bundle as an RFC 4180 CSV document (CRLF line ends), through the formula-safe writer: event
 * names, ids and traits come from clients, and the person or their agent opens the file in a spreadsheet.
 */
export function toCsv(rows: readonly Record<string, unknown>[]): string {
  return csvDocument(rows);
}

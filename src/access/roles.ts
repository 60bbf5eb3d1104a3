import { API_KEY_KINDS, type ApiKeyKind } from '../store/store.js';

/**
 * What a request may need, with what it covers. Every API route declares exactly one; a key may use the
 * route when its kind (its role) holds that permission. `docs/roles.md` shows the table below.
 */
export const PERMISSION_SUMMARIES = Object.freeze({
  collect: "send events for the key's source (the Segment-compatible collection API)",
  'read:analytics':
    'aggregates and metadata without personal data: counts, timelines, sources, contracts, violation statistics',
  'read:profiles':
    'look up profiles by person, user or anonymous id, with personal fields masked unless the key also holds read:personal',
  'read:events': 'individual events (recent, tail, rejects), which carry user ids and payloads',
  'read:personal':
    'personal fields and payloads: unmasked profiles, lookups and searches by email, phone or other personal identifiers, quarantined payloads and their export',
  query: 'read-only SQL over the public relations, which hold personal columns',
  'manage:data': 'change data: imports, quarantine replays and discards, contract reloads',
  'manage:keys': 'create, list and revoke keys',
  'privacy:requests': 'data subject rights requests and the consent API',
  'audit:read': 'read the audit log',
} as const);

export type Permission = keyof typeof PERMISSION_SUMMARIES;

export const PERMISSIONS = Object.freeze(Object.keys(PERMISSION_SUMMARIES) as Permission[]);

/**
 * The role → permissions table: the one place access is decided. A key's kind is its role; the local CLI's
 * in-memory token counts as an admin key.
 *
 * `query` goes with `read:personal`: SQL can name `customers.email` or `events.traits`, so a role that must
 * not see personal fields (analyst, read) cannot have it until the store offers relations without them.
 */
export const ROLE_PERMISSIONS: { readonly [Kind in ApiKeyKind]: readonly Permission[] } = Object.freeze({
  write: Object.freeze(['collect'] as const),
  admin: Object.freeze([
    'read:analytics',
    'read:profiles',
    'read:events',
    'read:personal',
    'query',
    'manage:data',
    'manage:keys',
    'privacy:requests',
    'audit:read',
  ] as const),
  analyst: Object.freeze(['read:analytics', 'read:profiles'] as const),
  privacy: Object.freeze([
    'read:analytics',
    'read:profiles',
    'read:events',
    'read:personal',
    'query',
    'privacy:requests',
    'audit:read',
  ] as const),
  read: Object.freeze(['read:analytics'] as const),
});

// Kinds arrive from the store as plain strings: a Map lookup cannot hit `constructor` or another prototype key.
const GRANTS = new Map<string, ReadonlySet<Permission>>(
  API_KEY_KINDS.map((kind) => [kind, new Set(ROLE_PERMISSIONS[kind])]),
);

/** Whether a key of this kind holds the permission. An unknown kind holds nothing. */
export function can(kind: ApiKeyKind | string, permission: Permission): boolean {
  return GRANTS.get(kind)?.has(permission) ?? false;
}

/** Whether a key of this kind sees personal fields unmasked (`read:personal`). */
export function seesPersonalData(kind: ApiKeyKind | string): boolean {
  return can(kind, 'read:personal');
}

/** The kinds holding a permission, in `API_KEY_KINDS` order: `rolesWith('query')` → `['admin', 'privacy']`. */
export function rolesWith(permission: Permission): ApiKeyKind[] {
  return API_KEY_KINDS.filter((kind) => can(kind, permission));
}

export function isPermission(value: unknown): value is Permission {
  return typeof value === 'string' && (PERMISSIONS as readonly string[]).includes(value);
}

/** One line per kind, for help texts. */
export const KIND_SUMMARIES: { readonly [Kind in ApiKeyKind]: string } = Object.freeze({
  write: 'sends events for one source, nothing else',
  admin: 'everything but collecting',
  analyst: 'analytics and profiles with personal fields masked',
  privacy: 'privacy officer: personal data, rights requests, consent, audit',
  read: 'read-only analytics for dashboards and scripts, no personal data',
});

import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { RefineryError } from '../core/errors.js';
import { API_KEY_KINDS, type ApiKeyKind, type ApiKeyRow, type Store } from '../store/store.js';

export interface CreatedKey {
  /** The key itself. Only its hash is stored: this is the one time it can be shown. */
  readonly key: string;
  readonly row: ApiKeyRow;
}

/** Keys are 32 random bytes, so one unsalted SHA-256 is enough to make the stored hash useless to a thief. */
export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function isApiKeyKind(value: unknown): value is ApiKeyKind {
  return typeof value === 'string' && (API_KEY_KINDS as readonly string[]).includes(value);
}

/** A key kind from a request, or a 400 naming the field and the kinds there are. */
export function parseApiKeyKind(value: unknown, field = 'kind'): ApiKeyKind {
  if (isApiKeyKind(value)) return value;
  const message = `${field} must be one of ${API_KEY_KINDS.join(', ')}.`;
  throw new RefineryError('REFINERY_ERR_INVALID_FIELD', message, { field });
}

/** Creates a key of any kind (`rk_<kind>_…`); a write key belongs to a source. */
export async function createApiKey(
  store: Store,
  request: { kind: ApiKeyKind; name?: string; source?: string | null; now?: Date },
): Promise<CreatedKey> {
  if (request.kind === 'write' && !request.source) {
    throw new RefineryError('REFINERY_ERR_MISSING_FIELD', 'A write key belongs to a source: pass its name.', {
      field: 'source',
    });
  }
  const key = `rk_${request.kind}_${randomBytes(32).toString('base64url')}`;
  const row: ApiKeyRow = {
    id: randomUUID(),
    kind: request.kind,
    name: request.name ?? `${request.kind} key`,
    source: request.kind === 'write' ? (request.source ?? null) : null,
    hash: hashKey(key),
    prefix: key.slice(0, 14),
    createdAt: (request.now ?? new Date()).toISOString(),
    revokedAt: null,
  };
  await store.keys.insert(row);
  return { key, row };
}

/** Public view of a key row: never the hash. */
export function describeKey(row: ApiKeyRow): Omit<ApiKeyRow, 'hash'> {
  const { hash: _hash, ...rest } = row;
  return rest;
}

/**
 * Looks keys up by hash with a short-lived cache, since every collected request carries one.
 * Revocation through this object takes effect at once; from another process within `ttlMs`.
 */
export class KeyRing {
  private readonly cache = new Map<string, { row: ApiKeyRow | undefined; until: number }>();
  private readonly extraAdminHashes = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly ttlMs = 5000,
  ) {}

  /** Accepts an extra admin key held only in memory (the local CLI's token in data/server.json). */
  trustAdminKey(key: string): void {
    this.extraAdminHashes.add(hashKey(key));
  }

  async find(key: string, now = Date.now()): Promise<ApiKeyRow | undefined> {
    const hash = hashKey(key);
    if (this.extraAdminHashes.has(hash)) return LOCAL_ADMIN;
    const cached = this.cache.get(hash);
    if (cached && cached.until > now) return cached.row;
    const row = await this.store.keys.findByHash(hash);
    const live = row && !row.revokedAt ? row : undefined;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(hash, { row: live, until: now + this.ttlMs });
    return live;
  }

  async revoke(id: string, now = new Date()): Promise<boolean> {
    const revoked = await this.store.keys.revoke(id, now);
    this.cache.clear();
    return revoked;
  }
}

/**
 * The id of the server's local admin token (data/server.json). Whoever can read that file holds it, so it is
 * not named after the CLI: the server names the OS user and process that used it (src/server/local-peer.ts).
 */
export const LOCAL_ADMIN_KEY_ID = 'local-token';

const LOCAL_ADMIN: ApiKeyRow = {
  id: LOCAL_ADMIN_KEY_ID,
  kind: 'admin',
  name: 'local admin token',
  source: null,
  hash: '',
  prefix: 'local',
  createdAt: new Date(0).toISOString(),
  revokedAt: null,
};

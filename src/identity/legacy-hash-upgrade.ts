import type { Store } from '../store/store.js';
import type { IdentifierHasher } from './identifier-hashing.js';

/** The metadata entry that says a workspace's stored hashes are keyed; its value names the scheme. */
export const IDENTIFIER_HASHES_METADATA_KEY = 'identifier_hashes';
export const KEYED_IDENTIFIER_HASHES = 'hmac-sha256-v1';

export interface LegacyHashUpgrade {
  /** Rows of identity tables and observations rewritten. */
  readonly identityRows: number;
  /** Privacy requests whose subject hashes were rewritten. */
  readonly requests: number;
}

/**
 * Keys, in place, the hashes a workspace stored before hashes were keyed: emails and phones in the identity graph
 * and its observations (plain SHA-256 hex of the normalised value), and the subject hashes of privacy requests
 * (plain SHA-256 of `type:value`). No clear value is needed: the keyed forms are HMACs of those digests. Returns
 * undefined when the workspace was upgraded before (recorded in metadata), so a process opening it pays one
 * metadata read. The suppression list upgrades itself when opened.
 *
 * Run it after loading what the write-ahead log still holds from an older version (its identity lines carry the
 * plain form) and before anything looks people up; identity resolution also keys any plain value it reads, so a
 * line loaded later still joins the right person.
 *
 * @example await upgradeLegacyIdentifierHashes(store, privacy.identifiers)
 */
export async function upgradeLegacyIdentifierHashes(
  store: Store,
  hasher: IdentifierHasher,
): Promise<LegacyHashUpgrade | undefined> {
  if ((await store.metadata.get(IDENTIFIER_HASHES_METADATA_KEY)) === KEYED_IDENTIFIER_HASHES)
    return undefined;
  const requests = await store.privacy.upgradeLegacySubjectHashes((hash) => hasher.indexFromDigest(hash));
  const identityRows = await store.identity.upgradeLegacyIdentifiers((identifier) =>
    hasher.upgrade(identifier),
  );
  await store.metadata.set(IDENTIFIER_HASHES_METADATA_KEY, KEYED_IDENTIFIER_HASHES);
  return { identityRows, requests };
}

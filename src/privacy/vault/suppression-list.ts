import { join } from 'node:path';
import { RefineryError } from '../../core/errors.js';
import { isJsonObject } from '../../core/json-object.js';
import { type IdentityMessage, readId } from '../../identity/identifier-extraction.js';
import { type IdentifierHasher, isKeyedHash, isPlainDigest } from '../../identity/identifier-hashing.js';
import type { Identifier } from '../../identity/identity-rules.js';
import { DurableNdjsonFile } from './durable-ndjson-file.js';
import { VAULT_ERROR_CODES } from './vault-errors.js';

/** The parts of a Segment message the suppression check reads: the ones identity extraction reads. */
export type SuppressibleMessage = IdentityMessage;

export interface SuppressionListOptions {
  /** The workspace's data folder; the list lives in `<dataDir>/vault/suppressed.ndjson`. */
  readonly dataDir: string;
  /** The workspace's identifier hasher: entries are its keyed index of each identifier. */
  readonly hasher: IdentifierHasher;
  /** The clock for `suppressedAt`; tests pin it. */
  readonly now?: () => number;
}

/** The suppression file's place in a workspace's data folder. */
export function suppressionListPath(dataDir: string): string {
  return join(dataDir, 'vault', 'suppressed.ndjson');
}

/**
 * The identifiers of erased people, so that the same ids arriving later are dropped at the collector. Only keyed
 * hashes are kept (`IdentifierHasher.index`: no one without the master key can test an id or an address against
 * them), in `<dataDir>/vault/suppressed.ndjson` (one durable line per identifier) and in memory.
 *
 * A list written before hashes were keyed held plain SHA-256 of `type:value`; opening it keys those entries in
 * place (marked `upgraded`). An email or phone entry then named the plain digest of the address, which no keyed
 * value matches, so while upgraded entries exist a message's email and phone are also checked in that form.
 */
export class SuppressionList {
  private readonly hashes = new Set<string>();
  /** Entries keyed from a plain hash on open: emails and phones need their upgraded form checked too. */
  private upgradedEntries = 0;

  private constructor(
    private readonly file: DurableNdjsonFile,
    private readonly hasher: IdentifierHasher,
    private readonly now: () => number,
  ) {}

  static async open(options: SuppressionListOptions): Promise<SuppressionList> {
    const { file, lines } = await DurableNdjsonFile.open(suppressionListPath(options.dataDir));
    const list = new SuppressionList(file, options.hasher, options.now ?? Date.now);
    try {
      let entries = lines.map((line, index) => parseEntry(line, file.path, index + 1));
      if (entries.some((entry) => isPlainDigest(entry.hash))) {
        await file.transform((line) => upgradedLine(line, options.hasher));
        entries = entries.map((entry) => upgradedEntry(entry, options.hasher));
      }
      for (const entry of entries) {
        list.hashes.add(entry.hash);
        if (entry.upgraded) list.upgradedEntries++;
      }
    } catch (error) {
      await file.close();
      throw error;
    }
    return list;
  }

  /** How many identifiers are suppressed. */
  get size(): number {
    return this.hashes.size;
  }

  /** True when this identifier (as the identity graph holds it) is suppressed. */
  has(identifier: Identifier): boolean {
    return this.hashes.has(this.hasher.index(identifier));
  }

  /**
   * Suppresses identifiers of an erased person; resolves once they are on disk. Returns how many were new.
   *
   * @example await list.suppress([{ type: 'user_id', value: 'u42' }, { type: 'email', value: hasher.email(email)! }])
   */
  async suppress(identifiers: readonly Identifier[]): Promise<number> {
    const suppressedAt = new Date(this.now()).toISOString();
    const added = [...new Set(identifiers.map((identifier) => this.hasher.index(identifier)))].filter(
      (entry) => !this.hashes.has(entry),
    );
    await Promise.all(added.map((entry) => this.file.append(JSON.stringify({ hash: entry, suppressedAt }))));
    for (const entry of added) this.hashes.add(entry);
    return added.length;
  }

  /**
   * True when the message names a suppressed identifier: its userId, anonymousId, an alias's previousId, or
   * the email or phone in its traits (identify) or context.traits. Run it before personal fields are sealed.
   * Costs nothing while the list is empty, and one hash per identifier the message carries otherwise.
   */
  isSuppressed(message: SuppressibleMessage): boolean {
    if (this.hashes.size === 0) return false;
    const userId = readId(message.userId);
    if (userId !== undefined && this.has({ type: 'user_id', value: userId })) return true;
    const anonymousId = readId(message.anonymousId);
    if (anonymousId !== undefined && this.has({ type: 'anonymous_id', value: anonymousId })) return true;
    const previousId = readId(message.previousId);
    if (
      previousId !== undefined &&
      (this.has({ type: 'user_id', value: previousId }) ||
        this.has({ type: 'anonymous_id', value: previousId }))
    ) {
      return true;
    }
    // A group call's traits describe the group, not the person (as in identity extraction).
    const traits = message.type === 'group' ? undefined : message.traits;
    const context = isJsonObject(message.context) ? message.context : undefined;
    return this.namesSuppressedContact(traits) || this.namesSuppressedContact(context?.traits);
  }

  /** Waits for pending writes and closes the file. */
  close(): Promise<void> {
    return this.file.close();
  }

  private namesSuppressedContact(traits: unknown): boolean {
    if (!isJsonObject(traits)) return false;
    for (const type of ['email', 'phone'] as const) {
      const raw = traits[type];
      if (raw === undefined) continue;
      const value = type === 'email' ? this.hasher.email(raw) : this.hasher.phone(raw);
      if (value === undefined) continue;
      if (this.has({ type, value })) return true;
      const upgraded = this.upgradedEntries > 0 ? this.hasher.upgradedIndexOf(type, raw) : undefined;
      if (upgraded !== undefined && this.hashes.has(upgraded)) return true;
    }
    return false;
  }
}

interface Entry {
  readonly hash: string;
  readonly suppressedAt?: unknown;
  /** Keyed from a plain SHA-256 entry when the list was opened with keys for the first time. */
  readonly upgraded?: true;
}

function upgradedEntry(entry: Entry, hasher: IdentifierHasher): Entry {
  return isPlainDigest(entry.hash)
    ? { hash: hasher.indexFromDigest(entry.hash), suppressedAt: entry.suppressedAt, upgraded: true }
    : entry;
}

function upgradedLine(line: string, hasher: IdentifierHasher): string {
  const entry = parseEntry(line, '', 0);
  return isPlainDigest(entry.hash) ? JSON.stringify(upgradedEntry(entry, hasher)) : line;
}

function parseEntry(line: string, file: string, lineNumber: number): Entry {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    value = undefined;
  }
  if (
    isJsonObject(value) &&
    typeof value.hash === 'string' &&
    (isKeyedHash(value.hash) || isPlainDigest(value.hash))
  ) {
    return {
      hash: value.hash,
      suppressedAt: value.suppressedAt,
      ...(value.upgraded === true ? { upgraded: true as const } : {}),
    };
  }
  throw new RefineryError(
    VAULT_ERROR_CODES.vaultCorrupt,
    `${file} has a damaged entry on line ${lineNumber}; restore the file from a backup.`,
    { file, line: lineNumber },
  );
}

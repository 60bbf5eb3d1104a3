import { hash } from 'node:crypto';
import { join } from 'node:path';
import { RefineryError } from '../../core/errors.js';
import { isJsonObject } from '../../core/json-object.js';
import { hashEmail, hashPhone, type IdentityMessage, readId } from '../../identity/identifier-extraction.js';
import type { Identifier } from '../../identity/identity-rules.js';
import { DurableNdjsonFile } from './durable-ndjson-file.js';
import { VAULT_ERROR_CODES } from './vault-errors.js';

/** The parts of a Segment message the suppression check reads: the ones identity extraction reads. */
export type SuppressibleMessage = IdentityMessage;

export interface SuppressionListOptions {
  /** The workspace's data folder; the list lives in `<dataDir>/vault/suppressed.ndjson`. */
  readonly dataDir: string;
  /** The clock for `suppressedAt`; tests pin it. */
  readonly now?: () => number;
}

/** The suppression file's place in a workspace's data folder. */
export function suppressionListPath(dataDir: string): string {
  return join(dataDir, 'vault', 'suppressed.ndjson');
}

/**
 * The hash an identifier is suppressed by: SHA-256 hex of `type:value`. Identifiers are those of the identity
 * graph, so an email or phone is already the identity module's hash of its normalised form (`hashEmail`).
 *
 * @example suppressionHash({ type: 'email', value: hashEmail('Ada@Example.com')! })
 */
export function suppressionHash(identifier: Identifier): string {
  return hash('sha256', `${identifier.type}:${identifier.value}`, 'hex');
}

/**
 * The identifiers of erased people, so that the same ids arriving later are dropped at the collector. Only
 * hashes are kept, in `<dataDir>/vault/suppressed.ndjson` (one durable line per identifier) and in memory.
 */
export class SuppressionList {
  private readonly hashes = new Set<string>();

  private constructor(
    private readonly file: DurableNdjsonFile,
    private readonly now: () => number,
  ) {}

  static async open(options: SuppressionListOptions): Promise<SuppressionList> {
    const { file, lines } = await DurableNdjsonFile.open(suppressionListPath(options.dataDir));
    const list = new SuppressionList(file, options.now ?? Date.now);
    try {
      lines.forEach((line, index) => {
        list.hashes.add(parseEntry(line, file.path, index + 1));
      });
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
    return this.hashes.has(suppressionHash(identifier));
  }

  /**
   * Suppresses identifiers of an erased person; resolves once they are on disk. Returns how many were new.
   *
   * @example await list.suppress([{ type: 'user_id', value: 'u42' }, { type: 'email', value: hashEmail(email)! }])
   */
  async suppress(identifiers: readonly Identifier[]): Promise<number> {
    const suppressedAt = new Date(this.now()).toISOString();
    const added = [...new Set(identifiers.map(suppressionHash))].filter((entry) => !this.hashes.has(entry));
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
    if (userId !== undefined && this.hashes.has(suppressionHash({ type: 'user_id', value: userId })))
      return true;
    const anonymousId = readId(message.anonymousId);
    if (
      anonymousId !== undefined &&
      this.hashes.has(suppressionHash({ type: 'anonymous_id', value: anonymousId }))
    )
      return true;
    const previousId = readId(message.previousId);
    if (
      previousId !== undefined &&
      (this.hashes.has(suppressionHash({ type: 'user_id', value: previousId })) ||
        this.hashes.has(suppressionHash({ type: 'anonymous_id', value: previousId })))
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
    const email = traits.email === undefined ? undefined : hashEmail(traits.email);
    if (email !== undefined && this.hashes.has(suppressionHash({ type: 'email', value: email }))) return true;
    const phone = traits.phone === undefined ? undefined : hashPhone(traits.phone);
    return phone !== undefined && this.hashes.has(suppressionHash({ type: 'phone', value: phone }));
  }
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

function parseEntry(line: string, file: string, lineNumber: number): string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    value = undefined;
  }
  if (isJsonObject(value) && typeof value.hash === 'string' && SHA256_HEX.test(value.hash)) return value.hash;
  throw new RefineryError(
    VAULT_ERROR_CODES.vaultCorrupt,
    `${file} has a damaged entry on line ${lineNumber}; restore the file from a backup.`,
    { file, line: lineNumber },
  );
}

import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { RefineryError } from '../../core/errors.js';
import { isJsonObject } from '../../core/json-object.js';
import { deriveKey } from './derived-keys.js';
import { DurableNdjsonFile } from './durable-ndjson-file.js';
import { KEY_ID_LENGTH, type KeyLookup, type SubjectKey } from './field-envelope.js';
import { MASTER_KEY_BYTES } from './master-key.js';
import { VAULT_ERROR_CODES } from './vault-errors.js';

/**
 * Whose key encrypts a message's personal fields. Identity resolution runs after collection, so the key unit is
 * the message's subject: its `userId` when present, else its `anonymousId`. A person, once resolved, owns the
 * keys of all their subjects.
 */
export interface Subject {
  readonly type: 'user_id' | 'anonymous_id';
  readonly value: string;
}

export interface SubjectKeyVaultOptions {
  /** The workspace's data folder; keys live in `<dataDir>/vault/keys.ndjson`. */
  readonly dataDir: string;
  /** The 32-byte workspace master key (`loadMasterKey`). */
  readonly masterKey: Buffer;
  /** The clock for `createdAt`; tests pin it. */
  readonly now?: () => number;
}

/** One line of the key file. No clear id and no clear key: the subject is an HMAC, the key is wrapped. */
interface KeyRecord {
  readonly keyId: string;
  /** HMAC-SHA-256 hex of `type:value` under a key derived from the master key. */
  readonly subject: string;
  /** base64 of iv | AES-256-GCM(data key) | tag under the wrapping key, with the key id as additional data. */
  readonly wrapped: string;
  readonly createdAt: string;
}

interface StoredKey extends SubjectKey {
  readonly subject: string;
}

/** The key file's place in a workspace's data folder. */
export function vaultKeysPath(dataDir: string): string {
  return join(dataDir, 'vault', 'keys.ndjson');
}

/**
 * Per-subject AES-256 data keys for crypto-shredding. Keys are created on first need, durable before anyone can
 * encrypt with them, kept wrapped under the master key in `<dataDir>/vault/keys.ndjson` and held unwrapped in
 * memory. `shred` destroys every key of the given subjects, after which everything sealed with them is
 * unreadable wherever its copies are: write-ahead log, store, compressed parts, backups.
 */
export class SubjectKeyVault implements KeyLookup {
  private readonly byId = new Map<string, StoredKey>();
  /** Subject index → the key new envelopes use (the newest of the subject's keys). */
  private readonly current = new Map<string, StoredKey>();
  private readonly creating = new Map<string, Promise<SubjectKey>>();
  /** `type:value` → subject index, so a subject seen again costs a map lookup rather than an HMAC. */
  private readonly indexCache = new Map<string, string>();
  private readonly wrappingKey: Buffer;
  private readonly indexKey: Buffer;
  private readonly now: () => number;

  private constructor(
    private readonly file: DurableNdjsonFile,
    masterKey: Buffer,
    now: () => number,
  ) {
    // Separate keys for separate jobs, both derived from the one master key.
    this.wrappingKey = deriveKey(masterKey, 'keyWrapping');
    this.indexKey = deriveKey(masterKey, 'subjectIndex');
    this.now = now;
  }

  /** Opens (or creates) the vault of a data folder and loads every key; refuses a file it cannot fully read. */
  static async open(options: SubjectKeyVaultOptions): Promise<SubjectKeyVault> {
    if (options.masterKey.length !== MASTER_KEY_BYTES) {
      throw new RefineryError(
        VAULT_ERROR_CODES.masterKeyInvalid,
        `The master key must be ${MASTER_KEY_BYTES} bytes.`,
      );
    }
    const { file, lines } = await DurableNdjsonFile.open(vaultKeysPath(options.dataDir));
    const vault = new SubjectKeyVault(file, options.masterKey, options.now ?? Date.now);
    try {
      vault.load(lines);
    } catch (error) {
      await file.close();
      throw error;
    }
    return vault;
  }

  /** How many keys the vault holds. */
  get size(): number {
    return this.byId.size;
  }

  /**
   * The subject's current key, created when it has none. A new key is on disk before the promise resolves, and
   * concurrent calls for one new subject share one key.
   */
  keyFor(subject: Subject): Promise<SubjectKey> {
    const index = this.subjectIndex(subject);
    const known = this.current.get(index);
    if (known) return Promise.resolve(known);
    let creating = this.creating.get(index);
    if (!creating) {
      creating = this.createKey(index).finally(() => this.creating.delete(index));
      this.creating.set(index, creating);
    }
    return creating;
  }

  /** A key by its id, or undefined when it was shredded (or never existed). */
  keyById(keyId: string): SubjectKey | undefined {
    return this.byId.get(keyId);
  }

  /** True when `keyId` names one of the subject's keys. */
  isKeyOf(keyId: string, subject: Subject): boolean {
    const key = this.byId.get(keyId);
    return key !== undefined && key.subject === this.subjectIndex(subject);
  }

  /**
   * Destroys every key of these subjects, on disk (the key file is rewritten without them) and in memory, and
   * returns how many keys were destroyed. Waits for keys of these subjects still being created, so none survives.
   */
  async shred(subjects: readonly Subject[]): Promise<number> {
    const indexes = new Set(subjects.map((subject) => this.subjectIndex(subject)));
    await Promise.allSettled([...indexes].map((index) => this.creating.get(index)));
    const removedLines = await this.file.rewrite(
      (line) => !indexes.has(parseRecord(line, this.file.path).subject),
    );
    const destroyed = new Set(removedLines.map((line) => parseRecord(line, this.file.path).keyId));
    for (const keyId of destroyed) this.byId.delete(keyId);
    for (const index of indexes) {
      // A key created while the file was being rewritten is on disk and stays; only forget what was destroyed.
      const current = this.current.get(index);
      if (current && destroyed.has(current.keyId)) this.current.delete(index);
    }
    return destroyed.size;
  }

  /**
   * Re-reads the key file when another process changed it: keys it appended become known, keys it shredded are
   * forgotten. Returns true when anything was re-read.
   */
  async refresh(): Promise<boolean> {
    const lines = await this.file.readIfChanged();
    if (!lines) return false;
    const previous = new Map(this.byId);
    this.byId.clear();
    this.current.clear();
    this.load(lines, previous);
    return true;
  }

  /** Waits for pending writes and closes the key file. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.creating.values()]);
    await this.file.close();
  }

  private async createKey(index: string): Promise<SubjectKey> {
    const keyId = randomBytes(16).toString('base64url');
    const key = randomBytes(32);
    const record: KeyRecord = {
      keyId,
      subject: index,
      wrapped: this.wrap(keyId, key),
      createdAt: new Date(this.now()).toISOString(),
    };
    await this.file.append(JSON.stringify(record));
    const stored: StoredKey = { keyId, key, subject: index };
    this.byId.set(keyId, stored);
    this.current.set(index, stored);
    return stored;
  }

  private load(lines: readonly string[], known?: ReadonlyMap<string, StoredKey>): void {
    lines.forEach((line, position) => {
      const record = parseRecord(line, this.file.path, position + 1);
      const stored = known?.get(record.keyId) ?? {
        keyId: record.keyId,
        key: this.unwrap(record, position + 1),
        subject: record.subject,
      };
      this.byId.set(record.keyId, stored);
      this.current.set(record.subject, stored);
    });
  }

  private subjectIndex(subject: Subject): string {
    const name = `${subject.type}:${subject.value}`;
    let index = this.indexCache.get(name);
    if (index === undefined) {
      index = createHmac('sha256', this.indexKey).update(name, 'utf8').digest('hex');
      if (this.indexCache.size >= INDEX_CACHE_SIZE) this.indexCache.clear();
      this.indexCache.set(name, index);
    }
    return index;
  }

  private wrap(keyId: string, key: Buffer): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.wrappingKey, iv);
    cipher.setAAD(Buffer.from(keyId, 'utf8'));
    const sealed = Buffer.concat([iv, cipher.update(key), cipher.final(), cipher.getAuthTag()]);
    return sealed.toString('base64');
  }

  private unwrap(record: KeyRecord, line: number): Buffer {
    const sealed = Buffer.from(record.wrapped, 'base64');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.wrappingKey, sealed.subarray(0, 12));
      decipher.setAAD(Buffer.from(record.keyId, 'utf8'));
      decipher.setAuthTag(sealed.subarray(sealed.length - 16));
      const key = Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()]);
      if (key.length !== 32) throw new Error(`the key is ${key.length} bytes`);
      return key;
    } catch (cause) {
      throw new RefineryError(
        VAULT_ERROR_CODES.vaultCorrupt,
        `Key ${record.keyId} on line ${line} of ${this.file.path} does not open with this master key. Is ` +
          'REFINERY_MASTER_KEY (or data/secrets/master.key) the key this vault was created with?',
        { file: this.file.path, line },
        { cause },
      );
    }
  }
}

const INDEX_CACHE_SIZE = 100_000;
const SUBJECT_INDEX = /^[0-9a-f]{64}$/;
const KEY_ID = new RegExp(`^[A-Za-z0-9_-]{${KEY_ID_LENGTH}}$`);
const WRAPPED = /^[A-Za-z0-9+/]+={0,2}$/;

function parseRecord(line: string, file: string, lineNumber?: number): KeyRecord {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    value = undefined;
  }
  if (
    isJsonObject(value) &&
    typeof value.keyId === 'string' &&
    KEY_ID.test(value.keyId) &&
    typeof value.subject === 'string' &&
    SUBJECT_INDEX.test(value.subject) &&
    typeof value.wrapped === 'string' &&
    WRAPPED.test(value.wrapped) &&
    typeof value.createdAt === 'string'
  ) {
    return { keyId: value.keyId, subject: value.subject, wrapped: value.wrapped, createdAt: value.createdAt };
  }
  const where = lineNumber === undefined ? '' : ` on line ${lineNumber}`;
  throw new RefineryError(
    VAULT_ERROR_CODES.vaultCorrupt,
    `${file} has a damaged key record${where}; restore the file from a backup.`,
    { file, ...(lineNumber === undefined ? {} : { line: lineNumber }) },
  );
}

/** What a data subject asked for. */
export const PRIVACY_REQUEST_KINDS = ['access', 'erase', 'object'] as const;
export type PrivacyRequestKind = (typeof PRIVACY_REQUEST_KINDS)[number];

export const PRIVACY_REQUEST_STATUSES = ['open', 'done', 'refused'] as const;
export type PrivacyRequestStatus = (typeof PRIVACY_REQUEST_STATUSES)[number];

/**
 * One data-subject request as stored. The subject is kept only as keyed hashes of the identifiers the request
 * named (as the suppression list keeps them) and a masked display form, so the request
 * survives the erasure it asks for without holding the ids it erased.
 */
export interface PrivacyRequestRow {
  readonly id: string;
  readonly kind: PrivacyRequestKind;
  /** Masked, for people: `user_id:al…42`. */
  readonly subject: string;
  /** The workspace's keyed hash of each identifier the request named (`IdentifierHasher.index`). */
  readonly subjectHashes: readonly string[];
  readonly personId: string | null;
  readonly purpose: string | null;
  readonly status: PrivacyRequestStatus;
  /** ISO 8601. */
  readonly receivedAt: string;
  readonly dueAt: string;
  readonly completedAt: string | null;
  readonly actor: string;
  readonly result: Record<string, unknown> | null;
}

/**
 * Whom an erasure removes, as the identity graph knows them. Values are clear ids (user and anonymous ids) or
 * the graph's hashes (email, phone): they are compared inside the store and never written into SQL text on
 * engines that log queries.
 */
export interface ErasureTarget {
  /** The live person and every person merged into it. */
  readonly personIds: readonly string[];
  readonly userIds: readonly string[];
  readonly anonymousIds: readonly string[];
  /** Every identifier of the person as `type:value` keys (`email:h1:…`, `user_id:42`, …). */
  readonly identifierKeys: readonly string[];
  /** The person's emails and phones as the identity graph holds them (keyed hashes). */
  readonly emailHashes: readonly string[];
  readonly phoneHashes: readonly string[];
  /**
   * Plain SHA-256 hex of the normalised emails known in clear (named by the request or read from the person's
   * events), to find rows that hold an address in clear (`customers.email`). Compared inside the store, never
   * stored.
   */
  readonly emailDigests: readonly string[];
  /**
   * Clear strings to look for inside raw payload text (rejected events, held events, import rejects): the user
   * and anonymous ids, and emails when the caller knows them in clear.
   */
  readonly needles: readonly string[];
}

/** What an erasure removed, per table, and what it did to make the removal physical. */
export interface ErasureReport {
  /** Rows deleted (or masked) per physical table; tables with none are left out. */
  readonly deleted: Readonly<Record<string, number>>;
  readonly physical: PhysicalErasure;
}

export type PhysicalErasure =
  | {
      readonly engine: 'duckdb';
      /** Tables rewritten so no live block holds a deleted row. */
      readonly rewrittenTables: readonly string[];
      /** Free blocks overwritten with random bytes after the checkpoint. */
      readonly overwrittenBlocks: number;
    }
  | {
      readonly engine: 'clickhouse';
      /** Tables whose parts were rewritten by mutations and merged with OPTIMIZE … FINAL. */
      readonly optimizedTables: readonly string[];
      /** Inactive parts (old copies) still on disk when the erasure returned; ClickHouse removes them later. */
      readonly inactivePartsLeft: number;
      /** How long the erasure waited for ClickHouse to remove old parts. */
      readonly waitedMs: number;
    };

export interface ErasureOptions {
  /** ClickHouse: wait at most this long for old parts to be removed from disk (default 0: do not wait). */
  readonly waitForCleanupMs?: number;
}

/** What the store holds about a person beyond events and the profile, for the access bundle. */
export interface PersonRecords {
  readonly quarantined: readonly Record<string, unknown>[];
  readonly merges: readonly Record<string, unknown>[];
  /** Rows of `consent_log` naming the person's identifiers; empty where the table does not exist. */
  readonly consents: readonly Record<string, unknown>[];
  readonly customers: readonly Record<string, unknown>[];
  readonly orders: readonly Record<string, unknown>[];
}

export interface PrivacyRepository {
  insert(row: PrivacyRequestRow): Promise<void>;
  /** Replaces the request's status, completion time, person and result. */
  update(row: PrivacyRequestRow): Promise<void>;
  get(id: string): Promise<PrivacyRequestRow | undefined>;
  /** Open requests first by due date, then the rest newest first. */
  list(options: { status?: PrivacyRequestStatus; limit: number }): Promise<PrivacyRequestRow[]>;
  /** Requests whose subject hashes include one of these (the person's own requests, for the bundle). */
  listBySubject(hashes: readonly string[]): Promise<PrivacyRequestRow[]>;
  /** Everything else held about the person (payloads as stored; callers reveal envelopes). */
  personRecords(target: ErasureTarget): Promise<PersonRecords>;
  /**
   * Deletes every row about the person (events, rejects, held events and their violations, identity rows,
   * consent records, import rows, set-aside log lines naming them) and makes the deletion physical on disk.
   */
  erase(target: ErasureTarget, options?: ErasureOptions): Promise<ErasureReport>;
  /**
   * Rewrites the subject hashes requests stored before hashes were keyed (bare SHA-256 hex) with `upgrade`, and
   * returns how many requests changed. Running it again changes nothing.
   */
  upgradeLegacySubjectHashes(upgrade: (hash: string) => string): Promise<number>;
}

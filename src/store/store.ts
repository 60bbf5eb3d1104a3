import type { ConsentPurpose } from '../privacy/consent-purposes.js';
import type { ConsentRepository } from './consent-types.js';
import type { IdentityRepository } from './identity-types.js';
import type { ImportRepository } from './import-types.js';
import type { PrivacyRepository } from './privacy-types.js';
import type { ProfileRepository } from './profile-types.js';
import type { QueryResult } from './query-result.js';
import type { DamagedLineStatus, ParsedAgent, QuarantineStatus, StoredViolation } from './wal-format.js';

export type StoreEngine = 'duckdb' | 'clickhouse';

/** One sealed write-ahead-log segment handed to the store by the loader. */
export interface EventBatch {
  /** The collector whose log the segment comes from; each collector numbers its own segments. */
  readonly stream: string;
  /** Monotonic segment number; the store records the highest one loaded in the same transaction as the rows. */
  readonly sequence: number;
  /** NDJSON file of `WalRecord` lines. */
  readonly file: string;
  /** Events whose message_id was stored within this many hours are dropped as retries. 0 means forever. */
  readonly dedupeWindowHours: number;
  /**
   * Lines of the segment the loader set aside (they are not in `file`): recorded with the load, so they are
   * kept exactly once and the segment never fails for their sake.
   */
  readonly damaged?: readonly DamagedLineInput[];
}

/** A write-ahead-log line set aside by the loader, as handed to the store. */
export interface DamagedLineInput {
  /** 1-based line number in the original segment file. */
  readonly lineNo: number;
  /** `checksum_mismatch`, `invalid_utf8`, `lone_surrogate`, `not_json` or `engine_refused`. */
  readonly damage: string;
  readonly reason: string;
  /** The line's bytes exactly as found (without its newline). */
  readonly raw: Buffer;
}

/** A set-aside line as stored: where it came from, why, and what became of it. */
export interface DamagedLineRow {
  /** `<stream>.<sequence>.<line>`: stable, so a reloaded segment records the same line once. */
  readonly id: string;
  readonly stream: string;
  readonly sequence: number;
  readonly lineNo: number;
  readonly damage: string;
  readonly reason: string;
  /** Length of the raw line in bytes. */
  readonly bytes: number;
  readonly foundAt: string;
  readonly status: DamagedLineStatus;
  readonly statusAt: string | null;
  readonly statusBy: string | null;
  /** Present when asked for (`withRaw`): the line's bytes, base64. */
  readonly raw?: string;
}

export interface DamagedLineFilter {
  readonly status?: DamagedLineStatus;
  readonly ids?: readonly string[];
}

/** The stable id of a set-aside line. */
export function damagedLineId(stream: string, sequence: number, lineNo: number): string {
  return `${stream}.${sequence}.${lineNo}`;
}

export interface BatchLoadReport {
  readonly sequence: number;
  readonly inserted: number;
  readonly duplicates: number;
  readonly rejected: number;
  /** True when this sequence was already loaded (a replay after a crash): nothing was written. */
  readonly alreadyLoaded: boolean;
}

export interface TimelinePoint {
  readonly bucket: string;
  readonly type: string;
  readonly count: number;
}

export interface NamedCount {
  readonly name: string;
  readonly count: number;
}

export interface EventSummary {
  readonly messageId: string;
  readonly type: string;
  readonly event: string | null;
  readonly userId: string | null;
  readonly anonymousId: string | null;
  readonly source: string;
  readonly timestamp: string;
  readonly receivedAt: string;
  readonly loadSeq: number;
  readonly properties: unknown;
}

export interface EventRepository {
  loadBatch(batch: EventBatch): Promise<BatchLoadReport>;
  /** The highest WAL segment sequence of `stream` whose rows are in the store (0 when none). */
  lastLoadedSequence(stream: string): Promise<number>;
  count(): Promise<number>;
  countRejected(): Promise<number>;
  timeline(options: { interval: 'hour' | 'day'; from?: Date; to?: Date }): Promise<TimelinePoint[]>;
  countsByType(): Promise<NamedCount[]>;
  /** Most frequent calls by name: the event of a track, `page: <name>`/`screen: <name>`, else the type. */
  topEventNames(limit: number): Promise<NamedCount[]>;
  countsBySource(): Promise<NamedCount[]>;
  /** Newest events first; `afterLoadSeq` returns only rows loaded after that point (for a live tail). */
  recent(options: { limit: number; afterLoadSeq?: number }): Promise<EventSummary[]>;
  recentRejects(limit: number): Promise<Record<string, unknown>[]>;
  /**
   * Runs `loadBatch`'s reading and expansion of a segment without keeping anything, and throws what the engine
   * throws for its content. The loader uses it to find the line an engine refuses.
   */
  checkBatch(batch: EventBatch): Promise<void>;
  /** Write-ahead-log lines the loader set aside, oldest first. */
  listDamagedLines(
    filter: DamagedLineFilter,
    page: { readonly limit: number; readonly offset?: number; readonly withRaw?: boolean },
  ): Promise<DamagedLineRow[]>;
  countDamagedLines(): Promise<{ readonly status: DamagedLineStatus; readonly count: number }[]>;
}

/** Which quarantined events to list; every field narrows the selection. */
export interface QuarantineFilter {
  readonly status?: QuarantineStatus;
  readonly contract?: string;
  /** Track event name, or page/screen name. */
  readonly event?: string;
  readonly type?: string;
  /** Held for a violation of this rule (e.g. `required`, `validValues`, `undeclared`). */
  readonly rule?: string;
  readonly source?: string;
  readonly from?: Date;
  readonly to?: Date;
  readonly ids?: readonly string[];
}

export interface QuarantinedEventRow {
  readonly id: string;
  readonly receivedAt: string;
  readonly source: string;
  readonly type: string;
  readonly event: string | null;
  readonly contract: string | null;
  readonly contractVersion: string | null;
  readonly violations: readonly StoredViolation[];
  readonly status: QuarantineStatus;
  readonly statusAt: string | null;
  readonly statusBy: string | null;
  /** Present when asked for (`withPayload`): the message and what the collector knew of it. */
  readonly payload?: Record<string, unknown>;
  readonly ip?: string | null;
  readonly userAgent?: string | null;
  readonly agent?: ParsedAgent | null;
}

export interface ViolationTimelinePoint {
  readonly bucket: string;
  /** Track event name, `page: <name>`/`screen: <name>`, or the call type (as in topEventNames). */
  readonly event: string;
  /** `replayed`: quarantined events of the bucket since replayed (and so also counted as stored). */
  readonly outcome: 'quarantined' | 'flagged' | 'replayed';
  /** Distinct events (not violations) in the bucket. */
  readonly count: number;
}

export interface ViolationCount {
  readonly contract: string | null;
  readonly event: string;
  readonly path: string;
  readonly rule: string;
  readonly count: number;
  readonly lastSeen: string;
}

export interface StatusCount {
  readonly status: QuarantineStatus;
  readonly count: number;
}

/**
 * What contracts did at ingest: quarantined events (payload kept until replayed or discarded) and the
 * violations of quarantined and flagged events. Written only through `events.loadBatch` (WAL lines `x`,
 * `f`, `s`), so holding, flagging and status changes share the loader's exactly-once guarantee.
 */
export interface GovernanceRepository {
  listQuarantined(
    filter: QuarantineFilter,
    page: { readonly limit: number; readonly offset?: number; readonly withPayload?: boolean },
  ): Promise<QuarantinedEventRow[]>;
  countQuarantined(filter: QuarantineFilter): Promise<StatusCount[]>;
  /** Quarantined and flagged events per bucket and event name. */
  violationTimeline(options: {
    interval: 'hour' | 'day';
    from?: Date;
    to?: Date;
  }): Promise<ViolationTimelinePoint[]>;
  /** Stored events per bucket and event name (named as in the violation timeline), for violation rates. */
  eventTimeline(options: {
    interval: 'hour' | 'day';
    from?: Date;
    to?: Date;
  }): Promise<{ bucket: string; event: string; count: number }[]>;
  /** The most frequent (contract, event, path, rule) violations, quarantined and flagged together. */
  topViolations(options: { limit: number; from?: Date }): Promise<ViolationCount[]>;
}

/**
 * What a key may do (see `src/access/roles.ts`): `write` sends events for one source; `admin` does everything;
 * `analyst` reads analytics without personal fields; `privacy` is the privacy officer's (personal data, rights
 * requests, consent, audit); `read` is a read-only API key for dashboards and scripts (no personal fields).
 */
export const API_KEY_KINDS = ['write', 'admin', 'analyst', 'privacy', 'read'] as const;
export type ApiKeyKind = (typeof API_KEY_KINDS)[number];

export interface ApiKeyRow {
  readonly id: string;
  readonly kind: ApiKeyKind;
  readonly name: string;
  readonly source: string | null;
  readonly hash: string;
  /** First characters of the key, safe to show so people can tell keys apart. */
  readonly prefix: string;
  readonly createdAt: string;
  readonly revokedAt: string | null;
}

export interface KeyRepository {
  insert(row: Omit<ApiKeyRow, 'revokedAt'>): Promise<void>;
  findByHash(hash: string): Promise<ApiKeyRow | undefined>;
  list(): Promise<ApiKeyRow[]>;
  revoke(id: string, at: Date): Promise<boolean>;
}

export interface MetadataRepository {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
}

/**
 * What a retention run removes: rows received before each cutoff (an absent cutoff keeps everything).
 * Held quarantined events are never removed: they wait for a decision. Decided ones go with the rejects.
 */
/** A retention rule for some events: a call type, or a track event name (`type: 'track'`, `event`). */
export interface EventExpiryRule {
  readonly type: string;
  readonly event?: string;
  /** Remove matching events received before this; absent keeps them forever. */
  readonly before?: Date;
}

export interface ExpiryCutoffs {
  /** For events no rule in `eventRules` matches. */
  readonly eventsBefore?: Date;
  /** Per call type or track event name; the most specific matching rule decides. */
  readonly eventRules?: readonly EventExpiryRule[];
  readonly rejectsBefore?: Date;
}

export interface ExpiryReport {
  readonly events: number;
  readonly rejectedEvents: number;
  readonly importRejects: number;
  /** Quarantined events replayed or discarded before the rejects cutoff (held ones are never expired). */
  readonly decidedQuarantine: number;
  /** Violation records of flagged events received before the events cutoff, and of expired quarantine rows. */
  readonly violations: number;
}

export interface ReadQueryOptions {
  readonly timeoutMs: number;
  readonly maxRows: number;
  /** Stop fetching once the answer holds about this many bytes as JSON (`truncated`); no cap when absent. */
  readonly maxBytes?: number;
  /** The memory one query may take (DuckDB: growth of this process; ClickHouse: `max_memory_usage`). */
  readonly maxMemoryBytes?: number;
  /** Scopes the query to one consent purpose: only that purpose's view (`events_for_<purpose>`) may be read. */
  readonly purpose?: ConsentPurpose;
}

/**
 * The seam between Refinery's domain and a storage engine. Everything above this interface is engine-agnostic;
 * every engine must pass the conformance suite in `test/store-conformance/`.
 */
export interface Store {
  readonly engine: StoreEngine;
  /** Applies pending schema migrations; safe to call on every start. Returns the ids it applied. */
  migrate(): Promise<string[]>;
  readonly events: EventRepository;
  readonly keys: KeyRepository;
  readonly metadata: MetadataRepository;
  readonly imports: ImportRepository;
  readonly governance: GovernanceRepository;
  readonly identity: IdentityRepository;
  /** A person's events and activity, for profiles (personal fields as stored: callers mask what a role may not see). */
  readonly profiles: ProfileRepository;
  /** Consent history, per-person flags and purpose views (see docs/consent.md). */
  readonly consent: ConsentRepository;
  /** Data-subject requests, a person's records for access bundles, and erasure (physical on disk). */
  readonly privacy: PrivacyRepository;
  /**
   * Runs a user's SQL after proving it read-only and free of file, network and extension access.
   * Throws `REFINERY_ERR_QUERY_*` errors otherwise.
   */
  readOnlyQuery(sql: string, options: ReadQueryOptions): Promise<QueryResult>;
  /** Deletes raw data past its retention: events and rejected events by receive time, import rejects by import time. */
  expire(cutoffs: ExpiryCutoffs): Promise<ExpiryReport>;
  /** Flushes everything to the engine's durable files (a checkpoint). */
  checkpoint(): Promise<void>;
  close(): Promise<void>;
}

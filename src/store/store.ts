import type { ImportRepository } from './import-types.js';
import type { QueryResult } from './query-result.js';

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
}

export type ApiKeyKind = 'write' | 'admin';

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

/** What a retention run removes: rows received before each cutoff (an absent cutoff keeps everything). */
export interface ExpiryCutoffs {
  readonly eventsBefore?: Date;
  readonly rejectsBefore?: Date;
}

export interface ExpiryReport {
  readonly events: number;
  readonly rejectedEvents: number;
  readonly importRejects: number;
}

export interface ReadQueryOptions {
  readonly timeoutMs: number;
  readonly maxRows: number;
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

/**
 * One stored event: the columns of the `events` view. Engines build these rows from WAL request lines
 * (see `RequestRecord`), in SQL where the engine can, or with `expandRequestRecord` below.
 */
export interface EventRecord {
  readonly message_id: string;
  readonly type: EventType;
  readonly event: string | null;
  readonly name: string | null;
  readonly category: string | null;
  readonly user_id: string | null;
  readonly anonymous_id: string | null;
  readonly group_id: string | null;
  readonly previous_id: string | null;
  /** Event time after clock-skew correction, ISO 8601 UTC. */
  readonly timestamp: string;
  /** The timestamp the client sent, before correction. */
  readonly original_timestamp: string | null;
  readonly sent_at: string | null;
  readonly received_at: string;
  readonly properties: Record<string, unknown> | null;
  readonly traits: Record<string, unknown> | null;
  readonly context: Record<string, unknown> | null;
  readonly integrations: Record<string, unknown> | null;
  /** Top-level fields outside the Segment spec (e.g. RudderStack's `channel`), kept rather than dropped. */
  readonly extra: Record<string, unknown> | null;
  readonly source: string;
  readonly ip: string | null;
  readonly user_agent: string | null;
  readonly browser: string | null;
  readonly browser_version: string | null;
  readonly os: string | null;
  readonly device_type: string | null;
}

export interface RejectRecord {
  readonly k: 'r';
  readonly received_at: string;
  readonly source: string | null;
  readonly message_id: string | null;
  readonly type: string | null;
  readonly reason_code: string;
  readonly reason: string;
  readonly field: string | null;
  /** The rejected event as received, cut to a bounded size; the full body is never needed to explain a reject. */
  readonly payload: string;
}

/** A user agent as parsed by the collector, referenced by index from a request line. */
export interface ParsedAgent {
  readonly browser: string | null;
  readonly browser_version: string | null;
  readonly os: string | null;
  readonly device_type: string | null;
}

/**
 * The write-ahead log's line for one accepted request. The body is the request as the collector parsed and
 * checked it, written back out (`JSON.stringify`), never the bytes received: every engine then reads the message
 * the checks saw (duplicate keys, lone surrogates and odd numbers cannot mean one thing to JavaScript and another
 * to an engine). What only the collector knows rides along beside it. Messages the collector rejected are listed in `skip`
 * and also written as `RejectRecord` lines.
 */
export interface RequestRecord {
  readonly k: 'q';
  /** Request id; a message without a messageId gets `${rid}-${index}`, stable across replays. */
  readonly rid: string;
  readonly received_at: string;
  readonly source: string;
  /** The type an endpoint like /v1/track implies; null for batch endpoints, whose body holds `batch`. */
  readonly implied_type: EventType | null;
  /** The request's User-Agent header, used when a message's context has none. */
  readonly ua: string | null;
  /** Per message index: the client IP after the workspace's IP policy. */
  readonly ip_of: readonly (string | null)[];
  /** Per message index: position in `agents` of its parsed user agent, or null. */
  readonly agent_of: readonly (number | null)[];
  readonly agents: readonly ParsedAgent[];
  /** Indexes of rejected messages. */
  readonly skip: readonly number[];
  /** Indexes of messages with top-level fields outside the spec (kept in `extra`), so engines look only there. */
  readonly extra_of: readonly number[];
  readonly body: unknown;
}

/** A contract violation as stored: where, which rule, why, and a (masked when classified) value excerpt. */
export interface StoredViolation {
  readonly path: string;
  readonly rule: string;
  readonly message: string;
  readonly value?: string;
}

/** The contract verdict shared by quarantine and flag lines. */
interface GovernanceFields {
  /** The event's message_id (for messages without one: `${rid}-${index}`, as stored events get). */
  readonly id: string;
  readonly received_at: string;
  readonly source: string;
  readonly type: EventType;
  /** The track event name, or the page/screen name; null for other calls. */
  readonly event: string | null;
  /** Id of the governing contract, or null for an undeclared event. */
  readonly contract: string | null;
  readonly contract_version: string | null;
  readonly violations: readonly StoredViolation[];
}

/**
 * An event held back by an enforced contract: the whole message (batch defaults applied) and what the
 * collector knew about it, so a replay stores exactly the event that would have been stored.
 */
export interface QuarantineRecord extends GovernanceFields {
  readonly k: 'x';
  readonly payload: Record<string, unknown>;
  readonly ip: string | null;
  readonly ua: string | null;
  readonly agent: ParsedAgent | null;
}

/** A stored event that broke a contract in `warn` mode (or was undeclared under `flag`): stored, and flagged. */
export interface FlagRecord extends GovernanceFields {
  readonly k: 'f';
}

export type QuarantineStatus = 'held' | 'replayed' | 'discarded';

/** A decision on quarantined events (replay or discard), applied in the same load as any replayed events. */
export interface QuarantineStatusRecord {
  readonly k: 's';
  readonly ids: readonly string[];
  readonly status: QuarantineStatus;
  readonly at: string;
  /** Who decided, for the record (an API key's name, or `cli`). */
  readonly by: string;
}

/**
 * The identifiers one accepted message asserts belong to one person, for the identity graph. Written by the
 * collector beside the request line (only for identifier sets it has not seen lately), loaded into the store
 * with the segment, and read by identity resolution in load order.
 */
export interface IdentityObservationRecord {
  readonly k: 'i';
  /** The message's id (as the stored event's `message_id`). */
  readonly id: string;
  /** The message's time after clock-skew correction, ISO 8601. */
  readonly at: string;
  /** `type:value` per identifier (types cannot contain `:`); emails and phones are SHA-256 hex. */
  readonly ids: readonly string[];
}

/** One consent decision as a consent line carries it (see `ConsentObservation` in src/privacy/consent-capture.ts). */
export interface ConsentLineObservation {
  readonly purpose: string;
  readonly granted: boolean;
  /** `context.consent`, `gpc` or `api`. */
  readonly source: string;
  /** The consent-manager category as sent; null for GPC and the API. */
  readonly category: string | null;
  /** When the decision was made, ISO 8601 UTC. */
  readonly at: string;
}

/**
 * What one stored message (or one consent API call) says about consent: the decisions, and the subject they
 * are about as identifier keys (`user_id:…` and/or `anonymous_id:…`). Loaded into `consent_log` with the
 * segment; identity resolution turns the history into per-person flags.
 */
export interface ConsentRecord {
  readonly k: 'c';
  /** The message's id (as the stored event's `message_id`), or `consent-api-…` for an API decision. */
  readonly id: string;
  readonly received_at: string;
  /** `type:value` keys of the subject. */
  readonly ids: readonly string[];
  readonly consent: readonly ConsentLineObservation[];
  /** Category names the workspace's mapping does not know, as sent; they decide nothing. */
  readonly unknown?: readonly string[];
}

/** What became of a write-ahead-log line the loader set aside: held until someone replays or discards it. */
export type DamagedLineStatus = 'held' | 'replayed' | 'discarded';

/**
 * A decision on set-aside log lines, written to the log with the replayed line (if any), so the line is stored
 * and marked replayed in the same load: never both held and stored, never stored twice.
 */
export interface DamagedLineStatusRecord {
  readonly k: 'd';
  readonly ids: readonly string[];
  readonly status: Exclude<DamagedLineStatus, 'held'>;
  readonly at: string;
  /** Who decided (an API key's name, or `cli:<user>`). */
  readonly by: string;
}

/** A line of the write-ahead log. */
export type WalRecord =
  | RequestRecord
  | RejectRecord
  | QuarantineRecord
  | FlagRecord
  | QuarantineStatusRecord
  | IdentityObservationRecord
  | ConsentRecord
  | DamagedLineStatusRecord;

export const EVENT_TYPES = ['track', 'identify', 'page', 'screen', 'group', 'alias'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Top-level message keys of the Segment Spec (plus what SDKs add) that have a column of their own; others go to `extra`. */
export const SPEC_KEYS: ReadonlySet<string> = new Set([
  'type',
  'messageId',
  'userId',
  'anonymousId',
  'groupId',
  'previousId',
  'event',
  'name',
  'category',
  'timestamp',
  'originalTimestamp',
  'sentAt',
  'receivedAt',
  'properties',
  'traits',
  'context',
  'integrations',
  // Credentials never reach storage.
  'writeKey',
]);

/** A message's top-level fields outside the spec, or null when it has none. */
export function extraFieldsOf(message: Record<string, unknown>): Record<string, unknown> | null {
  let extra: Record<string, unknown> | null = null;
  for (const key of Object.keys(message)) {
    if (SPEC_KEYS.has(key)) continue;
    extra ??= {};
    extra[key] = message[key];
  }
  return extra;
}

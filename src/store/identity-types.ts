import type { Identifier } from '../identity/identity-rules.js';
import type { ConsentFlags } from './consent-types.js';

/** One identity observation as loaded from the write-ahead log (`i` lines), in load order. */
export interface IdentityObservationRow {
  readonly stream: string;
  readonly loadSeq: number;
  readonly messageId: string;
  /** ISO 8601. */
  readonly at: string;
  readonly identifiers: readonly Identifier[];
}

/** Where identity resolution has read up to: the last load sequence taken from each stream. */
export type IdentityCursors = ReadonlyMap<string, number>;

export interface StoredPerson {
  readonly personId: string;
  /** Creation order in the graph, the tie-break between persons first seen at the same time. */
  readonly seq: number;
  readonly firstSeenAt: string;
  /** Set when the person was merged into another; `identifiers` is then empty. */
  readonly mergedInto: string | null;
  readonly identifiers: readonly Identifier[];
  /** The person's consent per purpose, saved on each of their identity links; absent counts as no decision. */
  readonly consent?: ConsentFlags;
}

export interface StoredMerge {
  readonly from: string;
  readonly into: string;
  readonly via: Identifier;
  readonly at: string;
  readonly messageId: string | null;
}

export interface StoredRefusal {
  readonly reason: 'limit' | 'link_disabled';
  readonly identifier: Identifier;
  readonly heldBy: string | null;
  readonly personId: string;
  readonly limitType: string | null;
  readonly limit: number | null;
  readonly wouldHold: number | null;
  readonly count: number;
  readonly firstAt: string;
  readonly firstMessageId: string | null;
  readonly lastAt: string;
  readonly lastMessageId: string | null;
}

/**
 * What one identity-resolution run changed, written as a whole: changed persons (with all their current
 * identifiers, so the identifier → person mapping follows every merge), new merges, new or recounted refusals,
 * and the cursors the run read up to. `version` grows with every run (newer rows replace older ones).
 */
export interface IdentityChanges {
  readonly version: number;
  readonly persons: readonly StoredPerson[];
  readonly merges: readonly StoredMerge[];
  readonly refusals: readonly StoredRefusal[];
  readonly cursors: IdentityCursors;
}

/** Everything persisted about the graph, for rebuilding it in memory. */
export interface StoredIdentityGraph {
  readonly version: number;
  readonly persons: readonly StoredPerson[];
  readonly merges: readonly StoredMerge[];
  readonly refusals: readonly StoredRefusal[];
  readonly cursors: IdentityCursors;
}

/**
 * The identity graph's persistence. Observations are written by `events.loadBatch` (WAL `i` lines, in the
 * segment's transaction); resolution reads them after its cursors, runs the graph in memory and saves what
 * changed. Views map every event to its person through `identity_links` (one join on the event's user id, or
 * else its anonymous id), so a merge applies to past events at the next query.
 */
export interface IdentityRepository {
  /** Observations loaded after `cursors` (streams not named: from the start), oldest load first. */
  observationsAfter(cursors: IdentityCursors, limit: number): Promise<IdentityObservationRow[]>;
  readGraph(): Promise<StoredIdentityGraph>;
  saveChanges(changes: IdentityChanges): Promise<void>;
  /** The live person holding an identifier, if any. */
  personOf(identifier: Identifier): Promise<string | undefined>;
  /** A person (live or merged away) with its identifiers; merged-away ids are followed to the live one. */
  person(personId: string): Promise<StoredPerson | undefined>;
  /** Persons whose identifiers include one of `identifiers`, live ones only. */
  personsHolding(identifiers: readonly Identifier[]): Promise<string[]>;
  /** Counts for the dashboard and stats. */
  summary(): Promise<{ persons: number; identifiers: number; merges: number; refusals: number }>;
  recentRefusals(limit: number): Promise<StoredRefusal[]>;
  /**
   * Rewrites, in every identity table and every loaded observation, the identifiers held the way they were
   * before hashes were keyed (an email or phone as the bare SHA-256 hex of its normalised value) with `upgrade`,
   * and returns how many rows changed. `upgrade` sees only those identifiers; it needs no clear value. Running it
   * again changes nothing, since upgraded values no longer have the old form.
   */
  upgradeLegacyIdentifiers(upgrade: (identifier: Identifier) => Identifier): Promise<number>;
}

/** `type:value`: identifier types never contain `:`, so the first one separates them. */
export function identifierKey(identifier: Identifier): string {
  return `${identifier.type}:${identifier.value}`;
}

export function parseIdentifierKey(key: string): Identifier {
  const colon = key.indexOf(':');
  return { type: key.slice(0, colon), value: key.slice(colon + 1) };
}

/** What makes two refusals "the same" (the graph counts repeats on one record). */
export function refusalKey(refusal: StoredRefusal): string {
  return [refusal.reason, identifierKey(refusal.identifier), refusal.personId, refusal.heldBy ?? ''].join(
    '|',
  );
}

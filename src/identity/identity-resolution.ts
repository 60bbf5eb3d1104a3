import { consentFlagsOf } from '../privacy/consent-flags.js';
import type { ConsentHistoryRow } from '../store/consent-types.js';
import {
  type IdentityObservationRow,
  identifierKey,
  parseIdentifierKey,
  type StoredIdentityGraph,
  type StoredMerge,
  type StoredPerson,
  type StoredRefusal,
} from '../store/identity-types.js';
import type { Store } from '../store/store.js';
import { type IdentifierHasher, isLegacyContactIdentifier } from './identifier-hashing.js';
import {
  IdentityGraph,
  type IdentityGraphSnapshot,
  type MergeRecord,
  type RefusalRecord,
} from './identity-graph.js';
import type { Identifier, IdentityRules } from './identity-rules.js';
import { upgradeLegacyIdentifierHashes } from './legacy-hash-upgrade.js';

export interface IdentityResolutionOptions {
  /** HMAC key for person ids (see IdentityGraph); keep it for the workspace's lifetime. */
  readonly personIdKey?: string;
  /**
   * The workspace's identifier hasher. With it, the store's hashes are upgraded to keyed ones on the first run
   * (`upgradeLegacyIdentifierHashes`), and a plain email or phone digest read later (an identity line an older
   * version wrote to the log) is keyed before the graph sees it. Without it, values are taken as stored.
   */
  readonly identifiers?: IdentifierHasher;
  /** Observations read per query. */
  readonly pageSize?: number;
}

export interface ResolutionReport {
  readonly observations: number;
  readonly personsChanged: number;
  readonly merges: number;
  readonly refusals: number;
}

/** Consent cursors share the identity cursor table under this prefix (stream names never contain `:`). */
const CONSENT_CURSOR = 'consent:';

/**
 * Runs the identity graph over the observations the loader stored, and saves what changed.
 *
 * It also keeps each person's consent flags: persons whose identifiers got new consent history, and persons the
 * graph changed (a merge combines histories), get their standing per purpose recomputed from the history of
 * all their identifiers and saved on their identity links, where the `events` view and the purpose views read
 * it. An in-memory index of identifiers with any history spares the lookup for everyone else.
 *
 * The graph lives in memory between runs and is rebuilt from the store on the first run (and after any failed
 * save, so memory never runs ahead of what is stored). Observations are read after per-stream cursors that are
 * saved with the graph's changes; a crash between the two re-reads some observations, which the graph takes as
 * no-ops. Runs never overlap.
 */
export class IdentityResolution {
  private graph: IdentityGraph | undefined;
  private version = 0;
  private cursors = new Map<string, number>();
  /** Creation order and first-seen time of every person ever created, merged-away ones included. */
  private known = new Map<string, { seq: number; firstSeenAt: string }>();
  private running: Promise<ResolutionReport> | undefined;
  private consentCursors = new Map<string, number>();
  /** Identifier keys with any consent history. */
  private withConsent = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly rules: IdentityRules,
    private readonly options: IdentityResolutionOptions = {},
  ) {}

  /** Resolves everything loaded so far; a call while a run is under way waits for it and then runs again. */
  async run(): Promise<ResolutionReport> {
    while (this.running) await this.running.catch(() => undefined);
    this.running = this.resolve();
    try {
      return await this.running;
    } finally {
      this.running = undefined;
    }
  }

  /**
   * Drops the graph held in memory, so the next run restores it from the store: for when the store changed
   * underneath (a person erased). Waits for a run under way.
   */
  async reload(): Promise<void> {
    while (this.running) await this.running.catch(() => undefined);
    this.graph = undefined;
  }

  private async resolve(): Promise<ResolutionReport> {
    const graph = this.graph ?? (await this.restore());
    const mergesBefore = graph.merges.length;
    const refusalCounts = graph.refusals.map((refusal) => refusal.count);
    const touched = new Set<string>();
    const cursors = new Map(this.cursors);
    let observations = 0;
    try {
      for (;;) {
        const page = await this.nextPage(cursors);
        if (page.length === 0) break;
        for (const row of page) {
          const resolution = graph.observe(this.upgraded(row.identifiers), row.at, {
            messageId: row.messageId,
          });
          const personId = resolution.personId;
          if (personId !== undefined && (resolution.created || resolution.added.length > 0)) {
            touched.add(personId);
          }
          if (personId !== undefined && resolution.created) {
            const info = graph.personInfo(personId);
            if (info) this.known.set(personId, info);
          }
          for (const merged of resolution.merged) {
            touched.add(merged);
            if (personId !== undefined) touched.add(personId);
          }
          cursors.set(row.stream, Math.max(cursors.get(row.stream) ?? 0, row.loadSeq));
        }
        observations += page.length;
      }
      // Consent history loaded since the last run: its persons get their flags recomputed.
      const consent = await this.store.consent.changedAfter(this.consentCursors);
      for (const key of consent.identifiers) {
        this.withConsent.add(key);
        const personId = graph.personOf(parseIdentifierKey(key));
        if (personId !== undefined) touched.add(personId);
      }
      const consentCursors = new Map([...this.consentCursors, ...consent.cursors]);
      if (observations === 0 && consent.cursors.size === 0) {
        return { observations: 0, personsChanged: 0, merges: 0, refusals: 0 };
      }
      const merges = graph.merges.slice(mergesBefore).map(storedMerge);
      const refusals = graph.refusals
        .filter((refusal, index) => refusal.count !== refusalCounts[index])
        .map(storedRefusal);
      const persons = await this.withConsentFlags([...touched].map((id) => this.storedPerson(graph, id)));
      const version = this.version + 1;
      const saved = new Map(cursors);
      for (const [stream, seq] of consentCursors) saved.set(`${CONSENT_CURSOR}${stream}`, seq);
      await this.store.identity.saveChanges({ version, persons, merges, refusals, cursors: saved });
      this.version = version;
      this.cursors = cursors;
      this.consentCursors = consentCursors;
      return {
        observations,
        personsChanged: persons.length,
        merges: merges.length,
        refusals: refusals.length,
      };
    } catch (error) {
      // The graph may hold changes that were not saved: rebuild it from the store next time.
      this.graph = undefined;
      throw error;
    }
  }

  /**
   * The next observations after `cursors`, whole load batches only: a page cut inside a batch would move the
   * cursor past its unread rest. A single batch larger than the page is read whole.
   */
  private async nextPage(cursors: ReadonlyMap<string, number>): Promise<IdentityObservationRow[]> {
    let limit = this.options.pageSize ?? 20_000;
    for (;;) {
      const rows = await this.store.identity.observationsAfter(cursors, limit);
      if (rows.length < limit) return rows;
      const last = rows[rows.length - 1]!;
      const sameBatch = (row: IdentityObservationRow) =>
        row.stream === last.stream && row.loadSeq === last.loadSeq;
      const whole = rows.filter((row) => !sameBatch(row));
      if (whole.length > 0) return whole;
      limit *= 4;
    }
  }

  /** Live persons with their consent flags computed from the history of all their identifiers. */
  private async withConsentFlags(persons: StoredPerson[]): Promise<StoredPerson[]> {
    const keysOf = (person: StoredPerson) => person.identifiers.map(identifierKey);
    const concerned = persons.filter((person) => keysOf(person).some((key) => this.withConsent.has(key)));
    if (concerned.length === 0) return persons;
    const history = await this.store.consent.historyOf(concerned.flatMap(keysOf));
    const byIdentifier = new Map<string, ConsentHistoryRow[]>();
    for (const row of history) {
      const rows = byIdentifier.get(row.identifier) ?? [];
      rows.push(row);
      byIdentifier.set(row.identifier, rows);
    }
    const flagged = new Set(concerned);
    return persons.map((person) =>
      flagged.has(person)
        ? { ...person, consent: consentFlagsOf(keysOf(person).flatMap((key) => byIdentifier.get(key) ?? [])) }
        : person,
    );
  }

  private storedPerson(graph: IdentityGraph, id: string): StoredPerson {
    const live = graph.resolve(id);
    const info = this.known.get(id) ?? graph.personInfo(id);
    if (!info) throw new Error(`identity resolution lost track of person ${id}`);
    if (live === id) {
      return { personId: id, ...info, mergedInto: null, identifiers: graph.identifiersOf(id) };
    }
    return { personId: id, ...info, mergedInto: live ?? null, identifiers: [] };
  }

  /** Identifiers as the graph holds them now: plain digests an older version wrote are keyed. */
  private upgraded(identifiers: readonly Identifier[]): readonly Identifier[] {
    const hasher = this.options.identifiers;
    if (!hasher || !identifiers.some(isLegacyContactIdentifier)) return identifiers;
    return identifiers.map((identifier) => hasher.upgrade(identifier));
  }

  private async restore(): Promise<IdentityGraph> {
    if (this.options.identifiers) await upgradeLegacyIdentifierHashes(this.store, this.options.identifiers);
    const stored = await this.store.identity.readGraph();
    const graph = IdentityGraph.restore(this.rules, snapshotOf(stored), {
      ...(this.options.personIdKey ? { personIdKey: this.options.personIdKey } : {}),
    });
    this.graph = graph;
    this.version = stored.version;
    this.cursors = new Map([...stored.cursors].filter(([stream]) => !stream.startsWith(CONSENT_CURSOR)));
    this.consentCursors = new Map(
      [...stored.cursors]
        .filter(([stream]) => stream.startsWith(CONSENT_CURSOR))
        .map(([stream, seq]) => [stream.slice(CONSENT_CURSOR.length), seq]),
    );
    this.withConsent = new Set(await this.store.consent.identifiersWithHistory());
    this.known = new Map(stored.persons.map((p) => [p.personId, { seq: p.seq, firstSeenAt: p.firstSeenAt }]));
    return graph;
  }
}

/** The stored graph in the form `IdentityGraph.restore` takes. */
export function snapshotOf(stored: StoredIdentityGraph): IdentityGraphSnapshot {
  const live = stored.persons.filter((person) => person.mergedInto === null);
  const mergedInto = new Map(
    stored.persons.flatMap((person) =>
      person.mergedInto ? [[person.personId, person.mergedInto] as const] : [],
    ),
  );
  const liveIds = new Set(live.map((person) => person.personId));
  const survivorOf = (id: string): string => {
    let current = id;
    for (let hop = 0; hop <= mergedInto.size && !liveIds.has(current); hop++) {
      current = mergedInto.get(current) ?? current;
    }
    return current;
  };
  const maxSeq = stored.persons.reduce((max, person) => Math.max(max, person.seq), -1);
  return {
    version: 1,
    nextSeq: maxSeq + 1,
    persons: live.map((person) => ({
      id: person.personId,
      seq: person.seq,
      firstSeenAt: person.firstSeenAt,
      identifiers: person.identifiers,
    })),
    mergedInto: [...mergedInto.keys()].map((id): [string, string] => [id, survivorOf(id)]),
    merges: stored.merges.map(
      (merge): MergeRecord => ({
        from: merge.from,
        into: merge.into,
        via: merge.via,
        at: merge.at,
        ...(merge.messageId === null ? {} : { messageId: merge.messageId }),
      }),
    ),
    refusals: stored.refusals.map(
      (refusal): RefusalRecord => ({
        reason: refusal.reason,
        identifier: refusal.identifier,
        ...(refusal.heldBy === null ? {} : { heldBy: refusal.heldBy }),
        personId: refusal.personId,
        ...(refusal.limitType === null || refusal.limit === null || refusal.wouldHold === null
          ? {}
          : { limit: { type: refusal.limitType, limit: refusal.limit, wouldHold: refusal.wouldHold } }),
        count: refusal.count,
        firstAt: refusal.firstAt,
        ...(refusal.firstMessageId === null ? {} : { firstMessageId: refusal.firstMessageId }),
        lastAt: refusal.lastAt,
        ...(refusal.lastMessageId === null ? {} : { lastMessageId: refusal.lastMessageId }),
      }),
    ),
  };
}

function storedMerge(merge: MergeRecord): StoredMerge {
  return {
    from: merge.from,
    into: merge.into,
    via: merge.via,
    at: merge.at,
    messageId: merge.messageId ?? null,
  };
}

function storedRefusal(refusal: RefusalRecord): StoredRefusal {
  return {
    reason: refusal.reason,
    identifier: refusal.identifier,
    heldBy: refusal.heldBy ?? null,
    personId: refusal.personId,
    limitType: refusal.limit?.type ?? null,
    limit: refusal.limit?.limit ?? null,
    wouldHold: refusal.limit?.wouldHold ?? null,
    count: refusal.count,
    firstAt: refusal.firstAt,
    firstMessageId: refusal.firstMessageId ?? null,
    lastAt: refusal.lastAt,
    lastMessageId: refusal.lastMessageId ?? null,
  };
}

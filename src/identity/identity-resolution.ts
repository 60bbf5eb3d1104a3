import type {
  IdentityObservationRow,
  StoredIdentityGraph,
  StoredMerge,
  StoredPerson,
  StoredRefusal,
} from '../store/identity-types.js';
import type { Store } from '../store/store.js';
import {
  IdentityGraph,
  type IdentityGraphSnapshot,
  type MergeRecord,
  type RefusalRecord,
} from './identity-graph.js';
import type { IdentityRules } from './identity-rules.js';

export interface IdentityResolutionOptions {
  /** HMAC key for person ids (see IdentityGraph); keep it for the workspace's lifetime. */
  readonly personIdKey?: string;
  /** Observations read per query. */
  readonly pageSize?: number;
}

export interface ResolutionReport {
  readonly observations: number;
  readonly personsChanged: number;
  readonly merges: number;
  readonly refusals: number;
}

/**
 * Runs the identity graph over the observations the loader stored, and saves what changed.
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
          const resolution = graph.observe(row.identifiers, row.at, { messageId: row.messageId });
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
      if (observations === 0) return { observations: 0, personsChanged: 0, merges: 0, refusals: 0 };
      const merges = graph.merges.slice(mergesBefore).map(storedMerge);
      const refusals = graph.refusals
        .filter((refusal, index) => refusal.count !== refusalCounts[index])
        .map(storedRefusal);
      const persons = [...touched].map((id) => this.storedPerson(graph, id));
      const version = this.version + 1;
      await this.store.identity.saveChanges({ version, persons, merges, refusals, cursors });
      this.version = version;
      this.cursors = cursors;
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

  private storedPerson(graph: IdentityGraph, id: string): StoredPerson {
    const live = graph.resolve(id);
    const info = this.known.get(id) ?? graph.personInfo(id);
    if (!info) throw new Error(`identity resolution lost track of person ${id}`);
    if (live === id) {
      return { personId: id, ...info, mergedInto: null, identifiers: graph.identifiersOf(id) };
    }
    return { personId: id, ...info, mergedInto: live ?? null, identifiers: [] };
  }

  private async restore(): Promise<IdentityGraph> {
    const stored = await this.store.identity.readGraph();
    const graph = IdentityGraph.restore(this.rules, snapshotOf(stored), {
      ...(this.options.personIdKey ? { personIdKey: this.options.personIdKey } : {}),
    });
    this.graph = graph;
    this.version = stored.version;
    this.cursors = new Map(stored.cursors);
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

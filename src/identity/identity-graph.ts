/**
 * The identity graph: which identifiers (user ids, anonymous ids, hashed emails and phones, external ids)
 * belong to one person, built up one observation at a time.
 *
 * An observation is the list of identifiers one message asserts belong together. The graph takes them in a
 * fixed order, linking identifiers before `link: false` ones and each group by rule priority (most trusted
 * first, then in the order given), and grows a candidate group from them:
 *
 * - An identifier the graph has not seen joins the group as a new identifier.
 * - A known identifier brings its whole person into the group.
 * - The first identifier is always taken. Every later one is taken only if the group would still respect every
 *   limit (`user_id: 1` means the group may hold one user id); otherwise it is left out and the refusal is
 *   logged. Taking identifiers greedily by priority is Segment's "drop the lowest-priority identifier and try
 *   again", except that identifiers which do not conflict are never dropped along with those that do.
 * - A `link: false` identifier never brings its person into a group that already has identifiers (that would
 *   merge two people through it); it is only recorded, on the person the rest of the message resolves to, when
 *   it is new. A message with nothing but `link: false` identifiers resolves to the person of the first known
 *   one, or to a new person.
 *
 * Then: a group with no existing person becomes a new person; a group with one person adds the new identifiers
 * to it; a group with several merges them into the oldest (earliest first seen, then first created). The
 * survivor keeps its id; every other id is recorded in `mergedInto`, so `resolve()` still maps a person id
 * handed out before the merge to the live person. Events keep the person id they were given and are mapped
 * through `resolve()` at query time, so a later merge applies to earlier events as well.
 *
 * Because every addition is checked against the limits, one shared device (an anonymous id seen with thousands
 * of user ids) stays with the first person it was linked to and every other user is refused, not fused.
 *
 * A person id is `p_` and 16 hex digits of an HMAC-SHA256 of the highest-priority identifier that created the
 * person (keyed by `personIdKey`, empty by default; a rare clash adds an attempt counter). The same input in the
 * same order therefore always gives the same ids, and with a secret key no one can recompute a person id from a
 * user id or an email hash.
 *
 * Everything is held in Maps keyed by `type:value`; a person's identifiers are moved into the larger of two
 * merging persons (which then takes the survivor's id), so observing and merging stay cheap with millions of
 * identifiers.
 */
import { createHmac } from 'node:crypto';
import { RefineryError } from '../core/errors.js';
import { parseIsoTimestamp } from '../core/iso-time.js';
import type { Identifier, IdentifierRule, IdentityRules } from './identity-rules.js';

export interface IdentityGraphOptions {
  /** HMAC key for person ids, so no one can recompute them from an identifier. Restore with the same key. */
  readonly personIdKey?: string;
}

/** Where an observation came from, kept in the merge and refusal logs. */
export interface ObservationSource {
  readonly messageId?: string | undefined;
}

/** What one observation did to the graph. */
export interface Resolution {
  /** The live person the observation belongs to; undefined only when it had no identifiers. */
  readonly personId: string | undefined;
  /** True when the observation created that person. */
  readonly created: boolean;
  /** Identifiers newly recorded on the person. */
  readonly added: readonly Identifier[];
  /** Person ids merged into the person by this observation. */
  readonly merged: readonly string[];
  /** Identifiers of the observation that were not linked to the person, and why. */
  readonly refused: readonly Refusal[];
}

/** `limit`: linking would break a limit. `link_disabled`: the identifier's type may not link two people. */
export type RefusalReason = 'limit' | 'link_disabled';

export interface BrokenLimit {
  readonly type: string;
  readonly limit: number;
  /** How many values of `type` the person would have held. */
  readonly wouldHold: number;
}

export interface Refusal {
  readonly reason: RefusalReason;
  /** The identifier left out (hashed or opaque, so safe to log). */
  readonly identifier: Identifier;
  /** The person the identifier already belongs to, when it is known. */
  readonly heldBy?: string;
  /** The person the observation resolved to, which the identifier was not linked with. */
  readonly personId: string;
  /** For `limit`: the highest-priority limit that linking would have broken. */
  readonly limit?: BrokenLimit;
}

/** A refusal in the graph's log. Repeats of the same refusal are counted on one record. */
export interface RefusalRecord extends Refusal {
  readonly count: number;
  readonly firstAt: string;
  readonly firstMessageId?: string;
  readonly lastAt: string;
  readonly lastMessageId?: string;
}

export interface MergeRecord {
  /** The person merged away; `resolve(from)` now gives the survivor. */
  readonly from: string;
  readonly into: string;
  /** The identifier of the observation that linked `from` to the survivor. */
  readonly via: Identifier;
  readonly at: string;
  readonly messageId?: string;
}

/** The whole graph as plain JSON, for a store to persist. */
export interface IdentityGraphSnapshot {
  readonly version: 1;
  readonly nextSeq: number;
  readonly persons: readonly PersonSnapshot[];
  /** Every merged-away person id and the live person it resolves to. */
  readonly mergedInto: readonly (readonly [string, string])[];
  readonly merges: readonly MergeRecord[];
  readonly refusals: readonly RefusalRecord[];
}

export interface PersonSnapshot {
  readonly id: string;
  /** Creation order, the tie-break between persons first seen at the same time. */
  readonly seq: number;
  readonly firstSeenAt: string;
  readonly identifiers: readonly Identifier[];
}

interface PersonRecord {
  id: string;
  seq: number;
  firstSeenMs: number;
  firstSeenAt: string;
  /** `type:value` of every identifier held; plain arrays keep a person small when there are millions. */
  readonly keys: string[];
  /** How many identifiers the person holds per type slot (see `IdentityGraph.slotOf`); missing means 0. */
  readonly counts: number[];
}

interface Candidate {
  readonly identifier: Identifier;
  readonly key: string;
  readonly slot: number;
  readonly rule: IdentifierRule;
}

type MutableRefusalRecord = { -readonly [K in keyof RefusalRecord]: RefusalRecord[K] };

export class IdentityGraph {
  /** Identifier type → its slot in `counts` arrays. Slots follow priority: a lower slot outranks a higher one. */
  private readonly slotOf = new Map<string, number>();
  /** The rule of each slot; undefined for a type a restored snapshot holds but the rules no longer name. */
  private readonly slotRules: (IdentifierRule | undefined)[] = [];
  private readonly personIdKey: string;
  /** `type:value` → the live person holding it. */
  private readonly personByKey = new Map<string, PersonRecord>();
  /** Live persons by id. */
  private readonly persons = new Map<string, PersonRecord>();
  /** Merged-away person id → the person it was merged into (compressed towards the live one by `resolve`). */
  private readonly mergedInto = new Map<string, string>();
  private readonly mergeLog: MergeRecord[] = [];
  private readonly refusalLog: MutableRefusalRecord[] = [];
  private readonly refusalIndex = new Map<string, MutableRefusalRecord>();
  private nextSeq = 0;

  constructor(rules: IdentityRules, options: IdentityGraphOptions = {}) {
    for (const rule of [...rules.identifiers].sort((a, b) => a.priority - b.priority)) {
      if (this.slotOf.has(rule.type)) throw new RangeError(`Identity rules name "${rule.type}" twice`);
      this.slotOf.set(rule.type, this.slotRules.length);
      this.slotRules.push(rule);
    }
    this.personIdKey = options.personIdKey ?? '';
  }

  /** Rebuilds a graph from `snapshot()`; it then continues exactly as the graph that was snapshotted. */
  static restore(
    rules: IdentityRules,
    snapshot: IdentityGraphSnapshot,
    options: IdentityGraphOptions = {},
  ): IdentityGraph {
    const graph = new IdentityGraph(rules, options);
    graph.load(snapshot);
    return graph;
  }

  /**
   * Links the identifiers one message asserts belong together, as the rules allow, and says which person they
   * resolve to. `at` is the message's ISO 8601 time.
   *
   * @example graph.observe([{ type: 'user_id', value: 'u1' }], '2025-01-01T10:00:00Z', { messageId: 'm1' })
   */
  observe(identifiers: readonly Identifier[], at: string, source: ObservationSource = {}): Resolution {
    const atMs = parseIsoTimestamp(at);
    if (atMs === undefined) throw new RangeError(`observe(): "${at}" is not an ISO 8601 time`);
    const candidates = this.orderCandidates(identifiers);
    if (candidates.length === 0) {
      return { personId: undefined, created: false, added: [], merged: [], refused: [] };
    }
    const { group, pending } = this.gather(candidates);

    const created = group.persons.length === 0;
    const merged: string[] = [];
    const person = created
      ? this.createPerson(group.fresh[0]!.identifier, at, atMs)
      : this.mergeGroup(group, merged, at, source);
    for (const { key, slot } of group.fresh) this.attach(person, key, slot);
    if (atMs < person.firstSeenMs) {
      person.firstSeenMs = atMs;
      person.firstSeenAt = at;
    }
    const refused = pending.map((refusal): Refusal => ({ ...refusal, personId: person.id }));
    for (const refusal of refused) this.logRefusal(refusal, at, source);
    return {
      personId: person.id,
      created,
      added: group.fresh.map((candidate) => candidate.identifier),
      merged,
      refused,
    };
  }

  /** The live person holding an identifier, or undefined when the graph has not seen it. */
  personOf(identifier: Identifier): string | undefined {
    return this.personByKey.get(keyOf(identifier))?.id;
  }

  /**
   * The live person a person id stands for today: itself, or the survivor of the merges it went through.
   * Undefined for an id the graph never gave out. This is the mapping events use at query time.
   */
  resolve(personId: string): string | undefined {
    if (this.persons.has(personId)) return personId;
    const path: string[] = [];
    let current = personId;
    let next = this.mergedInto.get(current);
    while (next !== undefined) {
      path.push(current);
      current = next;
      if (this.persons.has(current)) break;
      next = this.mergedInto.get(current);
    }
    if (!this.persons.has(current)) return undefined;
    for (const id of path) this.mergedInto.set(id, current);
    return current;
  }

  /** The identifiers of a person (any id it ever had), by priority and then value; empty for an unknown id. */
  identifiersOf(personId: string): Identifier[] {
    const live = this.resolve(personId);
    const person = live === undefined ? undefined : this.persons.get(live);
    if (!person) return [];
    const identifiers = person.keys.map(identifierOf);
    return identifiers.sort(
      (a, b) =>
        this.rank(a.type) - this.rank(b.type) || compareText(a.type, b.type) || compareText(a.value, b.value),
    );
  }

  /** A live person's creation order and first-seen time; undefined for a merged-away or unknown id. */
  personInfo(personId: string): { readonly seq: number; readonly firstSeenAt: string } | undefined {
    const person = this.persons.get(personId);
    return person ? { seq: person.seq, firstSeenAt: person.firstSeenAt } : undefined;
  }

  /** Every merge, oldest first. */
  get merges(): readonly MergeRecord[] {
    return this.mergeLog;
  }

  /** Every distinct refusal, in the order first refused, with how often it recurred. */
  get refusals(): readonly RefusalRecord[] {
    return this.refusalLog;
  }

  get personCount(): number {
    return this.persons.size;
  }

  get identifierCount(): number {
    return this.personByKey.size;
  }

  /** The graph as plain JSON; restoring it with the same rules and options continues identically. */
  snapshot(): IdentityGraphSnapshot {
    const persons = [...this.persons.values()].map(
      (person): PersonSnapshot => ({
        id: person.id,
        seq: person.seq,
        firstSeenAt: person.firstSeenAt,
        identifiers: person.keys.map(identifierOf),
      }),
    );
    const mergedInto = [...this.mergedInto.keys()].map((id): [string, string] => [id, this.resolve(id)!]);
    return {
      version: 1,
      nextSeq: this.nextSeq,
      persons,
      mergedInto,
      merges: this.mergeLog.map((merge) => ({ ...merge })),
      refusals: this.refusalLog.map((refusal) => ({ ...refusal })),
    };
  }

  /** Deduplicates, checks and orders an observation: linking identifiers first, each part by priority. */
  private orderCandidates(identifiers: readonly Identifier[]): Candidate[] {
    const seen = new Set<string>();
    const candidates: Candidate[] = [];
    for (const identifier of identifiers) {
      const slot = this.slotOf.get(identifier.type);
      const rule = slot === undefined ? undefined : this.slotRules[slot];
      if (slot === undefined || !rule) {
        throw new RangeError(`observe(): identifier type "${identifier.type}" is not in the identity rules`);
      }
      if (typeof identifier.value !== 'string' || identifier.value === '') {
        throw new TypeError(`observe(): a ${identifier.type} identifier needs a non-empty string value`);
      }
      const key = keyOf(identifier);
      if (seen.has(key)) continue;
      seen.add(key);
      candidates.push({ identifier: { type: identifier.type, value: identifier.value }, key, slot, rule });
    }
    // Array.prototype.sort is stable, so identifiers of one type keep the order they were given in.
    return candidates.sort(
      (a, b) => Number(b.rule.link) - Number(a.rule.link) || a.rule.priority - b.rule.priority,
    );
  }

  /**
   * Builds the candidate group of an observation, taking identifiers in order while the limits allow, and
   * lists the refused ones (the person they resolve to is known only once the group is committed).
   */
  private gather(candidates: readonly Candidate[]): {
    group: CandidateGroup;
    pending: Omit<Refusal, 'personId'>[];
  } {
    const group = new CandidateGroup();
    const pending: Omit<Refusal, 'personId'>[] = [];
    for (const candidate of candidates) {
      const { identifier } = candidate;
      const holder = this.personByKey.get(candidate.key);
      if (holder && group.hasPerson(holder)) continue;
      if (holder && !group.isEmpty && !candidate.rule.link) {
        pending.push({ reason: 'link_disabled', identifier, heldBy: holder.id });
        continue;
      }
      const broken = group.isEmpty ? undefined : this.brokenLimit(group.counts, holder, candidate.slot);
      if (broken) {
        pending.push({
          reason: 'limit',
          identifier,
          ...(holder ? { heldBy: holder.id } : {}),
          limit: broken,
        });
      } else if (holder) {
        group.addPerson(holder, identifier);
      } else {
        group.addFresh(candidate);
      }
    }
    return { group, pending };
  }

  /**
   * The highest-priority limit a group holding `counts` would break by taking in `holder` (a known
   * identifier's person) or, without one, a new identifier of type slot `slot`. Undefined when it breaks none.
   */
  private brokenLimit(
    counts: readonly number[],
    holder: PersonRecord | undefined,
    slot: number,
  ): BrokenLimit | undefined {
    const first = holder ? 0 : slot;
    const last = holder ? holder.counts.length - 1 : slot;
    for (let index = first; index <= last; index++) {
      const added = holder ? (holder.counts[index] ?? 0) : 1;
      const rule = this.slotRules[index];
      // A type dropped from the rules since a snapshot was taken has no limit any more.
      if (added === 0 || !rule) continue;
      const wouldHold = (counts[index] ?? 0) + added;
      if (wouldHold > rule.limit) return { type: rule.type, limit: rule.limit, wouldHold };
    }
    return undefined;
  }

  private createPerson(seed: Identifier, at: string, atMs: number): PersonRecord {
    const person: PersonRecord = {
      id: this.newPersonId(seed),
      seq: this.nextSeq++,
      firstSeenMs: atMs,
      firstSeenAt: at,
      keys: [],
      counts: [],
    };
    this.persons.set(person.id, person);
    return person;
  }

  private newPersonId(seed: Identifier): string {
    for (let attempt = 0; ; attempt++) {
      const hmac = createHmac('sha256', this.personIdKey).update(keyOf(seed));
      if (attempt > 0) hmac.update(`\n${attempt}`);
      const id = `p_${hmac.digest('hex').slice(0, 16)}`;
      if (!this.persons.has(id) && !this.mergedInto.has(id)) return id;
    }
  }

  /**
   * Merges the group's persons into the oldest and returns the survivor. The larger record absorbs the
   * smaller ones (so each identifier moves O(log n) times at most) and then carries the oldest person's id.
   */
  private mergeGroup(
    group: CandidateGroup,
    merged: string[],
    at: string,
    source: ObservationSource,
  ): PersonRecord {
    const [first, ...others] = group.persons;
    if (others.length === 0) return first!;
    let oldest = first!;
    for (const person of others) {
      if (
        person.firstSeenMs < oldest.firstSeenMs ||
        (person.firstSeenMs === oldest.firstSeenMs && person.seq < oldest.seq)
      ) {
        oldest = person;
      }
    }
    let container = oldest;
    for (const person of group.persons) if (person.keys.length > container.keys.length) container = person;

    const survivor = {
      id: oldest.id,
      seq: oldest.seq,
      firstSeenMs: oldest.firstSeenMs,
      firstSeenAt: oldest.firstSeenAt,
    };
    group.persons.forEach((person, index) => {
      this.persons.delete(person.id);
      if (person !== oldest) {
        merged.push(person.id);
        this.mergedInto.set(person.id, survivor.id);
        this.mergeLog.push({
          from: person.id,
          into: survivor.id,
          via: group.via[index]!,
          at,
          ...(source.messageId === undefined ? {} : { messageId: source.messageId }),
        });
      }
      if (person !== container) {
        for (const key of person.keys) {
          container.keys.push(key);
          this.personByKey.set(key, container);
        }
        addCounts(container.counts, person.counts);
      }
    });
    Object.assign(container, survivor);
    this.persons.set(survivor.id, container);
    return container;
  }

  private attach(person: PersonRecord, key: string, slot: number): void {
    person.keys.push(key);
    this.personByKey.set(key, person);
    person.counts[slot] = (person.counts[slot] ?? 0) + 1;
  }

  /** The slot of an identifier type, giving one (with no rule) to a type only a restored snapshot holds. */
  private slotFor(type: string): number {
    let slot = this.slotOf.get(type);
    if (slot === undefined) {
      slot = this.slotRules.length;
      this.slotOf.set(type, slot);
      this.slotRules.push(undefined);
    }
    return slot;
  }

  private logRefusal(refusal: Refusal, at: string, source: ObservationSource): void {
    const key = refusalKey(refusal);
    const messageId = source.messageId;
    const existing = this.refusalIndex.get(key);
    if (existing) {
      existing.count += 1;
      existing.lastAt = at;
      if (messageId === undefined) delete existing.lastMessageId;
      else existing.lastMessageId = messageId;
      return;
    }
    const record: MutableRefusalRecord = {
      ...refusal,
      count: 1,
      firstAt: at,
      ...(messageId === undefined ? {} : { firstMessageId: messageId }),
      lastAt: at,
      ...(messageId === undefined ? {} : { lastMessageId: messageId }),
    };
    this.refusalLog.push(record);
    this.refusalIndex.set(key, record);
  }

  private rank(type: string): number {
    const slot = this.slotOf.get(type);
    return slot === undefined ? Number.POSITIVE_INFINITY : slot;
  }

  private load(snapshot: IdentityGraphSnapshot): void {
    if (snapshot?.version !== 1) invalidSnapshot(`unknown version ${String(snapshot?.version)}`);
    let maxSeq = -1;
    for (const saved of snapshot.persons) {
      const firstSeenMs = parseIsoTimestamp(saved.firstSeenAt);
      if (firstSeenMs === undefined) invalidSnapshot(`person ${saved.id} has no valid firstSeenAt`);
      if (this.persons.has(saved.id)) invalidSnapshot(`person ${saved.id} appears twice`);
      if (!Number.isSafeInteger(saved.seq) || saved.seq < 0)
        invalidSnapshot(`person ${saved.id} has no valid seq`);
      const person: PersonRecord = {
        id: saved.id,
        seq: saved.seq,
        firstSeenMs,
        firstSeenAt: saved.firstSeenAt,
        keys: [],
        counts: [],
      };
      for (const identifier of saved.identifiers) {
        const key = keyOf(identifier);
        if (this.personByKey.has(key)) invalidSnapshot(`identifier ${key} belongs to two persons`);
        this.attach(person, key, this.slotFor(identifier.type));
      }
      this.persons.set(person.id, person);
      maxSeq = Math.max(maxSeq, person.seq);
    }
    if (!Number.isSafeInteger(snapshot.nextSeq) || snapshot.nextSeq <= maxSeq) {
      invalidSnapshot('nextSeq is not above every person seq');
    }
    this.nextSeq = snapshot.nextSeq;
    for (const [from, into] of snapshot.mergedInto) {
      if (this.persons.has(from) || !this.persons.has(into)) {
        invalidSnapshot(`merged person ${from} must be gone and resolve to a live person`);
      }
      this.mergedInto.set(from, into);
    }
    for (const merge of snapshot.merges) this.mergeLog.push({ ...merge });
    for (const saved of snapshot.refusals) {
      const record: MutableRefusalRecord = { ...saved };
      this.refusalLog.push(record);
      this.refusalIndex.set(refusalKey(record), record);
    }
  }
}

/** The identifiers and persons an observation has gathered so far, with the per-type counts they add up to. */
class CandidateGroup {
  readonly persons: PersonRecord[] = [];
  /** For each of `persons`, the identifier that brought it in. */
  readonly via: Identifier[] = [];
  readonly fresh: Candidate[] = [];
  readonly counts: number[] = [];
  private readonly personSet = new Set<PersonRecord>();

  get isEmpty(): boolean {
    return this.persons.length === 0 && this.fresh.length === 0;
  }

  hasPerson(person: PersonRecord): boolean {
    return this.personSet.has(person);
  }

  addPerson(person: PersonRecord, via: Identifier): void {
    this.persons.push(person);
    this.via.push(via);
    this.personSet.add(person);
    addCounts(this.counts, person.counts);
  }

  addFresh(candidate: Candidate): void {
    this.fresh.push(candidate);
    this.counts[candidate.slot] = (this.counts[candidate.slot] ?? 0) + 1;
  }
}

// Type names never contain ':' (see identity-rules.ts), so the first ':' separates type from value.
function keyOf(identifier: Identifier): string {
  return `${identifier.type}:${identifier.value}`;
}

function addCounts(into: number[], counts: readonly number[]): void {
  counts.forEach((count, slot) => {
    into[slot] = (into[slot] ?? 0) + count;
  });
}

function refusalKey(refusal: Refusal): string {
  return [refusal.reason, keyOf(refusal.identifier), refusal.heldBy ?? '', refusal.personId].join('\u0000');
}

function identifierOf(key: string): Identifier {
  const colon = key.indexOf(':');
  return { type: key.slice(0, colon), value: key.slice(colon + 1) };
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function invalidSnapshot(problem: string): never {
  throw new RefineryError('REFINERY_ERR_INTERNAL', `The identity graph snapshot is not valid: ${problem}.`);
}

import { describe, expect, it } from 'vitest';
import { isRefineryError } from '../core/errors.js';
import { extractIdentifiers } from './identifier-extraction.js';
import { IdentifierHasher } from './identifier-hashing.js';
import { IdentityGraph, type IdentityGraphSnapshot, type Resolution } from './identity-graph.js';
import { DEFAULT_IDENTITY_RULES, type Identifier, validateIdentityRules } from './identity-rules.js';

const userId = (value: string): Identifier => ({ type: 'user_id', value });
const anonymousId = (value: string): Identifier => ({ type: 'anonymous_id', value });
const email = (value: string): Identifier => ({ type: 'email', value });
const gaClientId = (value: string): Identifier => ({ type: 'ga_client_id', value });
const HASHER = IdentifierHasher.fromMasterKey(Buffer.alloc(32, 3));

/** An ISO time `minutes` after a fixed start, so every test pins its clock. */
const at = (minutes: number) => new Date(Date.UTC(2025, 0, 1) + minutes * 60_000).toISOString();

/** Default rules plus a `ga_client_id` that is recorded but may not link people. */
const RULES_WITH_UNLINKED_GA = validateIdentityRules({
  identifiers: {
    user_id: { priority: 1, limit: 1 },
    email: { priority: 2, limit: 5 },
    phone: { priority: 3, limit: 5 },
    anonymous_id: { priority: 4, limit: 100 },
    ga_client_id: { priority: 5, limit: 3, link: false },
  },
});

/** A 32-bit linear congruential generator (Numerical Recipes constants): tiny, seeded, reproducible. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

interface Observation {
  readonly identifiers: Identifier[];
  readonly at: string;
  readonly messageId: string;
}

/** Random observations over small pools of ids, so people collide, merge and hit limits often. */
function randomObservations(seed: number, count: number): Observation[] {
  const random = lcg(seed);
  const pick = (size: number) => Math.floor(random() * size);
  const makers: [(n: number) => Identifier, number][] = [
    [(n) => userId(`u${n}`), 400],
    [(n) => anonymousId(`a${n}`), 1500],
    [(n) => email(`e${n}`), 300],
    [(n) => ({ type: 'phone', value: `ph${n}` }), 150],
    [(n) => gaClientId(`g${n}`), 200],
  ];
  const observations: Observation[] = [];
  for (let i = 0; i < count; i++) {
    const identifiers: Identifier[] = [];
    const size = 1 + pick(4);
    for (let j = 0; j < size; j++) {
      const [make, pool] = makers[pick(makers.length)]!;
      identifiers.push(make(pick(pool)));
    }
    // Times wander back and forth, as late-arriving events do.
    observations.push({ identifiers, at: at(i + pick(500) - 250), messageId: `m${i}` });
  }
  return observations;
}

/** Small limits so the random observations run into every one of them. */
const TIGHT_RULES = validateIdentityRules({
  identifiers: {
    user_id: { priority: 1, limit: 1 },
    email: { priority: 2, limit: 2 },
    phone: { priority: 3, limit: 2 },
    anonymous_id: { priority: 4, limit: 5 },
    ga_client_id: { priority: 5, limit: 3, link: false },
  },
});

function runAll(graph: IdentityGraph, observations: readonly Observation[]): Resolution[] {
  return observations.map((o) => graph.observe(o.identifiers, o.at, { messageId: o.messageId }));
}

function personOfOrThrow(graph: IdentityGraph, identifier: Identifier): string {
  const personId = graph.personOf(identifier);
  if (personId === undefined) throw new Error(`${identifier.type}:${identifier.value} has no person`);
  return personId;
}

describe('IdentityGraph', () => {
  it('creates a person for identifiers it has not seen', () => {
    const graph = new IdentityGraph(DEFAULT_IDENTITY_RULES);
    const resolution = graph.observe([anonymousId('a1')], at(0), { messageId: 'm1' });
    expect(resolution).toMatchObject({ created: true, added: [anonymousId('a1')], merged: [], refused: [] });
    expect(resolution.personId).toMatch(/^p_[0-9a-f]{16}$/);
    expect(graph.personOf(anonymousId('a1'))).toBe(resolution.personId);
    expect(graph.personCount).toBe(1);
  });

  it('links an anonymous visitor to the user id they sign in with', () => {
    const graph = new IdentityGraph(DEFAULT_IDENTITY_RULES);
    const visitor = graph.observe([anonymousId('a1')], at(0)).personId!;
    const signIn = graph.observe([userId('u1'), anonymousId('a1'), email('e1')], at(5));
    expect(signIn).toMatchObject({ personId: visitor, created: false, merged: [] });
    expect(signIn.added).toEqual([userId('u1'), email('e1')]);
    expect(graph.identifiersOf(visitor)).toEqual([userId('u1'), email('e1'), anonymousId('a1')]);
  });

  it('merges the anonymous histories of two devices into the oldest person when the user signs in on both', () => {
    const graph = new IdentityGraph(DEFAULT_IDENTITY_RULES);
    const laptop = graph.observe([anonymousId('laptop')], at(0)).personId!;
    const phone = graph.observe([anonymousId('phone')], at(10)).personId!;
    expect(graph.observe([userId('u1'), anonymousId('phone')], at(20)).personId).toBe(phone);

    const merge = graph.observe([userId('u1'), anonymousId('laptop')], at(30), { messageId: 'm4' });
    expect(merge).toMatchObject({ personId: laptop, merged: [phone], refused: [] });
    expect(graph.resolve(phone)).toBe(laptop);
    expect(graph.personOf(userId('u1'))).toBe(laptop);
    expect(graph.identifiersOf(phone)).toEqual([userId('u1'), anonymousId('laptop'), anonymousId('phone')]);
    expect(graph.merges).toEqual([
      { from: phone, into: laptop, via: userId('u1'), at: at(30), messageId: 'm4' },
    ]);
    expect(graph.personCount).toBe(1);
  });

  it('merges into the person first seen earliest, even when it was created later', () => {
    const graph = new IdentityGraph(DEFAULT_IDENTITY_RULES);
    const createdFirst = graph.observe([anonymousId('a1')], at(60)).personId!;
    const seenFirst = graph.observe([anonymousId('a2')], at(0)).personId!;
    expect(graph.observe([anonymousId('a1'), anonymousId('a2')], at(90)).personId).toBe(seenFirst);
    expect(graph.resolve(createdFirst)).toBe(seenFirst);
  });

  it('links an anonymous visitor through alias', () => {
    const graph = new IdentityGraph(DEFAULT_IDENTITY_RULES);
    const visitor = graph.observe([anonymousId('a1')], at(0)).personId!;
    const alias = extractIdentifiers(
      { type: 'alias', userId: 'u1', previousId: 'a1', anonymousId: 'a1' },
      DEFAULT_IDENTITY_RULES,
      HASHER,
    );
    expect(graph.observe(alias, at(1))).toMatchObject({ personId: visitor, added: [userId('u1')] });
  });

  it('refuses an alias from one user id to another under the default limit of one user id, and logs it', () => {
    const graph = new IdentityGraph(DEFAULT_IDENTITY_RULES);
    const old = graph.observe([userId('old'), anonymousId('a1')], at(0)).personId!;
    const alias = extractIdentifiers(
      { type: 'alias', userId: 'new', previousId: 'old', anonymousId: 'a1' },
      DEFAULT_IDENTITY_RULES,
      HASHER,
    );
    const resolution = graph.observe(alias, at(1), { messageId: 'alias-1' });

    expect(resolution.created).toBe(true);
    expect(resolution.personId).not.toBe(old);
    expect(resolution.refused.map((refusal) => refusal.identifier)).toEqual([
      userId('old'),
      anonymousId('a1'),
    ]);
    expect(graph.personOf(anonymousId('a1'))).toBe(old);
    expect(graph.refusals).toHaveLength(2);
  });

  it('merges two user ids through alias when the user_id limit allows two', () => {
    const rules = validateIdentityRules({
      identifiers: { user_id: { priority: 1, limit: 2 }, anonymous_id: { priority: 2, limit: 100 } },
    });
    const graph = new IdentityGraph(rules);
    const old = graph.observe([userId('old')], at(0)).personId!;
    const renamed = graph.observe([userId('new')], at(1)).personId!;
    const alias = extractIdentifiers({ type: 'alias', userId: 'new', previousId: 'old' }, rules, HASHER);
    expect(graph.observe(alias, at(2))).toMatchObject({ personId: old, merged: [renamed], refused: [] });
  });

  it('refuses to merge two users who share an email under a user_id limit of one, and logs why', () => {
    const graph = new IdentityGraph(DEFAULT_IDENTITY_RULES);
    const first = graph.observe([userId('u1'), email('shared')], at(0)).personId!;
    const second = graph.observe([userId('u2'), email('shared')], at(1), { messageId: 'm2' });

    expect(second.created).toBe(true);
    expect(second.personId).not.toBe(first);
    const refusal = {
      reason: 'limit',
      identifier: email('shared'),
      heldBy: first,
      personId: second.personId,
      limit: { type: 'user_id', limit: 1, wouldHold: 2 },
    };
    expect(second.refused).toEqual([refusal]);
    expect(graph.refusals).toEqual([
      { ...refusal, count: 1, firstAt: at(1), firstMessageId: 'm2', lastAt: at(1), lastMessageId: 'm2' },
    ]);
    expect(graph.personOf(email('shared'))).toBe(first);
    expect(graph.identifiersOf(second.personId!)).toEqual([userId('u2')]);
  });

  it('counts a repeated refusal on one log record', () => {
    const graph = new IdentityGraph(DEFAULT_IDENTITY_RULES);
    graph.observe([userId('u1'), email('shared')], at(0));
    graph.observe([userId('u2'), email('shared')], at(1), { messageId: 'm2' });
    graph.observe([userId('u2'), email('shared')], at(2), { messageId: 'm3' });
    expect(graph.refusals).toHaveLength(1);
    expect(graph.refusals[0]).toMatchObject({
      count: 2,
      firstMessageId: 'm2',
      lastAt: at(2),
      lastMessageId: 'm3',
    });
  });

  it('keeps a shared device with its first user when 5,000 users sign in on it', () => {
    const graph = new IdentityGraph(DEFAULT_IDENTITY_RULES);
    const device = anonymousId('kiosk');
    const persons = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      persons.add(graph.observe([userId(`u${i}`), device], at(i), { messageId: `m${i}` }).personId!);
    }
    const first = personOfOrThrow(graph, userId('u0'));
    expect(persons.size).toBe(5000);
    expect(graph.personCount).toBe(5000);
    expect(graph.merges).toEqual([]);
    expect(graph.personOf(device)).toBe(first);
    expect(graph.identifiersOf(first)).toEqual([userId('u0'), device]);
    expect(graph.refusals).toHaveLength(4999);
    expect(
      graph.refusals.every((r) => r.reason === 'limit' && r.heldBy === first && r.limit?.type === 'user_id'),
    ).toBe(true);
  });

  it('gives up the lower-priority identifier of a conflicting pair, whatever order they came in', () => {
    const graph = new IdentityGraph(DEFAULT_IDENTITY_RULES);
    const byDevice = graph.observe([userId('u1'), anonymousId('a1')], at(0)).personId!;
    const byEmail = graph.observe([userId('u2'), email('e2')], at(1)).personId!;

    // The email (priority 2) outranks the anonymous id (priority 4): the person is found by email.
    const resolution = graph.observe([anonymousId('a1'), email('e2'), anonymousId('a-new')], at(2));
    expect(resolution.personId).toBe(byEmail);
    expect(resolution.refused).toEqual([
      {
        reason: 'limit',
        identifier: anonymousId('a1'),
        heldBy: byDevice,
        personId: byEmail,
        limit: { type: 'user_id', limit: 1, wouldHold: 2 },
      },
    ]);
    // Identifiers that do not conflict are kept, unlike a blind "drop the lowest and retry".
    expect(resolution.added).toEqual([anonymousId('a-new')]);
    expect(graph.personOf(anonymousId('a1'))).toBe(byDevice);
  });

  it('reports the highest-priority limit a refused merge would break', () => {
    const rules = validateIdentityRules({
      identifiers: { user_id: { priority: 1, limit: 1 }, email: { priority: 2, limit: 1 } },
    });
    const graph = new IdentityGraph(rules);
    graph.observe([userId('u1'), email('e1')], at(0));
    graph.observe([userId('u2'), email('e2')], at(1));
    const resolution = graph.observe([email('e1'), userId('u2')], at(2));
    expect(resolution.refused[0]?.limit).toEqual({ type: 'user_id', limit: 1, wouldHold: 2 });
  });

  it('records no more new values of a type than its limit, keeping those given first', () => {
    const graph = new IdentityGraph(DEFAULT_IDENTITY_RULES);
    const emails = Array.from({ length: 7 }, (_, i) => email(`e${i}`));
    const resolution = graph.observe([userId('u1'), ...emails], at(0));
    expect(resolution.added).toEqual([userId('u1'), ...emails.slice(0, 5)]);
    expect(resolution.refused.map((r) => [r.identifier.value, r.heldBy, r.limit?.wouldHold])).toEqual([
      ['e5', undefined, 6],
      ['e6', undefined, 6],
    ]);
    expect(graph.personOf(email('e6'))).toBeUndefined();
  });

  describe('identifiers with link: false', () => {
    it('are recorded on the person the message resolves to', () => {
      const graph = new IdentityGraph(RULES_WITH_UNLINKED_GA);
      const person = graph.observe([gaClientId('g1'), userId('u1')], at(0)).personId!;
      expect(graph.personOf(gaClientId('g1'))).toBe(person);
      expect(graph.identifiersOf(person)).toEqual([userId('u1'), gaClientId('g1')]);
    });

    it('never merge two people and log the link they did not make', () => {
      const graph = new IdentityGraph(RULES_WITH_UNLINKED_GA);
      const first = graph.observe([userId('u1'), gaClientId('g1')], at(0)).personId!;
      const second = graph.observe([anonymousId('a2'), gaClientId('g1')], at(1));
      expect(second.created).toBe(true);
      expect(second.refused).toEqual([
        { reason: 'link_disabled', identifier: gaClientId('g1'), heldBy: first, personId: second.personId },
      ]);
      expect(graph.personOf(gaClientId('g1'))).toBe(first);
      expect(graph.merges).toEqual([]);
    });

    it('do not pull a new anonymous id into the person they belong to', () => {
      const graph = new IdentityGraph(RULES_WITH_UNLINKED_GA);
      const first = graph.observe([userId('u1'), gaClientId('g1')], at(0)).personId!;
      graph.observe([anonymousId('new-visitor'), gaClientId('g1')], at(1));
      expect(graph.personOf(anonymousId('new-visitor'))).not.toBe(first);
    });

    it('resolve a message that has nothing else to the person holding them', () => {
      const graph = new IdentityGraph(RULES_WITH_UNLINKED_GA);
      const first = graph.observe([userId('u1'), gaClientId('g1')], at(0)).personId!;
      expect(graph.observe([gaClientId('g1'), gaClientId('g2')], at(1))).toMatchObject({
        personId: first,
        added: [gaClientId('g2')],
      });
      expect(graph.observe([gaClientId('g9')], at(2)).created).toBe(true);
    });
  });

  it('resolves person ids along merge chains to the live person', () => {
    const graph = new IdentityGraph(DEFAULT_IDENTITY_RULES);
    const middle = graph.observe([anonymousId('a1')], at(10)).personId!;
    const youngest = graph.observe([anonymousId('a2')], at(20)).personId!;
    graph.observe([anonymousId('a1'), anonymousId('a2')], at(30));
    const oldest = graph.observe([anonymousId('a0')], at(0)).personId!;
    graph.observe([anonymousId('a0'), anonymousId('a1')], at(40));

    expect(graph.merges.map((m) => [m.from, m.into])).toEqual([
      [youngest, middle],
      [middle, oldest],
    ]);
    expect(graph.resolve(youngest)).toBe(oldest);
    expect(graph.resolve(middle)).toBe(oldest);
    expect(graph.resolve(oldest)).toBe(oldest);
    expect(graph.identifiersOf(youngest).map((i) => i.value)).toEqual(['a0', 'a1', 'a2']);
    expect(graph.snapshot().mergedInto).toEqual([
      [youngest, oldest],
      [middle, oldest],
    ]);
  });

  it('knows nothing of ids and identifiers it never saw', () => {
    const graph = new IdentityGraph(DEFAULT_IDENTITY_RULES);
    expect(graph.resolve('p_0000000000000000')).toBeUndefined();
    expect(graph.personOf(userId('nobody'))).toBeUndefined();
    expect(graph.identifiersOf('p_0000000000000000')).toEqual([]);
  });

  it('resolves an observation without identifiers to no one', () => {
    const graph = new IdentityGraph(DEFAULT_IDENTITY_RULES);
    expect(graph.observe([], at(0))).toEqual({
      personId: undefined,
      created: false,
      added: [],
      merged: [],
      refused: [],
    });
    expect(graph.personCount).toBe(0);
  });

  it('treats an identifier given twice in one observation as one', () => {
    const graph = new IdentityGraph(DEFAULT_IDENTITY_RULES);
    expect(graph.observe([userId('u1'), userId('u1')], at(0)).added).toEqual([userId('u1')]);
  });

  it('refuses identifier types the rules do not name and times that are not ISO 8601', () => {
    const graph = new IdentityGraph(DEFAULT_IDENTITY_RULES);
    expect(() => graph.observe([gaClientId('g1')], at(0))).toThrow(/ga_client_id.*not in the identity rules/);
    expect(() => graph.observe([userId('u1')], 'yesterday')).toThrow(RangeError);
    expect(() => graph.observe([userId('')], at(0))).toThrow(TypeError);
  });

  it('gives the same person ids and snapshot for the same input', () => {
    const observations = randomObservations(7, 3000);
    const first = new IdentityGraph(TIGHT_RULES);
    const second = new IdentityGraph(TIGHT_RULES);
    expect(runAll(first, observations)).toEqual(runAll(second, observations));
    expect(first.snapshot()).toEqual(second.snapshot());
  });

  it('derives person ids from the highest-priority identifier, keyed by personIdKey', () => {
    const plain = new IdentityGraph(DEFAULT_IDENTITY_RULES);
    const keyed = new IdentityGraph(DEFAULT_IDENTITY_RULES, { personIdKey: 'workspace secret' });
    const identifiers = [anonymousId('a1'), userId('u1')];
    const plainId = plain.observe(identifiers, at(0)).personId;
    expect(new IdentityGraph(DEFAULT_IDENTITY_RULES).observe([userId('u1')], at(5)).personId).toBe(plainId);
    expect(keyed.observe(identifiers, at(0)).personId).not.toBe(plainId);
  });

  it('continues identically after a snapshot is restored from JSON', () => {
    const observations = randomObservations(11, 4000);
    const original = new IdentityGraph(TIGHT_RULES, { personIdKey: 'k' });
    runAll(original, observations.slice(0, 2000));
    const json = JSON.stringify(original.snapshot());
    const restored = IdentityGraph.restore(TIGHT_RULES, JSON.parse(json) as IdentityGraphSnapshot, {
      personIdKey: 'k',
    });
    expect(restored.snapshot()).toEqual(original.snapshot());

    const rest = observations.slice(2000);
    expect(runAll(restored, rest)).toEqual(runAll(original, rest));
    expect(restored.snapshot()).toEqual(original.snapshot());
    expect(JSON.stringify(restored.snapshot())).toBe(JSON.stringify(original.snapshot()));
  });

  it('does not change a snapshot already taken when the graph moves on', () => {
    const graph = new IdentityGraph(DEFAULT_IDENTITY_RULES);
    graph.observe([userId('u1'), email('e')], at(0));
    graph.observe([userId('u2'), email('e')], at(1));
    const before = JSON.stringify(graph.snapshot());
    const snapshot = graph.snapshot();
    graph.observe([userId('u2'), email('e')], at(2));
    expect(JSON.stringify(snapshot)).toBe(before);
  });

  it('keeps identifiers of a type since removed from the rules, without limits, when restoring', () => {
    const graph = new IdentityGraph(RULES_WITH_UNLINKED_GA);
    const person = graph.observe([userId('u1'), gaClientId('g1')], at(0)).personId!;
    const restored = IdentityGraph.restore(DEFAULT_IDENTITY_RULES, graph.snapshot());
    expect(restored.identifiersOf(person)).toEqual([userId('u1'), gaClientId('g1')]);
    expect(restored.observe([userId('u1'), email('e1')], at(1)).refused).toEqual([]);
  });

  it('refuses to restore a snapshot in which an identifier belongs to two persons', () => {
    const snapshot: IdentityGraphSnapshot = {
      version: 1,
      nextSeq: 2,
      persons: [
        { id: 'p_a', seq: 0, firstSeenAt: at(0), identifiers: [userId('u1')] },
        { id: 'p_b', seq: 1, firstSeenAt: at(0), identifiers: [userId('u1')] },
      ],
      mergedInto: [],
      merges: [],
      refusals: [],
    };
    let error: unknown;
    try {
      IdentityGraph.restore(DEFAULT_IDENTITY_RULES, snapshot);
    } catch (caught) {
      error = caught;
    }
    expect(isRefineryError(error) && error.code).toBe('REFINERY_ERR_INTERNAL');
  });

  it('holds its invariants over 10,000 random observations', () => {
    const graph = new IdentityGraph(TIGHT_RULES);
    const issued = new Set<string>();
    const limitOf = new Map(TIGHT_RULES.identifiers.map((rule) => [rule.type, rule.limit]));

    for (const observation of randomObservations(2025, 10_000)) {
      const resolution = graph.observe(observation.identifiers, observation.at, {
        messageId: observation.messageId,
      });
      const personId = resolution.personId!;
      issued.add(personId);
      expect(graph.resolve(personId)).toBe(personId);
      // Every identifier of the observation is on its person, unless refused; refused ones stay where they were.
      const refused = new Set(resolution.refused.map((r) => `${r.identifier.type}:${r.identifier.value}`));
      for (const identifier of observation.identifiers) {
        if (!refused.has(`${identifier.type}:${identifier.value}`))
          expect(graph.personOf(identifier)).toBe(personId);
      }
      for (const refusal of resolution.refused)
        expect(graph.personOf(refusal.identifier)).toBe(refusal.heldBy);
    }

    const snapshot = graph.snapshot();
    const live = new Set(snapshot.persons.map((person) => person.id));
    const owner = new Map<string, string>();
    for (const person of snapshot.persons) {
      const counts = new Map<string, number>();
      for (const identifier of person.identifiers) {
        counts.set(identifier.type, (counts.get(identifier.type) ?? 0) + 1);
        const key = `${identifier.type}:${identifier.value}`;
        expect(owner.has(key), `${key} belongs to two persons`).toBe(false);
        owner.set(key, person.id);
        expect(graph.personOf(identifier)).toBe(person.id);
      }
      for (const [type, count] of counts) expect(count).toBeLessThanOrEqual(limitOf.get(type)!);
    }
    expect(owner.size).toBe(graph.identifierCount);
    for (const personId of issued) expect(live.has(graph.resolve(personId)!)).toBe(true);
    for (const [from, into] of snapshot.mergedInto) {
      expect(live.has(from)).toBe(false);
      expect(live.has(into)).toBe(true);
    }
    // The run must actually exercise merges and refusals of both kinds.
    expect(graph.merges.length).toBeGreaterThan(100);
    expect(new Set(graph.refusals.map((r) => r.reason))).toEqual(new Set(['limit', 'link_disabled']));
  });
});

describe('validateIdentityRules', () => {
  it('orders valid rules by priority and links by default', () => {
    const rules = validateIdentityRules({
      identifiers: { anonymous_id: { priority: 2, limit: 100 }, user_id: { priority: 1, limit: 1 } },
    });
    expect(rules.identifiers).toEqual([
      { type: 'user_id', priority: 1, limit: 1, link: true },
      { type: 'anonymous_id', priority: 2, limit: 100, link: true },
    ]);
    expect(Object.isFrozen(rules.identifiers[0])).toBe(true);
  });

  it('accepts the default rules', () => {
    expect(DEFAULT_IDENTITY_RULES.identifiers.map((rule) => [rule.type, rule.limit])).toEqual([
      ['user_id', 1],
      ['email', 5],
      ['phone', 5],
      ['anonymous_id', 100],
    ]);
  });

  function problemsOf(input: unknown): { field: unknown; problems: unknown } {
    try {
      validateIdentityRules(input);
    } catch (error) {
      if (isRefineryError(error) && error.code === 'REFINERY_ERR_CONFIG_INVALID') {
        return { field: error.details.field, problems: error.details.problems };
      }
      throw error;
    }
    throw new Error('the rules were accepted');
  }

  it('refuses two types with the same priority, naming both', () => {
    const { field, problems } = problemsOf({
      identifiers: { email: { priority: 2, limit: 5 }, phone: { priority: 2, limit: 5 } },
    });
    expect(field).toBe('identity.identifiers.phone.priority');
    expect(problems).toEqual([expect.stringMatching(/phone\.priority is 2, the priority of "email" too/)]);
  });

  it('reports every problem at once with its field', () => {
    const { problems } = problemsOf({
      identifiers: {
        user_id: { priority: 0, limit: 1.5 },
        email: { priority: 2, limit: 5, link: 'yes', limitWindowDays: 7 },
        'bad:type': { priority: 3, limit: 1 },
        phone: 'five',
      },
    });
    expect(problems).toEqual([
      expect.stringMatching(/^identity\.identifiers\.user_id\.priority /),
      expect.stringMatching(/^identity\.identifiers\.user_id\.limit /),
      expect.stringMatching(/^identity\.identifiers\.email\.limitWindowDays is not a known setting/),
      expect.stringMatching(/^identity\.identifiers\.email\.link /),
      expect.stringMatching(/^identity\.identifiers\.bad:type is not a valid identifier type/),
      expect.stringMatching(/^identity\.identifiers\.phone must be a mapping/),
    ]);
  });

  it('refuses rules without identifier types', () => {
    expect(problemsOf({ identifiers: {} }).field).toBe('identity.identifiers');
    expect(problemsOf(null).field).toBe('identity');
    expect(problemsOf({ identifiers: [] }).field).toBe('identity.identifiers');
  });
});

import { describe, expect, it } from 'vitest';
import { IdentifierHasher } from '../identity/identifier-hashing.js';
import { DEFAULT_IDENTITY_RULES } from '../identity/identity-rules.js';
import { IdentityObservations } from './identity-observations.js';

const RECEIVED = Date.parse('2026-03-02T10:00:10.000Z');
const HASHER = IdentifierHasher.fromMasterKey(Buffer.alloc(32, 9));
const track = (fields: Record<string, unknown> = {}) => ({
  type: 'track',
  userId: 'u1',
  anonymousId: 'a1',
  timestamp: undefined,
  sentAt: undefined,
  ...fields,
});

describe('identity observation lines', () => {
  it('writes the identifiers of a message with its skew-corrected time, emails hashed', () => {
    const observations = new IdentityObservations(DEFAULT_IDENTITY_RULES, HASHER);
    const line = observations.lineFor(
      track({
        type: 'identify',
        traits: { email: ' Ada@Example.com ' },
        timestamp: Date.parse('2026-03-02T10:00:00.000Z'),
        sentAt: Date.parse('2026-03-02T10:00:05.000Z'),
      }),
      'm1',
      RECEIVED,
    );
    expect(JSON.parse(line!)).toEqual({
      k: 'i',
      id: 'm1',
      // The client's clock ran 5 s behind the server's between the event and sending it.
      at: '2026-03-02T10:00:05.000Z',
      ids: ['user_id:u1', 'anonymous_id:a1', `email:${HASHER.email('ada@example.com')}`],
    });
    expect(line).not.toContain('Example.com');
  });

  it('skips a set it wrote lately, but always writes an alias', () => {
    const observations = new IdentityObservations(DEFAULT_IDENTITY_RULES, HASHER);
    expect(observations.lineFor(track(), 'm1', RECEIVED)).toBeDefined();
    expect(observations.lineFor(track(), 'm2', RECEIVED)).toBeUndefined();
    expect(observations.lineFor(track({ anonymousId: 'a2' }), 'm3', RECEIVED)).toBeDefined();
    const alias = track({ type: 'alias', previousId: 'a1' });
    expect(observations.lineFor(alias, 'm4', RECEIVED)).toBeDefined();
    expect(observations.lineFor(alias, 'm5', RECEIVED)).toBeDefined();
  });

  it('still writes a known user and device when the message adds an email, a phone or an external id', () => {
    const observations = new IdentityObservations(DEFAULT_IDENTITY_RULES, HASHER);
    expect(observations.lineFor(track(), 'm1', RECEIVED)).toBeDefined();
    const identify = track({ type: 'identify', traits: { email: 'ada@example.com' } });
    expect(JSON.parse(observations.lineFor(identify, 'm2', RECEIVED)!).ids).toContain(
      `email:${HASHER.email('ada@example.com')}`,
    );
    expect(
      observations.lineFor(track({ context: { traits: { phone: '+44 20 7946 0000' } } }), 'm3', RECEIVED),
    ).toBeDefined();
    const external = track({
      context: { externalIds: [{ id: 'c-9', type: 'crm_id', collection: 'users' }] },
    });
    // crm_id is not a type the default rules name: the set is the known one, and is skipped.
    expect(observations.lineFor(external, 'm4', RECEIVED)).toBeUndefined();
    expect(observations.lineFor(track({ userId: 'u1', anonymousId: null }), 'm5', RECEIVED)).toBeDefined();
    expect(observations.lineFor(track({ userId: 'u1', anonymousId: null }), 'm6', RECEIVED)).toBeUndefined();
  });

  it('forgets the least recently written sets once it holds its capacity twice over', () => {
    const observations = new IdentityObservations(DEFAULT_IDENTITY_RULES, HASHER, 2);
    for (const id of ['a', 'b', 'c', 'd', 'e'])
      observations.lineFor(track({ anonymousId: id }), id, RECEIVED);
    expect(observations.lineFor(track({ anonymousId: 'e' }), 'again', RECEIVED)).toBeUndefined();
    expect(observations.lineFor(track({ anonymousId: 'a' }), 'again', RECEIVED)).toBeDefined();
  });

  it('writes nothing for a message without identifiers the rules name', () => {
    const observations = new IdentityObservations(
      { identifiers: [{ type: 'email', priority: 1, limit: 1, link: true }] },
      HASHER,
    );
    expect(observations.lineFor(track(), 'm1', RECEIVED)).toBeUndefined();
  });
});

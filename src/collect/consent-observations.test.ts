import { describe, expect, it } from 'vitest';
import { DEFAULT_CONSENT_CONFIG, validateConsentConfig } from '../privacy/consent-purposes.js';
import { ConsentObservations, consentDecisionLine, subjectKeysOf } from './consent-observations.js';

const RECEIVED = Date.parse('2026-03-02T10:00:10.000Z');
const track = (fields: Record<string, unknown> = {}) => ({
  type: 'track',
  userId: 'u1',
  anonymousId: 'a1',
  timestamp: Date.parse('2026-03-02T10:00:00.000Z'),
  sentAt: undefined,
  ...fields,
});
const withConsent = (categoryPreferences: Record<string, unknown>, fields: Record<string, unknown> = {}) =>
  track({ context: { consent: { categoryPreferences } }, ...fields });

describe('consent observation lines', () => {
  it('writes nothing for a message without a consent object and without GPC', () => {
    const consent = new ConsentObservations(DEFAULT_CONSENT_CONFIG);
    expect(consent.lineFor(track(), 'm1', RECEIVED, false)).toBeUndefined();
    expect(consent.lineFor(track({ context: { ip: '203.0.113.7' } }), 'm2', RECEIVED, false)).toBeUndefined();
    // A consent object that decides nothing writes nothing either.
    expect(consent.lineFor(withConsent({ analytics: 'yes' }), 'm3', RECEIVED, false)).toBeUndefined();
  });

  it('writes the decisions of context.consent for the user id and the anonymous id, unknown categories kept', () => {
    const consent = new ConsentObservations(DEFAULT_CONSENT_CONFIG);
    const line = consent.lineFor(
      withConsent({ analytics: false, marketing: true, C0009: true }),
      'm1',
      RECEIVED,
      false,
    );
    expect(line?.endsWith('\n')).toBe(true);
    expect(JSON.parse(line!)).toEqual({
      k: 'c',
      id: 'm1',
      received_at: '2026-03-02T10:00:10.000Z',
      ids: ['user_id:u1', 'anonymous_id:a1'],
      consent: [
        {
          purpose: 'analytics',
          granted: false,
          source: 'context.consent',
          category: 'analytics',
          at: '2026-03-02T10:00:00.000Z',
        },
        {
          purpose: 'advertising',
          granted: true,
          source: 'context.consent',
          category: 'marketing',
          at: '2026-03-02T10:00:00.000Z',
        },
      ],
      unknown: ['C0009'],
    });
  });

  it('writes a sale/sharing refusal for a GPC request, with or without a consent object', () => {
    const consent = new ConsentObservations(DEFAULT_CONSENT_CONFIG);
    const line = JSON.parse(consent.lineFor(track({ anonymousId: undefined }), 'm1', RECEIVED, true)!);
    expect(line.ids).toEqual(['user_id:u1']);
    expect(line.consent).toEqual([
      {
        purpose: 'sale_sharing',
        granted: false,
        source: 'gpc',
        category: null,
        at: '2026-03-02T10:00:00.000Z',
      },
    ]);
  });

  it('writes an unchanged choice once per subject, but always a change and an older message', () => {
    const consent = new ConsentObservations(DEFAULT_CONSENT_CONFIG);
    const at = (iso: string) => ({ timestamp: Date.parse(iso) });
    expect(
      consent.lineFor(withConsent({ analytics: false }, at('2026-03-02T10:00:00Z')), 'm1', RECEIVED, false),
    ).toBeDefined();
    expect(
      consent.lineFor(withConsent({ analytics: false }, at('2026-03-02T10:00:05Z')), 'm2', RECEIVED, false),
    ).toBeUndefined();
    // Another subject with the same choice is its own history.
    expect(
      consent.lineFor(
        withConsent({ analytics: false }, { userId: 'u2', ...at('2026-03-02T10:00:05Z') }),
        'm3',
        RECEIVED,
        false,
      ),
    ).toBeDefined();
    expect(
      consent.lineFor(withConsent({ analytics: true }, at('2026-03-02T10:00:06Z')), 'm4', RECEIVED, false),
    ).toBeDefined();
    expect(
      consent.lineFor(withConsent({ analytics: false }, at('2026-03-02T10:00:07Z')), 'm5', RECEIVED, false),
    ).toBeDefined();
    // A late message from before the last one written may belong earlier in the history: written.
    expect(
      consent.lineFor(withConsent({ analytics: false }, at('2026-03-02T09:00:00Z')), 'm6', RECEIVED, false),
    ).toBeDefined();
  });

  it('forgets the oldest subjects past its capacity, which only costs a repeated line', () => {
    const consent = new ConsentObservations(DEFAULT_CONSENT_CONFIG, 2);
    const line = (userId: string, id: string) =>
      consent.lineFor(
        withConsent({ analytics: false }, { userId, anonymousId: undefined }),
        id,
        RECEIVED,
        false,
      );
    expect(line('u1', 'm1')).toBeDefined();
    expect(line('u2', 'm2')).toBeDefined();
    expect(line('u3', 'm3')).toBeDefined();
    expect(line('u4', 'm4')).toBeDefined();
    // Two generations: u1 is still remembered until another generation has filled.
    expect(line('u1', 'm5')).toBeUndefined();
    expect(line('u5', 'm6')).toBeDefined();
    expect(line('u1', 'm7')).toBeDefined();
    expect(line('u4', 'm8')).toBeUndefined();
  });

  it("follows the workspace's category mapping", () => {
    const consent = new ConsentObservations(
      validateConsentConfig({ categories: { C0004: ['advertising', 'sale_sharing'] } }),
    );
    const line = JSON.parse(consent.lineFor(withConsent({ C0004: false }), 'm1', RECEIVED, false)!);
    expect(line.consent.map((o: { purpose: string }) => o.purpose)).toEqual(['advertising', 'sale_sharing']);
    expect(line.unknown).toBeUndefined();
  });

  it('writes API decisions as consent lines with source api', () => {
    const text = consentDecisionLine(
      {
        identifier: 'user_id:42',
        purpose: 'advertising',
        granted: false,
        at: new Date('2026-03-02T10:00:00Z'),
      },
      { identifier: 'user_id:42', purpose: 'analytics', granted: true, at: new Date('2026-03-02T10:00:00Z') },
    );
    const lines = text
      .trimEnd()
      .split('\n')
      .map((each) => JSON.parse(each));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      k: 'c',
      id: expect.stringMatching(/^consent-api-/),
      ids: ['user_id:42'],
      consent: [
        {
          purpose: 'advertising',
          granted: false,
          source: 'api',
          category: null,
          at: '2026-03-02T10:00:00.000Z',
        },
      ],
    });
    expect(lines[0].id).not.toBe(lines[1].id);
  });

  it('refuses to write an API decision about an identifier holding a lone surrogate', () => {
    const decision = {
      identifier: 'user_id:x\ud800',
      purpose: 'advertising',
      granted: false,
      at: new Date(),
    };
    expect(() => consentDecisionLine(decision as never)).toThrow(
      expect.objectContaining({ code: 'REFINERY_ERR_INVALID_UNICODE', details: { field: 'identifier' } }),
    );
  });

  it('names the subject by user id and anonymous id, numbers as text, blanks left out', () => {
    expect(subjectKeysOf({ userId: 42, anonymousId: ' ' })).toEqual(['user_id:42']);
    expect(subjectKeysOf({ anonymousId: 'a1' })).toEqual(['anonymous_id:a1']);
    expect(subjectKeysOf({})).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { consentDecisionsOf, consentSubjectOf } from './consent-decisions.js';

const NOW = new Date('2026-03-02T10:00:00.000Z');

describe('consent API decisions', () => {
  it('turns a request into one decision per purpose for the user id, dated now unless told', () => {
    expect(
      consentDecisionsOf({ userId: '42', purposes: { advertising: false, analytics: true } }, NOW),
    ).toEqual([
      { identifier: 'user_id:42', purpose: 'advertising', granted: false, at: NOW, source: 'api' },
      { identifier: 'user_id:42', purpose: 'analytics', granted: true, at: NOW, source: 'api' },
    ]);
    const dated = consentDecisionsOf(
      { anonymousId: 'a1', purposes: { sale_sharing: false }, at: '2026-03-01T08:00:00Z' },
      NOW,
    );
    expect(dated[0]).toMatchObject({ identifier: 'anonymous_id:a1', at: new Date('2026-03-01T08:00:00Z') });
  });

  it('caps a decision dated in the future at now, so it cannot outrank later choices', () => {
    const [decision] = consentDecisionsOf(
      { userId: '42', purposes: { analytics: false }, at: '2030-01-01T00:00:00Z' },
      NOW,
    );
    expect(decision?.at).toEqual(NOW);
  });

  it('names the field at fault in what it refuses', () => {
    const fieldOf = (body: unknown) => {
      try {
        consentDecisionsOf(body, NOW);
        return 'accepted';
      } catch (error) {
        return (error as { details: { field: string } }).details.field;
      }
    };
    expect(fieldOf({ purposes: { analytics: true } })).toBe('userId');
    expect(fieldOf({ userId: '', purposes: { analytics: true } })).toBe('userId');
    expect(fieldOf({ userId: '42' })).toBe('purposes');
    expect(fieldOf({ userId: '42', purposes: {} })).toBe('purposes');
    expect(fieldOf({ userId: '42', purposes: { marketing: true } })).toBe('purposes.marketing');
    expect(fieldOf({ userId: '42', purposes: { analytics: 'yes' } })).toBe('purposes.analytics');
    expect(fieldOf({ userId: '42', purposes: { analytics: true }, at: 'soon' })).toBe('at');
    expect(fieldOf('text')).toBe('body');
  });

  it('records commands for user ids and anonymous ids only', () => {
    expect(consentSubjectOf('42')).toEqual({ userId: '42' });
    expect(consentSubjectOf('user_id:42')).toEqual({ userId: '42' });
    expect(consentSubjectOf('anonymous_id:a:1')).toEqual({ anonymousId: 'a:1' });
    expect(() => consentSubjectOf('email:ada@example.com')).toThrow(/user id or an anonymous id/);
    expect(() => consentSubjectOf('p_0123456789abcdef')).toThrow(/user id or an anonymous id/);
  });
});

import { describe, expect, it } from 'vitest';
import type { ConsentHistoryRow } from '../store/consent-types.js';
import { consentFlagsOf } from './consent-flags.js';

const row = (fields: Partial<ConsentHistoryRow>): ConsentHistoryRow => ({
  identifier: 'user_id:42',
  purpose: 'analytics',
  granted: true,
  source: 'context.consent',
  category: 'analytics',
  at: '2026-03-02T10:00:00.000Z',
  messageId: 'm1',
  ...fields,
});

describe('consent flags of a person', () => {
  it('leaves a purpose nobody decided null, so the default applies where it is read', () => {
    expect(consentFlagsOf([])).toEqual({
      analytics: null,
      personalisation: null,
      advertising: null,
      sale_sharing: null,
    });
  });

  it('takes the latest decision over all identifiers, then the stronger source, then a denial', () => {
    const flags = consentFlagsOf([
      row({ granted: false, at: '2026-03-01T10:00:00.000Z', identifier: 'anonymous_id:a1' }),
      row({ granted: true, at: '2026-03-02T10:00:00.000Z' }),
      row({ purpose: 'sale_sharing', granted: true, source: 'context.consent' }),
      row({ purpose: 'sale_sharing', granted: false, source: 'gpc', category: null }),
      row({ purpose: 'advertising', granted: true, source: 'api', category: null }),
      row({ purpose: 'advertising', granted: false, source: 'api', category: null }),
    ]);
    expect(flags).toEqual({
      analytics: true,
      personalisation: null,
      advertising: false,
      sale_sharing: false,
    });
  });
});

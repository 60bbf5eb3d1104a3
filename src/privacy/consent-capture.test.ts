import { describe, expect, expectTypeOf, it } from 'vitest';
import type { ValidMessage } from '../collect/segment-message.js';
import { isRefineryError } from '../core/errors.js';
import {
  type ConsentCaptureOptions,
  type ConsentMessage,
  type ConsentObservation,
  consentObservationsOf,
  consentStateAt,
} from './consent-capture.js';
import {
  CONSENT_PURPOSES,
  DEFAULT_CONSENT_CONFIG,
  DEFAULT_CONSENT_DEFAULTS,
  findCategoryPurposes,
  validateConsentConfig,
} from './consent-purposes.js';

const RECEIVED = '2026-03-10T12:00:00.000Z';
const options: ConsentCaptureOptions = {
  gpc: false,
  categories: DEFAULT_CONSENT_CONFIG.categories,
  receivedAt: RECEIVED,
};

function withPreferences(categoryPreferences: unknown, timestamp?: unknown) {
  return { timestamp, context: { consent: { categoryPreferences } } };
}

function configError(input: unknown) {
  try {
    validateConsentConfig(input);
  } catch (error) {
    if (isRefineryError(error)) return error;
    throw error;
  }
  throw new Error('expected the consent settings to be refused');
}

describe('the default category mapping', () => {
  it.each([
    ['Analytics', 'analytics'],
    ['statistics', 'analytics'],
    ['Performance', 'analytics'],
    ['Personalization', 'personalisation'],
    ['personalisation', 'personalisation'],
    ['Functional', 'personalisation'],
    ['PREFERENCES', 'personalisation'],
    ['Advertising', 'advertising'],
    ['Marketing', 'advertising'],
    ['targeting', 'advertising'],
    ['Ads', 'advertising'],
    ['sale_sharing', 'sale_sharing'],
    ['Sale', 'sale_sharing'],
    ['sharing', 'sale_sharing'],
    ['data_sharing', 'sale_sharing'],
    ['DataSharing', 'sale_sharing'],
    ['Data Sharing', 'sale_sharing'],
  ])('maps the category %s to %s', (category, purpose) => {
    const { observations, unknownCategories } = consentObservationsOf(
      withPreferences({ [category]: true }),
      options,
    );
    expect(observations).toEqual([
      { purpose, granted: true, source: 'context.consent', category, at: RECEIVED },
    ]);
    expect(unknownCategories).toEqual([]);
  });

  it('knows strictly necessary categories but lets them decide nothing', () => {
    expect(consentObservationsOf(withPreferences({ Necessary: true, essential: true }), options)).toEqual({
      observations: [],
      unknownCategories: [],
    });
  });

  it('records a refusal as granted: false', () => {
    const { observations } = consentObservationsOf(withPreferences({ Advertising: false }), options);
    expect(observations).toEqual([
      {
        purpose: 'advertising',
        granted: false,
        source: 'context.consent',
        category: 'Advertising',
        at: RECEIVED,
      },
    ]);
  });
});

describe('a custom category mapping', () => {
  const custom = validateConsentConfig({
    categories: { C0002: 'analytics', C0004: ['advertising', 'sale_sharing'], Functional: [] },
  });

  it('maps consent-manager codes to the purposes it names', () => {
    const { observations, unknownCategories } = consentObservationsOf(
      withPreferences({ C0002: true, C0004: false, C0003: true }),
      { ...options, categories: custom.categories },
    );
    expect(observations).toEqual([
      { purpose: 'analytics', granted: true, source: 'context.consent', category: 'C0002', at: RECEIVED },
      { purpose: 'advertising', granted: false, source: 'context.consent', category: 'C0004', at: RECEIVED },
      { purpose: 'sale_sharing', granted: false, source: 'context.consent', category: 'C0004', at: RECEIVED },
    ]);
    expect(unknownCategories).toEqual(['C0003']);
  });

  it('keeps the default names beside the custom ones, and lets [] silence one', () => {
    expect(findCategoryPurposes(custom.categories, 'marketing')).toEqual(['advertising']);
    expect(findCategoryPurposes(custom.categories, 'c0002')).toEqual(['analytics']);
    expect(findCategoryPurposes(custom.categories, 'Functional')).toEqual([]);
  });

  it('replaces a default name the workspace maps differently', () => {
    const config = validateConsentConfig({ categories: { Marketing: 'personalisation' } });
    expect(findCategoryPurposes(config.categories, 'marketing')).toEqual(['personalisation']);
  });

  it('is frozen and safe to look any name up in', () => {
    expect(Object.isFrozen(custom)).toBe(true);
    expect(Object.isFrozen(custom.categories)).toBe(true);
    expect(findCategoryPurposes(custom.categories, 'constructor')).toBeUndefined();
    expect(findCategoryPurposes(custom.categories, '__proto__')).toBeUndefined();
  });
});

describe('consent settings validation', () => {
  it('gives the documented defaults when the section is absent', () => {
    expect(validateConsentConfig(undefined).default).toEqual({
      analytics: 'granted',
      personalisation: 'granted',
      advertising: 'denied',
      sale_sharing: 'denied',
    });
  });

  it('merges a partial default over the default one', () => {
    expect(validateConsentConfig({ default: { analytics: 'denied' } }).default).toEqual({
      ...DEFAULT_CONSENT_DEFAULTS,
      analytics: 'denied',
    });
  });

  it('lists every problem in one REFINERY_ERR_CONFIG_INVALID', () => {
    const error = configError({
      categories: { C0002: 'analytic', C0004: ['advertising', 7], c_0002: 'analytics', '  ': 'analytics' },
      default: { analytics: true, profiling: 'denied' },
      mode: 'strict',
    });
    expect(error.code).toBe('REFINERY_ERR_CONFIG_INVALID');
    expect(error.details.field).toBe('consent.mode');
    expect(error.details.problems).toEqual([
      expect.stringContaining('consent.mode is not a known setting'),
      expect.stringContaining('consent.categories.C0002 is "analytic", not a purpose'),
      expect.stringContaining('consent.categories.C0004[1] is 7, not a purpose'),
      expect.stringContaining('consent.categories.c_0002 is the same category as "C0002"'),
      expect.stringContaining('consent.categories.   is not a usable category name'),
      expect.stringContaining('consent.default.analytics is true; use granted or denied'),
      expect.stringContaining('consent.default.profiling is not a purpose'),
    ]);
  });

  it('refuses sections of the wrong shape', () => {
    expect(configError('yes').details.field).toBe('consent');
    expect(configError({ categories: ['analytics'] }).details.field).toBe('consent.categories');
    expect(configError({ default: 'denied' }).details.field).toBe('consent.default');
  });
});

describe('reading context.consent', () => {
  it('ignores values that are not booleans', () => {
    const { observations } = consentObservationsOf(
      withPreferences({ Analytics: 'true', Advertising: 1, Functional: null, Marketing: false }),
      options,
    );
    expect(observations).toEqual([
      {
        purpose: 'advertising',
        granted: false,
        source: 'context.consent',
        category: 'Marketing',
        at: RECEIVED,
      },
    ]);
  });

  it('reports unknown category names once each and records nothing for them', () => {
    const { observations, unknownCategories } = consentObservationsOf(
      withPreferences({ C0005: true, SocialMedia: false, Analytics: true }),
      options,
    );
    expect(observations.map((o) => o.category)).toEqual(['Analytics']);
    expect(unknownCategories).toEqual(['C0005', 'SocialMedia']);
  });

  it('finds nothing in a message without a usable consent object', () => {
    const nothing = { observations: [], unknownCategories: [] };
    expect(consentObservationsOf({}, options)).toEqual(nothing);
    expect(consentObservationsOf({ context: null }, options)).toEqual(nothing);
    expect(consentObservationsOf({ context: { consent: 'yes' } }, options)).toEqual(nothing);
    expect(consentObservationsOf(withPreferences(['Analytics']), options)).toEqual(nothing);
    expect(consentObservationsOf(withPreferences({}), options)).toEqual(nothing);
  });
});

describe('the GPC signal', () => {
  it('denies sale_sharing and nothing else', () => {
    expect(consentObservationsOf({}, { ...options, gpc: true }).observations).toEqual([
      { purpose: 'sale_sharing', granted: false, source: 'gpc', category: null, at: RECEIVED },
    ]);
  });

  it('wins over a banner that grants sale_sharing in the same message', () => {
    const { observations } = consentObservationsOf(
      withPreferences({ DataSharing: true, Advertising: true }),
      {
        ...options,
        gpc: true,
      },
    );
    expect(observations).toEqual([
      {
        purpose: 'advertising',
        granted: true,
        source: 'context.consent',
        category: 'Advertising',
        at: RECEIVED,
      },
      { purpose: 'sale_sharing', granted: false, source: 'gpc', category: null, at: RECEIVED },
    ]);
    expect(consentStateAt(observations, 'sale_sharing', DEFAULT_CONSENT_DEFAULTS)).toEqual({
      granted: false,
      since: RECEIVED,
      source: 'gpc',
    });
  });
});

describe('the time of a decision', () => {
  it('is the message timestamp when it has one', () => {
    const { observations } = consentObservationsOf(
      withPreferences({ Analytics: true }, '2026-03-10T11:59:30+01:00'),
      options,
    );
    expect(observations[0]?.at).toBe('2026-03-10T10:59:30.000Z');
  });

  it('reads a validated message timestamp in epoch milliseconds', () => {
    expectTypeOf<ValidMessage>().toExtend<ConsentMessage>();
    const { observations } = consentObservationsOf(
      withPreferences({ Analytics: true }, Date.parse('2026-03-10T11:00:00Z')),
      options,
    );
    expect(observations[0]?.at).toBe('2026-03-10T11:00:00.000Z');
  });

  it('falls back to originalTimestamp, then to receivedAt', () => {
    const original = {
      originalTimestamp: '2026-03-10T11:00:00Z',
      context: { consent: { categoryPreferences: { Ads: true } } },
    };
    expect(consentObservationsOf(original, options).observations[0]?.at).toBe('2026-03-10T11:00:00.000Z');
    expect(consentObservationsOf(withPreferences({ Ads: true }), options).observations[0]?.at).toBe(RECEIVED);
    expect(
      consentObservationsOf(withPreferences({ Ads: true }, 'yesterday'), options).observations[0]?.at,
    ).toBe(RECEIVED);
  });

  it('takes receivedAt in epoch milliseconds too', () => {
    const { observations } = consentObservationsOf(withPreferences({ Ads: true }), {
      ...options,
      receivedAt: Date.parse(RECEIVED),
    });
    expect(observations[0]?.at).toBe(RECEIVED);
  });

  it('caps a timestamp later than receipt at receivedAt, so a wrong clock cannot outrank later choices', () => {
    const { observations } = consentObservationsOf(
      withPreferences({ Analytics: true }, '2099-01-01T00:00:00Z'),
      options,
    );
    expect(observations[0]?.at).toBe(RECEIVED);
  });

  it('refuses a receivedAt that is not a time', () => {
    expect(() => consentObservationsOf({}, { ...options, receivedAt: 'soon' })).toThrow(
      expect.objectContaining({ code: 'REFINERY_ERR_INVALID_FIELD', details: { field: 'receivedAt' } }),
    );
  });
});

describe('consent state from a history', () => {
  const seen = (
    purpose: ConsentObservation['purpose'],
    granted: boolean,
    source: ConsentObservation['source'],
    at: string,
  ): ConsentObservation => ({ purpose, granted, source, category: null, at });

  it('falls back to the default of each purpose when nothing is recorded', () => {
    for (const purpose of CONSENT_PURPOSES) {
      expect(consentStateAt([], purpose, DEFAULT_CONSENT_DEFAULTS)).toEqual({
        granted: DEFAULT_CONSENT_DEFAULTS[purpose] === 'granted',
        since: null,
        source: 'default',
      });
    }
  });

  it('uses the configured default rather than the built-in one', () => {
    const { default: defaults } = validateConsentConfig({ default: { advertising: 'granted' } });
    expect(consentStateAt([], 'advertising', defaults).granted).toBe(true);
  });

  it('lets the latest observation win, whatever order the history is in', () => {
    const history = [
      seen('analytics', false, 'context.consent', '2026-03-02T00:00:00Z'),
      seen('analytics', true, 'api', '2026-03-01T00:00:00Z'),
      seen('advertising', true, 'context.consent', '2026-03-03T00:00:00Z'),
    ];
    expect(consentStateAt(history, 'analytics', DEFAULT_CONSENT_DEFAULTS)).toEqual({
      granted: false,
      since: '2026-03-02T00:00:00Z',
      source: 'context.consent',
    });
  });

  it('compares instants, not strings, across time zones and precisions', () => {
    const history = [
      seen('analytics', false, 'context.consent', '2026-03-01T10:00:00.500Z'),
      seen('analytics', true, 'context.consent', '2026-03-01T11:00:00+01:00'),
    ];
    expect(consentStateAt(history, 'analytics', DEFAULT_CONSENT_DEFAULTS).granted).toBe(false);
  });

  it('breaks a tie of time by source: api over gpc over context.consent', () => {
    const at = '2026-03-01T00:00:00Z';
    const banner = seen('sale_sharing', true, 'context.consent', at);
    const gpc = seen('sale_sharing', false, 'gpc', at);
    const api = seen('sale_sharing', true, 'api', '2026-03-01T00:00:00.000Z');
    expect(consentStateAt([banner, gpc], 'sale_sharing', DEFAULT_CONSENT_DEFAULTS).source).toBe('gpc');
    expect(consentStateAt([gpc, banner], 'sale_sharing', DEFAULT_CONSENT_DEFAULTS).source).toBe('gpc');
    expect(consentStateAt([api, gpc, banner], 'sale_sharing', DEFAULT_CONSENT_DEFAULTS)).toEqual({
      granted: true,
      since: '2026-03-01T00:00:00.000Z',
      source: 'api',
    });
    expect(consentStateAt([banner, gpc, api], 'sale_sharing', DEFAULT_CONSENT_DEFAULTS).source).toBe('api');
  });

  it('lets a denial win a tie of time and source, as when two banner categories disagree', () => {
    const { observations } = consentObservationsOf(
      withPreferences({ Marketing: true, Advertising: false }),
      options,
    );
    expect(consentStateAt(observations, 'advertising', DEFAULT_CONSENT_DEFAULTS).granted).toBe(false);
    expect(consentStateAt([...observations].reverse(), 'advertising', DEFAULT_CONSENT_DEFAULTS).granted).toBe(
      false,
    );
  });

  it('lets a later banner choice change an earlier GPC denial', () => {
    const history = [
      seen('sale_sharing', false, 'gpc', '2026-03-01T00:00:00Z'),
      seen('sale_sharing', true, 'context.consent', '2026-03-05T00:00:00Z'),
    ];
    expect(consentStateAt(history, 'sale_sharing', DEFAULT_CONSENT_DEFAULTS).granted).toBe(true);
  });

  it('reads the state at a past moment with asOf', () => {
    const history = [
      seen('advertising', true, 'context.consent', '2026-03-01T00:00:00Z'),
      seen('advertising', false, 'api', '2026-03-05T00:00:00Z'),
    ];
    expect(consentStateAt(history, 'advertising', DEFAULT_CONSENT_DEFAULTS, '2026-03-04T00:00:00Z')).toEqual({
      granted: true,
      since: '2026-03-01T00:00:00Z',
      source: 'context.consent',
    });
    expect(
      consentStateAt(history, 'advertising', DEFAULT_CONSENT_DEFAULTS, '2026-02-01T00:00:00Z').source,
    ).toBe('default');
  });

  it('refuses a history entry whose time cannot be read rather than skip a decision', () => {
    const history = [seen('analytics', false, 'api', 'last tuesday')];
    expect(() => consentStateAt(history, 'analytics', DEFAULT_CONSENT_DEFAULTS)).toThrow(
      expect.objectContaining({ code: 'REFINERY_ERR_INVALID_FIELD', details: { field: 'history[0].at' } }),
    );
  });
});

import type { ConsentFlags, ConsentHistoryRow } from '../store/consent-types.js';
import { consentStateAt } from './consent-capture.js';
import { CONSENT_PURPOSES, type ConsentPurpose, DEFAULT_CONSENT_DEFAULTS } from './consent-purposes.js';

/**
 * A person's standing per purpose from the history of all their identifiers (a merged person's histories
 * together), by `consentStateAt`'s rules: the latest decision wins, ties go to the stronger source, then to a
 * denial. A purpose nobody decided is null, so the workspace's default applies where the flag is read.
 *
 * @example consentFlagsOf(await store.consent.historyOf(['user_id:42', 'anonymous_id:a1'])).advertising
 */
export function consentFlagsOf(history: readonly ConsentHistoryRow[]): ConsentFlags {
  const flags = {} as Record<ConsentPurpose, boolean | null>;
  for (const purpose of CONSENT_PURPOSES) {
    const state = consentStateAt(history, purpose, DEFAULT_CONSENT_DEFAULTS);
    flags[purpose] = state.source === 'default' ? null : state.granted;
  }
  return Object.freeze(flags);
}

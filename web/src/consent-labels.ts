import type { ConsentDecision } from './api-types.js';

/** The purposes in the order the server defines them, for when a response does not list them. */
export const CONSENT_PURPOSES = ['analytics', 'personalisation', 'advertising', 'sale_sharing'] as const;

const PURPOSE_LABELS: Record<string, string> = {
  analytics: 'Analytics',
  personalisation: 'Personalisation',
  advertising: 'Advertising',
  sale_sharing: 'Sale & sharing',
};

export function purposeLabel(purpose: string): string {
  return PURPOSE_LABELS[purpose] ?? purpose;
}

const SOURCE_LABELS: Record<string, string> = {
  api: 'consent API',
  gpc: 'Global Privacy Control',
  'context.consent': 'consent banner',
  default: 'workspace default',
};

/** Where a decision came from, as a person reads it. */
export function consentSourceLabel(source: string): string {
  return SOURCE_LABELS[source] ?? source;
}

export function decisionOf(granted: boolean): ConsentDecision {
  return granted ? 'granted' : 'denied';
}

/** Fixed colours per purpose, so a purpose looks the same on every chart and badge. */
const PURPOSE_COLORS: Record<string, string> = {
  analytics: '#4f46e5',
  personalisation: '#0891b2',
  advertising: '#d97706',
  sale_sharing: '#db2777',
};

export function purposeColor(purpose: string, index: number): string {
  const spare = ['#059669', '#7c3aed', '#65a30d', '#64748b'];
  return PURPOSE_COLORS[purpose] ?? spare[index % spare.length] ?? '#64748b';
}

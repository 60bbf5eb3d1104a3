/**
 * The relations every engine exposes under the same names and columns (see docs/store.md): what a user's
 * read-only query may name, beyond its own common table expressions.
 */
export const QUERYABLE_RELATIONS = new Set([
  'events',
  'rejected_events',
  'orders',
  'order_summary',
  'customers',
  'products',
  'import_rejects',
  'imports',
  'quarantined_events',
  'contract_violations',
  'persons',
  'identities',
  'identity_merges',
  'identity_refusals',
  'consents',
  'events_for_analytics',
  'events_for_personalisation',
  'events_for_advertising',
  'events_for_sale_sharing',
]);

/**
 * What a purpose-scoped query may name: the purpose's own view of events and nothing else, so a feature bound
 * to a purpose cannot read events the person's consent withholds from it.
 */
export function purposeRelations(purpose: string): ReadonlySet<string> {
  return new Set([`events_for_${purpose}`]);
}

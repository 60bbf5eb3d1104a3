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
]);

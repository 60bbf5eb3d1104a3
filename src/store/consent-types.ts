import type { ConsentSource } from '../privacy/consent-capture.js';
import {
  CONSENT_PURPOSES,
  type ConsentDefaults,
  type ConsentPurpose,
  DEFAULT_CONSENT_DEFAULTS,
} from '../privacy/consent-purposes.js';
import type { IdentityCursors } from './identity-types.js';
import type { QueryResult } from './query-result.js';
import type { ReadQueryOptions } from './store.js';

/** One row of a consent history (`consent_log`), as loaded from consent lines. */
export interface ConsentHistoryRow {
  /** `type:value` of the identifier the decision was recorded for. */
  readonly identifier: string;
  readonly purpose: ConsentPurpose;
  readonly granted: boolean;
  readonly source: ConsentSource;
  readonly category: string | null;
  /** ISO 8601 UTC, milliseconds. */
  readonly at: string;
  readonly messageId: string;
}

/** A person's standing per purpose as stored on their identity links: true, false, or null for no decision. */
export type ConsentFlags = Readonly<Record<ConsentPurpose, boolean | null>>;

export const NO_CONSENT_FLAGS: ConsentFlags = Object.freeze({
  analytics: null,
  personalisation: null,
  advertising: null,
  sale_sharing: null,
});

/** The column of `identity_links` (and of the `events` view) holding a purpose's flag. */
export function consentFlagColumn(purpose: ConsentPurpose): string {
  return `consent_${purpose}`;
}

export const CONSENT_FLAG_COLUMNS: readonly string[] = CONSENT_PURPOSES.map(consentFlagColumn);

/** The view features read for a purpose: events of people whose consent (or the default) allows it. */
export function purposeView(purpose: ConsentPurpose): string {
  return `events_for_${purpose}`;
}

/** The metadata key remembering which defaults the purpose views were built with. */
export const CONSENT_DEFAULTS_KEY = 'consent.defaults';

/** Defaults as the metadata table keeps them, in purpose order so equal defaults give equal text. */
export function defaultsText(defaults: ConsentDefaults): string {
  return JSON.stringify(CONSENT_PURPOSES.map((purpose) => [purpose, defaults[purpose]]));
}

/** The defaults migrations build the purpose views with, before `applyDefaults` runs. */
export const MIGRATION_DEFAULTS: ConsentDefaults = DEFAULT_CONSENT_DEFAULTS;

/**
 * The overview's time axis in epoch milliseconds: `count` buckets of `stepMs` from `fromMs`. Engines place each
 * moment `t` in bucket `floor((t - fromMs) / stepMs)`, before the axis at -1, and leave out `t >= toMs`.
 */
export interface OverviewAxis {
  readonly fromMs: number;
  readonly toMs: number;
  readonly stepMs: number;
  readonly count: number;
}

/**
 * What an engine computes for the consent overview, per bucket index (-1: before the axis): people first seen,
 * and per purpose the net change in people granted. A person's first decision changes the count by its
 * difference from the default; each later one by its difference from the one before. Decisions made before a
 * person was first seen count from that moment.
 */
export interface OverviewIncrements {
  readonly people: readonly { readonly bucket: number; readonly count: number }[];
  readonly granted: readonly {
    readonly bucket: number;
    readonly purpose: ConsentPurpose;
    readonly delta: number;
  }[];
  /** Category names the mapping did not know, all time, with how many recorded lines named them (top 100). */
  readonly unknownCategories: readonly { readonly category: string; readonly count: number }[];
}

/** A read-only query scoped to one purpose: it may read only that purpose's view. */
export interface PurposeReader {
  readonly purpose: ConsentPurpose;
  /** The relation to name in SQL. */
  readonly relation: string;
  query(sql: string, options: ReadQueryOptions): Promise<QueryResult>;
}

/**
 * Consent in the store. History rows are written by `events.loadBatch` (WAL `c` lines, in the segment's
 * transaction); identity resolution reads what changed after its cursors and saves per-person flags on
 * `identity_links`, which the `events` view carries and the purpose views filter on.
 */
export interface ConsentRepository {
  /** Identifier keys with history rows loaded after `cursors`, and how far that reaches per stream. */
  changedAfter(cursors: IdentityCursors): Promise<{ identifiers: string[]; cursors: Map<string, number> }>;
  /** Every history row of these identifiers, oldest decision first. */
  historyOf(identifiers: readonly string[]): Promise<ConsentHistoryRow[]>;
  /** Every identifier key with a history, for resolution's in-memory index. */
  identifiersWithHistory(): Promise<string[]>;
  /** Counts for the overview (see `OverviewIncrements`). */
  overview(axis: OverviewAxis, defaults: ConsentDefaults): Promise<OverviewIncrements>;
  /**
   * Rebuilds the purpose views when `defaults` differ from those they were built with (kept in metadata).
   * Returns whether it changed anything. Run at start, before anything reads the views.
   */
  applyDefaults(defaults: ConsentDefaults): Promise<boolean>;
  /** The access-layer entry point for features bound to a purpose. */
  forPurpose(purpose: ConsentPurpose): PurposeReader;
}

/** Sorting key of one decision: by time, then source strength, then a denial; the last one wins (as in consentStateAt). */
export const SOURCE_STRENGTH: Readonly<Record<ConsentSource, number>> = Object.freeze({
  'context.consent': 1,
  gpc: 2,
  api: 3,
});

import { RefineryError } from '../core/errors.js';
import { parseIsoTimestamp } from '../core/iso-time.js';
import { isJsonObject } from '../core/json-object.js';
import {
  type ConsentCategoryMap,
  type ConsentDefaults,
  type ConsentPurpose,
  findCategoryPurposes,
} from './consent-purposes.js';

/** Where a consent decision came from, strongest first: `consentStateAt` breaks ties of time in this order. */
export const CONSENT_SOURCES = ['api', 'gpc', 'context.consent'] as const;

export type ConsentSource = (typeof CONSENT_SOURCES)[number];

/** One decision about one purpose, as a consent history records it. */
export interface ConsentObservation {
  readonly purpose: ConsentPurpose;
  readonly granted: boolean;
  readonly source: ConsentSource;
  /** The consent-manager category as the message named it; null for GPC and the API. */
  readonly category: string | null;
  /** When the decision was made, ISO 8601 in UTC. */
  readonly at: string;
}

/** What one message says about consent. */
export interface ConsentCapture {
  readonly observations: readonly ConsentObservation[];
  /** Category names in `context.consent.categoryPreferences` the mapping does not know, each once, as sent. */
  readonly unknownCategories: readonly string[];
}

/** The parts of a Segment message consent is read from: a validated message or the raw JSON both fit. */
export interface ConsentMessage {
  /** Epoch milliseconds (a validated message) or an ISO 8601 string (raw JSON). */
  readonly timestamp?: unknown;
  readonly originalTimestamp?: unknown;
  readonly context?: unknown;
}

export interface ConsentCaptureOptions {
  /** Whether the request carried `Sec-GPC: 1` (see `gpcFromHeaders`). */
  readonly gpc: boolean;
  readonly categories: ConsentCategoryMap;
  /** When the collector received the message: epoch milliseconds or ISO 8601. */
  readonly receivedAt: number | string;
}

/**
 * The consent decisions one message carries, from `context.consent.categoryPreferences` and the request's GPC
 * signal.
 *
 * - Each category with a boolean value gives one observation per purpose it maps to. Non-boolean values are not
 *   a decision and are skipped; a category missing from the object is not a refusal either (the purpose's
 *   default, or the person's earlier choice, still applies). Unknown category names are returned in
 *   `unknownCategories` so they can be shown and mapped, and decide nothing.
 * - GPC is a "do not sell or share" signal, so it gives a denial of `sale_sharing` only; advertising on the
 *   shop's own data is not what it speaks about, and stays with the banner. When GPC is on, the banner's
 *   categories are not recorded for `sale_sharing` at all: a browser-level opt-out cannot be overridden by a
 *   banner, whose "granted" is often a pre-ticked default. (`consentStateAt` would let GPC win the tie anyway.)
 * - `at` is the message's `timestamp` (else `originalTimestamp`), else `receivedAt`. A time later than receipt
 *   is a wrong client clock and is capped at `receivedAt`, so no message can outrank later decisions by
 *   claiming a future time.
 *
 * @example consentObservationsOf(message, { gpc: gpcFromHeaders(request.headers), categories, receivedAt })
 */
export function consentObservationsOf(
  message: ConsentMessage,
  options: ConsentCaptureOptions,
): ConsentCapture {
  const at = new Date(decisionTimeOf(message, options.receivedAt)).toISOString();
  const observations: ConsentObservation[] = [];
  const unknownCategories: string[] = [];

  for (const [category, value] of Object.entries(categoryPreferencesOf(message.context))) {
    const purposes = findCategoryPurposes(options.categories, category);
    if (purposes === undefined) {
      unknownCategories.push(category);
      continue;
    }
    if (typeof value !== 'boolean') continue;
    for (const purpose of purposes) {
      if (options.gpc && purpose === 'sale_sharing') continue;
      observations.push({ purpose, granted: value, source: 'context.consent', category, at });
    }
  }
  if (options.gpc) {
    observations.push({ purpose: 'sale_sharing', granted: false, source: 'gpc', category: null, at });
  }
  return { observations, unknownCategories };
}

/** A person's standing for one purpose: the deciding observation, or the purpose's default when none. */
export interface ConsentState {
  readonly granted: boolean;
  /** The `at` of the observation that decided it; null when the default applies. */
  readonly since: string | null;
  readonly source: ConsentSource | 'default';
}

/**
 * A person's consent for `purpose` from their history: the latest observation by time wins, so a choice can
 * always be changed later, from any source. Observations at the same instant are ranked by source, the API
 * (an explicit, authenticated request such as an objection) over GPC (a standing browser-level opt-out) over
 * `context.consent` (a banner, often showing defaults); at the same instant and source, a denial wins, as
 * when two categories of one banner that map to one purpose disagree. With no observation the workspace's
 * default applies. `asOf` leaves out observations made after it, to read the state at a past moment.
 *
 * @example consentStateAt(history, 'advertising', config.default).granted
 */
export function consentStateAt(
  history: readonly ConsentObservation[],
  purpose: ConsentPurpose,
  defaults: ConsentDefaults,
  asOf?: number | string,
): ConsentState {
  const cutoff = asOf === undefined ? Number.POSITIVE_INFINITY : timeOrThrow(asOf, 'asOf');
  let winner: { observation: ConsentObservation; time: number } | undefined;
  history.forEach((observation, index) => {
    if (observation.purpose !== purpose) return;
    const time = timeOrThrow(observation.at, `history[${index}].at`);
    if (time > cutoff) return;
    if (winner === undefined || outranks({ observation, time }, winner)) winner = { observation, time };
  });
  if (winner === undefined)
    return { granted: defaults[purpose] === 'granted', since: null, source: 'default' };
  const { granted, at, source } = winner.observation;
  return { granted, since: at, source };
}

interface Timed {
  readonly observation: ConsentObservation;
  readonly time: number;
}

function outranks(candidate: Timed, current: Timed): boolean {
  if (candidate.time !== current.time) return candidate.time > current.time;
  const rank = (source: ConsentSource) => CONSENT_SOURCES.indexOf(source);
  const byRank = rank(candidate.observation.source) - rank(current.observation.source);
  if (byRank !== 0) return byRank < 0;
  return !candidate.observation.granted && current.observation.granted;
}

function categoryPreferencesOf(context: unknown): Record<string, unknown> {
  if (!isJsonObject(context) || !isJsonObject(context.consent)) return {};
  const preferences = context.consent.categoryPreferences;
  return isJsonObject(preferences) ? preferences : {};
}

function decisionTimeOf(message: ConsentMessage, receivedAt: number | string): number {
  const received = timeOrThrow(receivedAt, 'receivedAt');
  const sent = clientTimeOf(message.timestamp) ?? clientTimeOf(message.originalTimestamp);
  return sent === undefined ? received : Math.min(sent, received);
}

const MAX_DATE_MS = 8.64e15;

function clientTimeOf(value: unknown): number | undefined {
  // The range a Date can hold, so the time always has an ISO form.
  if (typeof value === 'number') return Math.abs(value) <= MAX_DATE_MS ? value : undefined;
  if (typeof value === 'string') return parseIsoTimestamp(value);
  return undefined;
}

function timeOrThrow(value: number | string, field: string): number {
  const time = clientTimeOf(value);
  if (time === undefined) {
    throw new RefineryError(
      'REFINERY_ERR_INVALID_FIELD',
      `${field} must be an ISO 8601 date-time or epoch milliseconds.`,
      { field },
    );
  }
  return time;
}

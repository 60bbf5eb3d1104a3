import { RefineryError } from '../core/errors.js';
import type { IdentifierHasher } from '../identity/identifier-hashing.js';
import type { ConsentHistoryRow, OverviewAxis, OverviewIncrements } from '../store/consent-types.js';
import { identifierKey, parseIdentifierKey, type StoredPerson } from '../store/identity-types.js';
import type { Store } from '../store/store.js';
import { type ConsentSource, consentStateAt } from './consent-capture.js';
import { CONSENT_PURPOSES, type ConsentDefaults, type ConsentPurpose } from './consent-purposes.js';

/** A person's standing for one purpose: what applies now, since when, and what decided it. */
export interface ConsentStanding {
  readonly purpose: ConsentPurpose;
  readonly granted: boolean;
  /** When the deciding choice was made; null when the workspace's default applies. */
  readonly since: string | null;
  readonly source: ConsentSource | 'default';
}

export interface ConsentHistoryEntry {
  readonly purpose: ConsentPurpose;
  readonly granted: boolean;
  readonly source: ConsentSource;
  readonly category: string | null;
  readonly at: string;
}

export interface PersonConsent {
  readonly personId: string;
  readonly state: readonly ConsentStanding[];
  /** Every recorded decision about the person's identifiers, oldest first, each once. */
  readonly history: readonly ConsentHistoryEntry[];
}

/**
 * A person's consent: the standing per purpose (their history, else the workspace's default) and the
 * history behind it, over all their identifiers.
 *
 * @example await readPersonConsent(store, await findPerson(store, 'user_id:42'), config.consent.default)
 */
export async function readPersonConsent(
  store: Store,
  person: StoredPerson,
  defaults: ConsentDefaults,
): Promise<PersonConsent> {
  const rows = await store.consent.historyOf(person.identifiers.map(identifierKey));
  const history = distinctDecisions(rows);
  return { personId: person.personId, state: standingsOf(history, defaults), history };
}

/**
 * What a profile shows about consent: the person's standing per purpose. For the profile reader:
 * `consents: await profileConsents(store, person, config.consent.default)`.
 */
export async function profileConsents(
  store: Store,
  person: StoredPerson,
  defaults: ConsentDefaults,
): Promise<readonly ConsentStanding[]> {
  return (await readPersonConsent(store, person, defaults)).state;
}

function standingsOf(history: readonly ConsentHistoryEntry[], defaults: ConsentDefaults): ConsentStanding[] {
  return CONSENT_PURPOSES.map((purpose) => ({ purpose, ...consentStateAt(history, purpose, defaults) }));
}

// A message naming both a user id and an anonymous id is recorded for each; the history shows it once.
function distinctDecisions(rows: readonly ConsentHistoryRow[]): ConsentHistoryEntry[] {
  const seen = new Set<string>();
  const entries: ConsentHistoryEntry[] = [];
  for (const row of rows) {
    const key = [row.messageId, row.purpose, row.source, row.category ?? '', row.at, row.granted].join(
      '\u0000',
    );
    if (seen.has(key)) continue;
    seen.add(key);
    entries.push({
      purpose: row.purpose,
      granted: row.granted,
      source: row.source,
      category: row.category,
      at: row.at,
    });
  }
  const order = (entry: ConsentHistoryEntry) => CONSENT_PURPOSES.indexOf(entry.purpose);
  return entries.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : order(a) - order(b)));
}

export type OverviewInterval = 'day' | 'week';

export interface ConsentOverviewPoint {
  /** Start of the bucket; the counts hold at its end. */
  readonly bucket: string;
  /** People first seen by the bucket's end. */
  readonly people: number;
  /** How many of them stand granted per purpose at the bucket's end (their history, else the default). */
  readonly granted: Readonly<Record<ConsentPurpose, number>>;
}

export interface ConsentOverview {
  readonly interval: OverviewInterval;
  readonly from: string;
  readonly to: string;
  readonly purposes: readonly ConsentPurpose[];
  readonly defaults: ConsentDefaults;
  readonly points: readonly ConsentOverviewPoint[];
  readonly unknownCategories: readonly { readonly category: string; readonly count: number }[];
}

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
// 1970-01-05 was a Monday: weeks start on Mondays, as ISO weeks do.
const FIRST_MONDAY_MS = 4 * DAY_MS;
export const MAX_OVERVIEW_BUCKETS = 1000;

/**
 * The overview's buckets: whole UTC days, or weeks from Monday, covering `from` to `to`. Without `to`, up to
 * `now`; without `from`, 30 days (or 12 weeks) before `to`.
 */
export function overviewAxis(
  interval: OverviewInterval,
  range: { readonly from?: Date; readonly to?: Date },
  now: Date = new Date(),
): OverviewAxis {
  const stepMs = interval === 'week' ? WEEK_MS : DAY_MS;
  const offset = interval === 'week' ? FIRST_MONDAY_MS : 0;
  const toMs = (range.to ?? now).getTime();
  const requestedFrom = range.from?.getTime() ?? toMs - (interval === 'week' ? 12 * WEEK_MS : 30 * DAY_MS);
  if (!(requestedFrom < toMs)) {
    throw new RefineryError('REFINERY_ERR_INVALID_FIELD', '`from` must be before `to`.', { field: 'from' });
  }
  const fromMs = Math.floor((requestedFrom - offset) / stepMs) * stepMs + offset;
  const count = Math.max(1, Math.ceil((toMs - fromMs) / stepMs));
  if (count > MAX_OVERVIEW_BUCKETS) {
    throw new RefineryError(
      'REFINERY_ERR_INVALID_FIELD',
      `The range spans ${count} ${interval}s; ask for at most ${MAX_OVERVIEW_BUCKETS} (narrow from/to, or use interval=week).`,
      { field: 'from', limit: MAX_OVERVIEW_BUCKETS },
    );
  }
  return { fromMs, toMs: fromMs + count * stepMs, stepMs, count };
}

/**
 * Share of people per purpose over time: per bucket, the people known by its end and how many of them stand
 * granted per purpose then. The engine counts per bucket in SQL; the running totals are summed here.
 */
export async function consentOverview(
  store: Store,
  defaults: ConsentDefaults,
  request: { readonly interval: OverviewInterval; readonly from?: Date; readonly to?: Date },
  now: Date = new Date(),
): Promise<ConsentOverview> {
  const axis = overviewAxis(request.interval, request, now);
  const increments = await store.consent.overview(axis, defaults);
  return {
    interval: request.interval,
    from: new Date(axis.fromMs).toISOString(),
    to: new Date(axis.toMs).toISOString(),
    purposes: CONSENT_PURPOSES,
    defaults,
    points: runningTotals(axis, increments, defaults),
    unknownCategories: increments.unknownCategories,
  };
}

/** Bucket increments to running totals; what happened before the axis (bucket -1) is the starting point. */
export function runningTotals(
  axis: OverviewAxis,
  increments: OverviewIncrements,
  defaults: ConsentDefaults,
): ConsentOverviewPoint[] {
  const peopleAt = new Map<number, number>();
  for (const row of increments.people) peopleAt.set(row.bucket, (peopleAt.get(row.bucket) ?? 0) + row.count);
  const deltaAt = new Map<string, number>();
  for (const row of increments.granted) {
    const key = `${row.bucket}|${row.purpose}`;
    deltaAt.set(key, (deltaAt.get(key) ?? 0) + row.delta);
  }
  let people = peopleAt.get(-1) ?? 0;
  const changes = Object.fromEntries(
    CONSENT_PURPOSES.map((purpose) => [purpose, deltaAt.get(`-1|${purpose}`) ?? 0]),
  ) as Record<ConsentPurpose, number>;
  const points: ConsentOverviewPoint[] = [];
  for (let bucket = 0; bucket < axis.count; bucket++) {
    people += peopleAt.get(bucket) ?? 0;
    for (const purpose of CONSENT_PURPOSES) changes[purpose] += deltaAt.get(`${bucket}|${purpose}`) ?? 0;
    const granted = Object.fromEntries(
      CONSENT_PURPOSES.map((purpose) => [
        purpose,
        (defaults[purpose] === 'granted' ? people : 0) + changes[purpose],
      ]),
    ) as Record<ConsentPurpose, number>;
    points.push({ bucket: new Date(axis.fromMs + bucket * axis.stepMs).toISOString(), people, granted });
  }
  return points;
}

/**
 * How the audit log names the person whose consent changed: their person id, or (for an id the graph does not
 * know yet) the workspace's keyed hash of the identifier (`h1:…`, as the suppression list keeps ids). Never the
 * identifier itself, which an erasure could not remove from the append-only log, nor a plain hash of it, which
 * anyone could test a guessed id against.
 */
export async function consentAuditTarget(
  store: Store,
  identifier: string,
  hasher: IdentifierHasher,
): Promise<string> {
  const parsed = parseIdentifierKey(identifier);
  return (await store.identity.personOf(parsed)) ?? hasher.index(parsed);
}

/**
 * The bakery's known customers: who they are, what they agreed to, and how they behave (their persona).
 */
import { DAY_MS, type DayInfo, HOUR_MS, WEEKDAY_DEMAND } from './calendar.js';
import {
  CITIES,
  COMPANIES,
  ContactBook,
  documentationIp,
  FIRST_NAMES,
  LAST_NAMES,
  pickUserAgent,
} from './people.js';
import type { Random } from './random.js';
import type { ConsentPreferences } from './segment-message.js';
import type { CustomerSegment, DemoCustomer } from './types.js';

export type ConsentShares = Record<keyof ConsentPreferences, number>;

/** Share of customers accepting each consent category, by default. */
export const DEFAULT_CONSENT_SHARES: Readonly<ConsentShares> = {
  analytics: 0.86,
  personalisation: 0.58,
  advertising: 0.34,
  sale: 0.08,
};

export interface Persona {
  readonly share: number;
  /** Expected orders a year while active (one-timers buy exactly once). */
  readonly ordersPerYear: number;
  /** Share of their orders placed on the web shop (for customers who use it at all). */
  readonly webShare: number;
  /** Share who were already customers before the simulated period. */
  readonly existingShare: number;
  /** Relative likelihood of shopping on each weekday, Sunday first. */
  readonly weekday: readonly number[];
  /** Relative likelihood of visiting the shop at each opening hour from 7:00 (multiplies the shop's pattern). */
  readonly shopHourTilt: readonly number[];
}

export const PERSONAS: Readonly<Record<CustomerSegment, Persona>> = {
  'loyal-regular': {
    share: 0.14,
    ordersPerYear: 75,
    webShare: 0.08,
    existingShare: 0.85,
    weekday: [0.6, 0.95, 1.05, 1.05, 1.05, 1.1, 1.25],
    shopHourTilt: [2.2, 2.2, 1.4, 0.9, 0.8, 1, 0.9, 0.6, 0.6, 0.6, 0.5],
  },
  'weekend-family': {
    share: 0.18,
    ordersPerYear: 30,
    webShare: 0.3,
    existingShare: 0.65,
    weekday: [2.3, 0.25, 0.35, 0.35, 0.45, 0.8, 2.9],
    shopHourTilt: [0.3, 0.8, 1.6, 1.8, 1.6, 1.2, 0.9, 0.8, 0.9, 0.7, 0.4],
  },
  occasional: {
    share: 0.36,
    ordersPerYear: 12,
    webShare: 0.45,
    existingShare: 0.5,
    weekday: WEEKDAY_DEMAND,
    shopHourTilt: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
  },
  lapsing: {
    share: 0.16,
    ordersPerYear: 40,
    webShare: 0.3,
    existingShare: 1,
    weekday: WEEKDAY_DEMAND,
    shopHourTilt: [1.2, 1.2, 1, 1, 1, 1, 1, 0.9, 0.9, 0.9, 0.8],
  },
  'one-timer': {
    share: 0.16,
    ordersPerYear: 0,
    webShare: 0.55,
    existingShare: 0.1,
    weekday: WEEKDAY_DEMAND,
    shopHourTilt: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
  },
};

const SEGMENTS = Object.keys(PERSONAS) as CustomerSegment[];

/** A browser a customer uses; its `anonymousId` persists across visits, as a cookie would. */
export interface Device {
  readonly anonymousId: string;
  readonly userAgent: number;
  /** The customer has logged in on this device at least once. */
  identified: boolean;
}

/** A customer plus the hidden parameters that drive the simulation. */
export interface SimCustomer {
  readonly row: DemoCustomer;
  readonly index: number;
  readonly segment: CustomerSegment;
  readonly persona: Persona;
  readonly consent: ConsentPreferences;
  /** Exact signup time in epoch ms. */
  readonly signupMs: number;
  /** Index of the simulated day of signup, or -1 when they signed up before the period. */
  readonly signupDay: number;
  /** No activity from this day index on (lapsing customers); otherwise Infinity. */
  readonly lapseDay: number;
  /** For one-timers: the day index of their only order; otherwise -1. */
  readonly onlyOrderDay: number;
  /** Chance of an order on an average day of an average week. */
  readonly dailyOrderRate: number;
  readonly webShare: number;
  /** Chance of a web visit without buying, on any day. */
  readonly dailyBrowseRate: number;
  readonly weekdayFactor: readonly number[];
  readonly devices: Device[];
  readonly homeIp: string;
}

function normalise(values: readonly number[]): number[] {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return values.map((v) => v / mean);
}

/** Draws consent so that each category's share matches `shares`; sale implies advertising when its share is lower. */
export function drawConsent(rng: Random, shares: ConsentShares): ConsentPreferences {
  const marketing = rng.next();
  return {
    analytics: rng.chance(shares.analytics),
    personalisation: rng.chance(shares.personalisation),
    advertising: marketing < shares.advertising,
    sale: marketing < shares.sale,
  };
}

/** A day index drawn with density growing over the period (more signups later: the business grows). */
function growingDay(rng: Random, first: number, last: number): number {
  if (last <= first) return first;
  for (;;) {
    const x = rng.next();
    if (rng.next() * 1.8 < 1 + 0.8 * x) return first + Math.floor(x * (last - first + 1));
  }
}

function timeOfDayMs(rng: Random, fromHour: number, toHour: number): number {
  return Math.floor(rng.float(fromHour * HOUR_MS, toHour * HOUR_MS) / 1000) * 1000;
}

export interface CustomerOptions {
  readonly count: number;
  readonly days: readonly DayInfo[];
  readonly consentShares: ConsentShares;
}

export function generateCustomers(rng: Random, options: CustomerOptions): SimCustomer[] {
  const { days, count } = options;
  const periodStart = days[0]!.startMs;
  const n = days.length;
  const contacts = new ContactBook();
  const customers: SimCustomer[] = [];
  const segmentWeights = SEGMENTS.map((s) => PERSONAS[s].share);
  const cityWeights = CITIES.map((c) => c.weight);
  for (let index = 0; index < count; index++) {
    const segment = rng.weighted(SEGMENTS, segmentWeights);
    const persona = PERSONAS[segment];
    const firstName = rng.pick(FIRST_NAMES);
    const lastName = rng.pick(LAST_NAMES);
    const city = rng.weighted(CITIES, cityWeights);
    const existing = n < 14 || rng.chance(persona.existingShare);
    const signupChannel: 'web' | 'shop' = rng.chance(segment === 'one-timer' ? 0.6 : 0.5) ? 'web' : 'shop';
    let signupDay = -1;
    let signupMs: number;
    if (existing) {
      signupMs = periodStart - rng.int(1, 1100) * DAY_MS + timeOfDayMs(rng, 8, 21);
    } else {
      signupDay = growingDay(rng, 0, Math.max(0, n - 8));
      const [from, to] = signupChannel === 'web' ? [8, 22] : [8, 17];
      signupMs = days[signupDay]!.startMs + timeOfDayMs(rng, from, to);
    }
    let lapseDay = Number.POSITIVE_INFINITY;
    if (segment === 'lapsing') lapseDay = rng.int(Math.round(n * 0.17), Math.max(1, Math.round(n * 0.67)));
    let onlyOrderDay = -1;
    if (segment === 'one-timer') onlyOrderDay = signupDay >= 0 ? signupDay : rng.int(0, n - 1);

    // Some customers never use the web shop; those who signed up online always do.
    const usesWeb = signupChannel === 'web' || rng.chance(0.65);
    const webShare = usesWeb ? Math.min(0.95, Math.max(0.05, persona.webShare * rng.spread(0.5))) : 0;
    const ordersPerYear = persona.ordersPerYear * rng.spread(0.35);
    const dailyBrowseRate = usesWeb ? (4 + ordersPerYear * webShare * 2.2) / 365 : 0;
    const devices: Device[] = [];
    if (usesWeb) {
      const deviceCount = rng.chance(0.35) ? 2 : 1;
      for (let d = 0; d < deviceCount; d++) {
        devices.push({ anonymousId: rng.uuid(), userAgent: pickUserAgent(rng), identified: false });
      }
    }
    const consent = drawConsent(rng, options.consentShares);
    const company = segment !== 'one-timer' && rng.chance(0.03) ? rng.pick(COMPANIES) : undefined;
    const row: DemoCustomer = {
      customer_id: `c_${String(index + 1).padStart(5, '0')}`,
      email: contacts.email(rng, firstName, lastName),
      first_name: firstName,
      last_name: lastName,
      phone: contacts.phone(rng, city.area),
      city: city.name,
      created_at: new Date(signupMs).toISOString(),
      signup_channel: signupChannel,
      segment,
      consent_analytics: consent.analytics,
      consent_personalisation: consent.personalisation,
      consent_advertising: consent.advertising,
      consent_sale: consent.sale,
      lapsed_on: Number.isFinite(lapseDay) ? days[lapseDay]!.isoDate : null,
      group_id: company?.id ?? null,
    };
    customers.push({
      row,
      index,
      segment,
      persona,
      consent,
      signupMs,
      signupDay,
      lapseDay,
      onlyOrderDay,
      dailyOrderRate: ordersPerYear / 365,
      webShare,
      dailyBrowseRate,
      weekdayFactor: normalise(persona.weekday),
      devices,
      homeIp: documentationIp(rng),
    });
  }
  return customers;
}

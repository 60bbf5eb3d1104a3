/**
 * The bakery's calendar: which days are simulated, how busy each one is, and which seasonal ranges are on sale.
 * All dates are UTC calendar days; the shop's local time is treated as UTC to keep the data easy to reason about.
 */

export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;
export const MINUTE_MS = 60_000;

/** Seasons a product can belong to; `all` means sold all year. */
export type Season = 'all' | 'christmas' | 'easter' | 'summer' | 'autumn' | 'valentine';
export const SEASONS: readonly Season[] = ['all', 'christmas', 'easter', 'summer', 'autumn', 'valentine'];

/** Parts of the day that shape what people buy: bread and coffee in the morning, sandwiches at lunch. */
export type Daypart = 'morning' | 'lunch' | 'afternoon' | 'evening';
export const DAYPARTS: readonly Daypart[] = ['morning', 'lunch', 'afternoon', 'evening'];

/** 0 = Sunday … 6 = Saturday, as `Date.getUTCDay()`. */
export type Weekday = 0 | 1 | 2 | 3 | 4 | 5 | 6;

/** Footfall by weekday for the shop as a whole: Saturday is the peak, Monday the quietest day. */
export const WEEKDAY_DEMAND: readonly number[] = [1.05, 0.62, 0.8, 0.86, 0.92, 1.12, 1.63];

/** Overall demand by month (January lull, busy December). */
const MONTH_DEMAND: readonly number[] = [0.84, 0.9, 0.95, 1, 1.02, 1, 0.95, 0.9, 1, 1.02, 1.06, 1.22];

/** Growth over the simulated period: demand at the end is this much higher than at the start. */
export const ANNUAL_GROWTH = 0.18;

export interface DayInfo {
  /** 0 for the first simulated day. */
  readonly index: number;
  /** Midnight UTC of this day, in epoch milliseconds. */
  readonly startMs: number;
  /** `YYYY-MM-DD`. */
  readonly isoDate: string;
  readonly weekday: Weekday;
  /** 0 = January. */
  readonly month: number;
  readonly dayOfMonth: number;
  /** Relative position in the period, 0 at the start and 1 at the end. */
  readonly progress: number;
  /** Multiplier for overall demand: month × special days × trend (weekday not included). */
  readonly seasonDemand: number;
  /** The shop is closed (Christmas Day, Boxing Day, New Year's Day). */
  readonly shopClosed: boolean;
  /** The web shop takes no orders (Christmas Day). */
  readonly webClosed: boolean;
  /** How strongly each seasonal range sells today; 0 means not on sale at all. */
  readonly seasonWeight: Readonly<Record<Season, number>>;
}

/** Easter Sunday of a Gregorian year (the anonymous Gregorian algorithm), as a UTC day start in ms. */
export function easterSunday(year: number): number {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return Date.UTC(year, month - 1, day);
}

/** Midnight UTC of the day containing `ms`. */
export function utcDayStart(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

function christmasWeight(month: number, dayOfMonth: number): number {
  if (month === 10) return 0.35 + 0.65 * (dayOfMonth / 30);
  if (month !== 11) return 0;
  if (dayOfMonth <= 24) return 1 + 1.6 * (dayOfMonth / 24);
  return 0.7;
}

function easterWeight(dayStart: number, year: number): number {
  const daysToEaster = Math.round((easterSunday(year) - dayStart) / DAY_MS);
  if (daysToEaster > 35 || daysToEaster < -1) return 0;
  // Rises towards Good Friday, then falls away over the weekend.
  if (daysToEaster >= 2) return 0.3 + 2.7 * (1 - (daysToEaster - 2) / 33);
  return 2.2;
}

function summerWeight(month: number, dayOfMonth: number): number {
  // On sale from mid-May to mid-September, best in July and August.
  const position = month + (dayOfMonth - 1) / 31;
  if (position < 4.45 || position >= 8.5) return 0;
  if (position < 6) return 0.3 + 0.7 * ((position - 4.45) / 1.55);
  if (position < 8) return 1.3;
  return 1.3 - 0.9 * ((position - 8) / 0.5);
}

function autumnWeight(month: number, dayOfMonth: number): number {
  if (month === 9) return 1.2;
  if (month === 8 && dayOfMonth >= 15) return 0.6;
  if (month === 10 && dayOfMonth <= 5) return 0.6;
  return 0;
}

function valentineWeight(month: number, dayOfMonth: number): number {
  if (month !== 1 || dayOfMonth > 14) return 0;
  return 0.4 + 2.6 * (dayOfMonth / 14) ** 2;
}

function specialDayDemand(month: number, dayOfMonth: number): number {
  if (month === 11 && dayOfMonth >= 18 && dayOfMonth <= 24) return 1.35;
  if (month === 11 && dayOfMonth >= 27) return 0.8;
  if (month === 0 && dayOfMonth <= 3) return 0.75;
  return 1;
}

/** Describes one UTC day of the simulation. */
export function describeDay(index: number, startMs: number, totalDays: number): DayInfo {
  const date = new Date(startMs);
  const month = date.getUTCMonth();
  const dayOfMonth = date.getUTCDate();
  const year = date.getUTCFullYear();
  const progress = totalDays <= 1 ? 0 : index / (totalDays - 1);
  const christmasDay = month === 11 && dayOfMonth === 25;
  return {
    index,
    startMs,
    isoDate: date.toISOString().slice(0, 10),
    weekday: date.getUTCDay() as Weekday,
    month,
    dayOfMonth,
    progress,
    seasonDemand: MONTH_DEMAND[month]! * specialDayDemand(month, dayOfMonth) * (1 + ANNUAL_GROWTH * progress),
    shopClosed: christmasDay || (month === 11 && dayOfMonth === 26) || (month === 0 && dayOfMonth === 1),
    webClosed: christmasDay,
    seasonWeight: {
      all: 1,
      christmas: christmasWeight(month, dayOfMonth),
      easter: easterWeight(startMs, year),
      summer: summerWeight(month, dayOfMonth),
      autumn: autumnWeight(month, dayOfMonth),
      valentine: valentineWeight(month, dayOfMonth),
    },
  };
}

/**
 * The simulated days: the `days` whole UTC days before the day that contains `end`,
 * so no generated timestamp is ever later than `end` (the demo can pass "now" without creating future events).
 */
export function simulationDays(end: Date, days: number): DayInfo[] {
  const endMs = end.getTime();
  if (!Number.isFinite(endMs)) throw new RangeError('The demo end date is not a valid date');
  if (!Number.isInteger(days) || days < 1)
    throw new RangeError(`The demo needs at least one day, got ${days}`);
  const firstDay = utcDayStart(endMs) - days * DAY_MS;
  const result: DayInfo[] = [];
  for (let i = 0; i < days; i++) result.push(describeDay(i, firstDay + i * DAY_MS, days));
  return result;
}

/** The part of the day an hour (0–23) falls in. */
export function daypartOf(hour: number): Daypart {
  if (hour < 11) return 'morning';
  if (hour < 14) return 'lunch';
  if (hour < 18) return 'afternoon';
  return 'evening';
}

/** Relative share of shop visits by hour, from 7:00 to 17:00 (the shop shuts at 18:00; 16:00 on Sundays). */
export const SHOP_HOUR_WEIGHTS: Readonly<Record<'weekday' | 'saturday' | 'sunday', readonly number[]>> = {
  //        7    8    9   10   11   12   13   14   15   16   17
  weekday: [1.6, 2.3, 1.7, 1.1, 1.0, 1.9, 1.6, 0.8, 0.9, 0.8, 0.5],
  saturday: [0.7, 1.5, 2.1, 2.3, 2.0, 1.8, 1.4, 1.0, 0.9, 0.7, 0.4],
  sunday: [0, 0.9, 1.8, 2.2, 2.0, 1.6, 1.1, 0.7, 0.5, 0, 0],
};
export const SHOP_OPENING_HOUR = 7;

/** Relative share of web-shop orders by hour, from 7:00 to 22:00: evenings are the busiest. */
export const WEB_HOUR_WEIGHTS: readonly number[] = [
  0.5, 0.8, 1, 1, 1, 1.3, 1.2, 0.9, 0.9, 1, 1.2, 1.5, 1.9, 2.1, 1.6, 0.8,
];
export const WEB_FIRST_HOUR = 7;

/**
 * `generateBakery`: a deterministic year in the life of a bakery with a web shop and a high-street shop.
 *
 * Orders, customers and products are generated up front (tens of thousands of rows). Web visits are planned up
 * front too, but only rendered to Segment messages when `events()` is iterated, one day at a time.
 * The same options always give byte-identical output; the clock is never read.
 */
import { DayAssortment } from './baskets.js';
import { DAY_MS, type DayInfo, simulationDays } from './calendar.js';
import { buildCatalogue } from './catalogue.js';
import {
  type ConsentShares,
  DEFAULT_CONSENT_SHARES,
  drawConsent,
  generateCustomers,
  type SimCustomer,
} from './customers.js';
import {
  assignOrderIds,
  makeOrder,
  orderLines,
  type SimOrder,
  shopVisitTime,
  walkInCount,
  webVisitTime,
} from './orders.js';
import { documentationIp, pickUserAgent } from './people.js';
import { Random } from './random.js';
import type { SegmentMessage } from './segment-message.js';
import {
  type PlanningContext,
  planBrowseSession,
  planPurchaseSession,
  renderSession,
  type SessionPlan,
  sessionSteps,
  type Visitor,
} from './sessions.js';
import type { DemoCustomer, DemoOrderLine, DemoProduct } from './types.js';

export interface DemoOptions {
  seed: number;
  customers: number;
  products: number;
  days: number;
  /** The simulation covers the `days` whole UTC days before the day containing `end`. */
  end: Date;
  /** Share of customers accepting each consent category (defaults in `DEFAULT_CONSENT_SHARES`). */
  consentShares?: Partial<ConsentShares>;
}

export const DEFAULT_DEMO_OPTIONS: Readonly<Omit<DemoOptions, 'end'>> = {
  seed: 42,
  customers: 3000,
  products: 200,
  days: 365,
};

export interface DemoSummary {
  customers: number;
  products: number;
  orders: number;
  orderLines: number;
  events: number;
  /** Total of all order lines, GBP. */
  revenue: number;
}

export interface DemoBusiness {
  products: DemoProduct[];
  customers: DemoCustomer[];
  /** All order lines of both channels, sorted by `ordered_at`. */
  orderLines: DemoOrderLine[];
  /** Segment spec messages sorted by timestamp, rendered lazily one day at a time; every call starts afresh. */
  events(): Iterable<SegmentMessage>;
  summary: DemoSummary;
  /** The simulated period: from `start` (inclusive) to `end` (exclusive), both midnight UTC. */
  period: { start: Date; end: Date };
}

const STREAM_CUSTOMERS = 1;
const STREAM_DAY = 2;
const STREAM_VISITORS = 3;

/** Anonymous walk-ins per day for every 1,000 customers, before weekday and season. */
const WALK_INS_PER_THOUSAND = 15;
/** Web visitors who never become customers, per customer. */
const ANONYMOUS_VISITORS_PER_CUSTOMER = 1.3;

function validate(options: DemoOptions): void {
  const positive = (name: string, value: number, min: number): void => {
    if (!Number.isInteger(value) || value < min)
      throw new RangeError(`Demo option ${name} must be an integer ≥ ${min}`);
  };
  if (!Number.isFinite(options.seed)) throw new RangeError('Demo option seed must be a finite number');
  positive('customers', options.customers, 0);
  positive('products', options.products, 1);
  positive('days', options.days, 1);
}

/** An activity of a day, collected first and then processed in time order (devices remember logins). */
type Intent =
  | { kind: 'order'; at: number; customer: SimCustomer | null; channel: 'web' | 'pos'; signup: boolean }
  | { kind: 'browse'; at: number; visitor: Visitor; signup: boolean };

function visitorFor(rng: Random, customer: SimCustomer): Visitor {
  const device = customer.devices.length > 1 && rng.chance(0.4) ? customer.devices[1]! : customer.devices[0]!;
  return {
    customer,
    device,
    consent: customer.consent,
    ip: rng.chance(0.7) ? customer.homeIp : documentationIp(rng),
  };
}

export function generateBakery(options: DemoOptions): DemoBusiness {
  validate(options);
  const seed = options.seed;
  const days = simulationDays(options.end, options.days);
  const consentShares: ConsentShares = { ...DEFAULT_CONSENT_SHARES, ...options.consentShares };
  const catalogue = buildCatalogue(options.products);
  const customers = generateCustomers(Random.derive(seed, STREAM_CUSTOMERS), {
    count: options.customers,
    days,
    consentShares,
  });

  // Visitors who browse but never buy, and customers' anonymous visits before they sign up online.
  const visitsByDay: Visitor[][] = days.map(() => []);
  const visitorRng = Random.derive(seed, STREAM_VISITORS);
  const anonymousCount = Math.round(options.customers * ANONYMOUS_VISITORS_PER_CUSTOMER);
  for (let i = 0; i < anonymousCount; i++) {
    const device = {
      anonymousId: visitorRng.uuid(),
      userAgent: pickUserAgent(visitorRng),
      identified: false,
    };
    const visitor: Visitor = {
      customer: null,
      device,
      consent: drawConsent(visitorRng, consentShares),
      ip: documentationIp(visitorRng),
    };
    const visits = 1 + visitorRng.poisson(0.9);
    const firstDay = visitorRng.int(0, days.length - 1);
    for (let v = 0; v < visits; v++) {
      const day = firstDay + (v === 0 ? 0 : visitorRng.int(1, 60));
      if (day < days.length) visitsByDay[day]!.push(visitor);
    }
  }
  for (const customer of customers) {
    if (customer.signupDay < 0 || customer.row.signup_channel !== 'web') continue;
    const device = customer.devices[0]!;
    const visits = visitorRng.poisson(1.2);
    for (let v = 0; v < visits; v++) {
      const day = customer.signupDay - visitorRng.int(1, 21);
      if (day >= 0) {
        visitsByDay[day]!.push({ customer: null, device, consent: customer.consent, ip: customer.homeIp });
      }
    }
  }

  const sessionsByDay: SessionPlan[][] = [];
  const orders: SimOrder[] = [];
  const counters = { web: 0, pos: 0 };
  let sessionCounter = 0;
  let eventCount = 0;
  const walkInsPerDay = (options.customers / 1000) * WALK_INS_PER_THOUSAND;

  for (const day of days) {
    const rng = Random.derive(seed, STREAM_DAY, day.index);
    const intents = collectIntents(rng, day, customers, visitsByDay[day.index]!, walkInsPerDay);
    const assortment = new DayAssortment(catalogue, day);
    const ctx: PlanningContext = { rng, day, assortment, nextSessionId: () => ++sessionCounter };
    const dayOrders: SimOrder[] = [];
    const daySessions: SessionPlan[] = [];
    for (const intent of intents) {
      if (intent.kind === 'browse') {
        daySessions.push(planBrowseSession(ctx, intent.visitor, intent.at, intent.signup));
        continue;
      }
      const order = makeOrder(rng, assortment, intent.channel, intent.at, intent.customer);
      if (!order) continue;
      dayOrders.push(order);
      if (intent.channel === 'web' && intent.customer) {
        daySessions.push(planPurchaseSession(ctx, visitorFor(rng, intent.customer), order, intent.signup));
      }
    }
    assignOrderIds(dayOrders, counters);
    orders.push(...dayOrders);
    for (const session of daySessions) eventCount += sessionSteps(session).length;
    sessionsByDay.push(daySessions);
  }

  const lines = orders.flatMap(orderLines);
  let revenue = 0;
  for (const line of lines) revenue += line.line_total;
  const products: DemoProduct[] = catalogue.products.map((p) => ({
    product_id: p.product_id,
    name: p.name,
    category: p.category,
    price: p.price,
    currency: p.currency,
    season: p.season,
    tags: p.tags,
  }));

  return {
    products,
    customers: customers.map((c) => c.row),
    orderLines: lines,
    events: () => renderDays(sessionsByDay, seed),
    summary: {
      customers: customers.length,
      products: products.length,
      orders: orders.length,
      orderLines: lines.length,
      events: eventCount,
      revenue: Math.round(revenue * 100) / 100,
    },
    period: { start: new Date(days[0]!.startMs), end: new Date(days[days.length - 1]!.startMs + DAY_MS) },
  };
}

function collectIntents(
  rng: Random,
  day: DayInfo,
  customers: readonly SimCustomer[],
  anonymousVisits: readonly Visitor[],
  walkInsPerDay: number,
): Intent[] {
  const intents: Intent[] = [];
  const order = (customer: SimCustomer | null, channel: 'web' | 'pos', at: number, signup = false): void => {
    intents.push({ kind: 'order', at, customer, channel, signup });
  };
  for (const customer of customers) {
    const i = day.index;
    if (i < customer.signupDay || i >= customer.lapseDay) continue;
    const web = customer.devices.length > 0;
    if (i === customer.signupDay) {
      // The day they join: online (with or without a first order) or with a loyalty card at the till.
      if (customer.row.signup_channel === 'web') {
        const buys = customer.segment === 'one-timer' || rng.chance(0.55);
        if (buys && !day.webClosed) order(customer, 'web', customer.signupMs + rng.int(4, 25) * 60_000, true);
        else
          intents.push({
            kind: 'browse',
            at: customer.signupMs,
            visitor: visitorFor(rng, customer),
            signup: true,
          });
      } else if (!day.shopClosed) {
        order(customer, 'pos', customer.signupMs);
      }
      continue;
    }
    if (customer.segment === 'one-timer') {
      if (i !== customer.onlyOrderDay) continue;
    } else {
      // Lapsing customers fade out over their last two months before stopping altogether.
      const fading = Number.isFinite(customer.lapseDay)
        ? Math.min(1, Math.max(0.3, (customer.lapseDay - i) / 60))
        : 1;
      const p = customer.dailyOrderRate * customer.weekdayFactor[day.weekday]! * day.seasonDemand * fading;
      if (!rng.chance(Math.min(0.95, p))) {
        if (web && rng.chance(customer.dailyBrowseRate)) {
          intents.push({
            kind: 'browse',
            at: webVisitTime(rng, day),
            visitor: visitorFor(rng, customer),
            signup: false,
          });
        }
        continue;
      }
    }
    const wantsWeb = web && rng.chance(customer.webShare);
    if (wantsWeb && !day.webClosed) order(customer, 'web', webVisitTime(rng, day));
    else if (!day.shopClosed) order(customer, 'pos', shopVisitTime(rng, day, customer.persona.shopHourTilt));
  }
  const walkIns = walkInCount(rng, day, walkInsPerDay);
  for (let w = 0; w < walkIns; w++) order(null, 'pos', shopVisitTime(rng, day));
  for (const visitor of anonymousVisits) {
    intents.push({ kind: 'browse', at: webVisitTime(rng, day), visitor, signup: false });
  }
  intents.sort((a, b) => a.at - b.at);
  return intents;
}

function* renderDays(
  sessionsByDay: readonly (readonly SessionPlan[])[],
  seed: number,
): Generator<SegmentMessage> {
  for (const sessions of sessionsByDay) {
    const messages: SegmentMessage[] = [];
    for (const session of sessions) {
      for (const message of renderSession(session, seed)) messages.push(message);
    }
    // ISO timestamps of the same length sort correctly as strings; the sort is stable for equal times.
    messages.sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0));
    yield* messages;
  }
}

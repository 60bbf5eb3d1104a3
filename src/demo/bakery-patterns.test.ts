import { describe, expect, it } from 'vitest';
import { type DemoOptions, generateBakery } from './bakery-generator.js';
import { PLANTED_RULES } from './catalogue.js';
import type { DemoOrderLine } from './types.js';

const SMALL: DemoOptions = {
  seed: 11,
  customers: 400,
  products: 60,
  days: 365,
  end: new Date('2026-01-01T00:00:00Z'),
};

const business = generateBakery(SMALL);
const products = new Map(business.products.map((p) => [p.product_id, p]));

interface Order {
  id: string;
  at: string;
  customer: string | null;
  channel: string;
  lines: DemoOrderLine[];
}
const orders = new Map<string, Order>();
for (const line of business.orderLines) {
  const order = orders.get(line.order_id) ?? {
    id: line.order_id,
    at: line.ordered_at,
    customer: line.customer_id,
    channel: line.channel,
    lines: [],
  };
  order.lines.push(line);
  orders.set(line.order_id, order);
}

function revenueWhere(test: (line: DemoOrderLine) => boolean): number {
  let total = 0;
  for (const line of business.orderLines) if (test(line)) total += line.line_total;
  return total;
}

const month = (iso: string): number => new Date(iso).getUTCMonth();

describe('generateBakery: business patterns', () => {
  it('sells more on Saturdays than on Mondays, and Monday is the quietest day', () => {
    const byWeekday = [0, 1, 2, 3, 4, 5, 6].map((d) =>
      revenueWhere((line) => new Date(line.ordered_at).getUTCDay() === d),
    );
    expect(byWeekday[6]).toBeGreaterThan(byWeekday[1]! * 2);
    expect(Math.min(...byWeekday)).toBe(byWeekday[1]);
    expect(Math.max(...byWeekday)).toBe(byWeekday[6]);
  });

  it('sells bread mostly in the morning and sandwiches at lunchtime in the shop', () => {
    const shop = business.orderLines.filter((line) => line.channel === 'pos');
    const share = (category: string, from: number, to: number): number => {
      const lines = shop.filter((line) => line.category === category);
      const inWindow = lines.filter((line) => {
        const hour = new Date(line.ordered_at).getUTCHours();
        return hour >= from && hour < to;
      });
      return inWindow.length / lines.length;
    };
    expect(share('Bread', 7, 12)).toBeGreaterThan(0.7);
    expect(share('Sandwiches', 11, 15)).toBeGreaterThan(0.5);
  });

  it('sells Christmas items only in November and December, and sells plenty of them then', () => {
    const christmas = business.orderLines.filter(
      (line) => products.get(line.product_id)!.season === 'christmas',
    );
    expect(christmas.length).toBeGreaterThan(200);
    expect(new Set(christmas.map((line) => month(line.ordered_at)))).toEqual(new Set([10, 11]));
  });

  it('sells Easter items only in the weeks before Easter and summer drinks only in summer', () => {
    const easter = business.orderLines.filter((line) => products.get(line.product_id)!.season === 'easter');
    expect(easter.length).toBeGreaterThan(50);
    // Easter 2025 was on 20 April: sales from mid-March to Easter Monday.
    expect(easter.every((line) => line.ordered_at >= '2025-03-16' && line.ordered_at < '2025-04-22')).toBe(
      true,
    );
    const iced = business.orderLines.filter((line) => line.product_name === 'Iced coffee');
    expect(iced.length).toBeGreaterThan(50);
    expect(iced.every((line) => month(line.ordered_at) >= 4 && month(line.ordered_at) <= 8)).toBe(true);
    const julyAugust = iced.filter(
      (line) => month(line.ordered_at) === 6 || month(line.ordered_at) === 7,
    ).length;
    expect(julyAugust / iced.length).toBeGreaterThan(0.5);
  });

  it('shows no seasonal product in an order or a product view outside its season', () => {
    const viewed = [...business.events()].filter((m) => m.event === 'Product Viewed');
    const offSeason = viewed.filter((m) => {
      const product = products.get(m.properties!.product_id as string)!;
      return product.season === 'christmas' && month(m.timestamp) < 10;
    });
    expect(offSeason).toEqual([]);
  });

  it('grows: December is the best month, and autumn sells more than early spring', () => {
    const byMonth = Array.from({ length: 12 }, (_, m) =>
      revenueWhere((line) => month(line.ordered_at) === m),
    );
    expect(Math.max(...byMonth)).toBe(byMonth[11]);
    expect(byMonth[8]! + byMonth[9]!).toBeGreaterThan(byMonth[1]! + byMonth[2]!);
  });

  it('plants association rules that show a lift above 2 in the order lines', () => {
    const baskets = [...orders.values()].map(
      (order) => new Set(order.lines.flatMap((line) => products.get(line.product_id)!.tags)),
    );
    const n = baskets.length;
    for (const rule of PLANTED_RULES) {
      const a = baskets.filter((tags) => tags.has(rule.antecedent)).length;
      const c = baskets.filter((tags) => tags.has(rule.consequent)).length;
      const both = baskets.filter((tags) => tags.has(rule.antecedent) && tags.has(rule.consequent)).length;
      const support = both / n;
      const confidence = both / a;
      const lift = confidence / (c / n);
      expect(support, rule.description).toBeGreaterThan(0.002);
      expect(confidence, rule.description).toBeGreaterThan(0.25);
      expect(lift, rule.description).toBeGreaterThan(2);
    }
  });

  it('shows the flat white and butter croissant pair at product level too', () => {
    const id = (name: string): string => business.products.find((p) => p.name === name)!.product_id;
    const coffee = id('Flat white');
    const croissant = id('Butter croissant');
    const has = (order: Order, productId: string): boolean =>
      order.lines.some((l) => l.product_id === productId);
    const all = [...orders.values()];
    const a = all.filter((o) => has(o, coffee)).length;
    const b = all.filter((o) => has(o, croissant)).length;
    const both = all.filter((o) => has(o, coffee) && has(o, croissant)).length;
    expect(both / all.length / ((a / all.length) * (b / all.length))).toBeGreaterThan(2);
  });

  it('makes lapsing customers stop buying and browsing well before the last three months', () => {
    const lapsing = business.customers.filter((c) => c.segment === 'lapsing');
    expect(lapsing.length).toBeGreaterThan(30);
    const ids = new Set(lapsing.map((c) => c.customer_id));
    const lastOrder = new Map<string, string>();
    for (const line of business.orderLines) {
      if (line.customer_id && ids.has(line.customer_id)) lastOrder.set(line.customer_id, line.ordered_at);
    }
    // They did buy earlier in the year…
    expect(lastOrder.size).toBeGreaterThan(lapsing.length * 0.9);
    // …but nothing in the last three months, nor after their lapse date.
    for (const customer of lapsing) {
      const last = lastOrder.get(customer.customer_id);
      if (!last) continue;
      expect(last < '2025-10-01').toBe(true);
      expect(last.slice(0, 10) < customer.lapsed_on!).toBe(true);
    }
    const lapsedOn = new Map(lapsing.map((c) => [c.customer_id, c.lapsed_on!]));
    const lateEvents = [...business.events()].filter(
      (m) => m.userId && lapsedOn.has(m.userId) && m.timestamp.slice(0, 10) >= lapsedOn.get(m.userId)!,
    );
    expect(lateEvents).toEqual([]);
    // Everyone else with a lapse date is null.
    expect(business.customers.filter((c) => c.segment !== 'lapsing').every((c) => c.lapsed_on === null)).toBe(
      true,
    );
  });

  it('gives personas distinct behaviour: regulars buy often, one-timers once, families at weekends', () => {
    const counts = new Map<string, number>();
    const weekend = new Map<string, number>();
    for (const order of orders.values()) {
      if (!order.customer) continue;
      counts.set(order.customer, (counts.get(order.customer) ?? 0) + 1);
      const day = new Date(order.at).getUTCDay();
      if (day === 0 || day === 6) weekend.set(order.customer, (weekend.get(order.customer) ?? 0) + 1);
    }
    const mean = (segment: string, f: (id: string) => number): number => {
      const ids = business.customers.filter((c) => c.segment === segment).map((c) => c.customer_id);
      return ids.reduce((sum, id) => sum + f(id), 0) / ids.length;
    };
    const orderCount = (id: string): number => counts.get(id) ?? 0;
    expect(mean('loyal-regular', orderCount)).toBeGreaterThan(40);
    expect(mean('loyal-regular', orderCount)).toBeGreaterThan(mean('occasional', orderCount) * 3);
    const oneTimers = business.customers.filter((c) => c.segment === 'one-timer');
    expect(oneTimers.every((c) => orderCount(c.customer_id) <= 1)).toBe(true);
    expect(oneTimers.filter((c) => orderCount(c.customer_id) === 1).length).toBeGreaterThan(
      oneTimers.length * 0.9,
    );
    const weekendShare = (id: string): number =>
      counts.get(id) ? (weekend.get(id) ?? 0) / counts.get(id)! : 0;
    expect(mean('weekend-family', weekendShare)).toBeGreaterThan(0.6);
  });

  it('has both channels, known and anonymous shop customers, and orders only after signup', () => {
    const all = [...orders.values()];
    const web = all.filter((o) => o.channel === 'web');
    const shopKnown = all.filter((o) => o.channel === 'pos' && o.customer);
    const shopAnonymous = all.filter((o) => o.channel === 'pos' && !o.customer);
    expect(web.length).toBeGreaterThan(500);
    expect(shopKnown.length).toBeGreaterThan(web.length);
    expect(shopAnonymous.length).toBeGreaterThan(500);
    expect(
      web.every((o) => o.customer && o.id.startsWith('W') && o.lines.every((l) => l.store === 'Web shop')),
    ).toBe(true);
    expect(all.filter((o) => o.channel === 'pos').every((o) => o.id.startsWith('S'))).toBe(true);
    const created = new Map(business.customers.map((c) => [c.customer_id, c.created_at]));
    expect(all.filter((o) => o.customer && o.at < created.get(o.customer)!)).toEqual([]);
    // Order lines are sorted by time, and the shop is closed on Christmas Day.
    const times = business.orderLines.map((l) => l.ordered_at);
    expect([...times].sort()).toEqual(times);
    expect(all.filter((o) => o.at.startsWith('2025-12-25'))).toEqual([]);
  });
});

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type DemoBusiness, type DemoOptions, generateBakery } from './bakery-generator.js';
import type { SegmentMessage } from './segment-message.js';
import type { DemoCustomer } from './types.js';

const SMALL: DemoOptions = {
  seed: 7,
  customers: 400,
  products: 60,
  days: 365,
  end: new Date('2026-01-01T00:00:00Z'),
};

function fingerprint(business: DemoBusiness): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify(business.products));
  hash.update(JSON.stringify(business.customers));
  hash.update(JSON.stringify(business.orderLines));
  for (const message of business.events()) hash.update(JSON.stringify(message));
  return hash.digest('hex');
}

const business = generateBakery(SMALL);
const messages: SegmentMessage[] = [...business.events()];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('generateBakery: reproducibility and shape', () => {
  it('gives identical output for the same seed and different output for another seed', () => {
    const first = fingerprint(business);
    expect(fingerprint(generateBakery(SMALL))).toBe(first);
    expect(fingerprint(generateBakery({ ...SMALL, seed: 8 }))).not.toBe(first);
  });

  it('renders the same events every time events() is iterated', () => {
    const again = [...business.events()];
    expect(again).toHaveLength(messages.length);
    expect(again[1000]).toEqual(messages[1000]);
    expect(again.at(-1)).toEqual(messages.at(-1));
  });

  it('creates exactly the configured numbers of customers and products, and a consistent summary', () => {
    expect(business.customers).toHaveLength(SMALL.customers);
    expect(business.products).toHaveLength(SMALL.products);
    const orderIds = new Set(business.orderLines.map((line) => line.order_id));
    const revenue = business.orderLines.reduce((sum, line) => sum + line.line_total, 0);
    expect(business.summary).toEqual({
      customers: 400,
      products: 60,
      orders: orderIds.size,
      orderLines: business.orderLines.length,
      events: messages.length,
      revenue: Math.round(revenue * 100) / 100,
    });
    expect(business.summary.orders).toBeGreaterThan(5000);
    expect(business.period.start.toISOString()).toBe('2025-01-01T00:00:00.000Z');
    expect(business.period.end.toISOString()).toBe('2026-01-01T00:00:00.000Z');
  });

  it('gives every message a unique UUID-shaped messageId, an ISO timestamp inside the period, and a user or anonymous id', () => {
    const ids = new Set<string>();
    const bad = messages.filter((message) => {
      ids.add(message.messageId);
      return (
        !UUID.test(message.messageId) ||
        new Date(message.timestamp).toISOString() !== message.timestamp ||
        message.timestamp < '2025-01-01T00:00:00.000Z' ||
        message.timestamp >= '2026-01-01' ||
        !(message.userId || message.anonymousId) ||
        !['track', 'identify', 'page', 'group', 'alias'].includes(message.type)
      );
    });
    expect(bad).toEqual([]);
    expect(ids.size).toBe(messages.length);
  });

  it('sorts messages by timestamp', () => {
    for (let i = 1; i < messages.length; i++) {
      if (messages[i]!.timestamp < messages[i - 1]!.timestamp) {
        throw new Error(`message ${i} is earlier than the one before it`);
      }
    }
  });

  it('sends consent, user agent, documentation-range IP, library and page in the context', () => {
    const documentationIp = /^(192\.0\.2|198\.51\.100|203\.0\.113)\.\d{1,3}$/;
    const consentKeys = 'advertising,analytics,personalisation,sale';
    const bad = messages.filter((message) => {
      const context = message.context;
      const preferences = context?.consent?.categoryPreferences ?? {};
      return (
        Object.keys(preferences).sort().join(',') !== consentKeys ||
        !context?.userAgent?.startsWith('Mozilla/5.0 ') ||
        !documentationIp.test(context.ip ?? '') ||
        context.library?.name !== 'analytics.js' ||
        !context.page?.url.startsWith('https://crumb-and-co.example/')
      );
    });
    expect(bad).toEqual([]);
    const pageNames = new Set(messages.filter((m) => m.type === 'page').map((m) => m.name));
    for (const name of ['Home', 'Category', 'Product', 'Cart', 'Checkout']) expect(pageNames).toContain(name);
  });

  it('keeps events within the configured, reasonable size for the demo', () => {
    // About 110 messages per customer: the default 3,000 customers give roughly half a million.
    expect(messages.length / SMALL.customers).toBeGreaterThan(100);
    expect(messages.length / SMALL.customers).toBeLessThan(200);
  });

  it('rejects nonsensical options', () => {
    expect(() => generateBakery({ ...SMALL, customers: -1 })).toThrow(RangeError);
    expect(() => generateBakery({ ...SMALL, products: 0 })).toThrow(RangeError);
    expect(() => generateBakery({ ...SMALL, days: 1.5 })).toThrow(RangeError);
    expect(() => generateBakery({ ...SMALL, seed: Number.NaN })).toThrow(RangeError);
  });

  it('works for a tiny business over a short period', () => {
    const tiny = generateBakery({ ...SMALL, customers: 5, products: 3, days: 3 });
    expect(tiny.customers).toHaveLength(5);
    expect(tiny.products).toHaveLength(3);
    expect([...tiny.events()]).toHaveLength(tiny.summary.events);
    const none = generateBakery({ ...SMALL, customers: 0, days: 2 });
    expect(none.customers).toHaveLength(0);
    expect([...none.events()]).toHaveLength(0);
  });
});

describe('generateBakery: people', () => {
  it('puts every e-mail address on a reserved domain, and each address is unique', () => {
    for (const customer of business.customers) {
      expect(customer.email).toMatch(/^[a-z0-9._]+@example\.(com|org|net)$/);
    }
    expect(new Set(business.customers.map((c) => c.email)).size).toBe(business.customers.length);
    for (const message of messages) {
      const email = message.traits?.email;
      if (email !== undefined) expect(email).toMatch(/@example\.(com|org|net)$/);
    }
  });

  it("uses only phone numbers from Ofcom's drama ranges", () => {
    const drama = /^\+44 (7700 900|117 496 0|20 7946 0|29 2018 0|161 496 0|113 496 0)\d{3}$/;
    for (const customer of business.customers) expect(customer.phone).toMatch(drama);
  });

  it('gives customer ids, signup dates and personas in the expected form', () => {
    expect(business.customers[41]!.customer_id).toBe('c_00042');
    const segments = new Set(business.customers.map((c) => c.segment));
    expect([...segments].sort()).toEqual([
      'lapsing',
      'loyal-regular',
      'occasional',
      'one-timer',
      'weekend-family',
    ]);
    const joinedDuringYear = business.customers.filter((c) => c.created_at >= '2025-01-01').length;
    expect(joinedDuringYear).toBeGreaterThan(business.customers.length * 0.2);
    expect(joinedDuringYear).toBeLessThan(business.customers.length * 0.7);
  });

  it('matches the configured consent shares, and changes them when configured differently', () => {
    const share = (customers: readonly DemoCustomer[], key: keyof DemoCustomer): number =>
      customers.filter((c) => c[key] === true).length / customers.length;
    expect(share(business.customers, 'consent_analytics')).toBeCloseTo(0.86, 1);
    expect(share(business.customers, 'consent_personalisation')).toBeCloseTo(0.58, 1);
    expect(share(business.customers, 'consent_advertising')).toBeCloseTo(0.34, 1);
    expect(share(business.customers, 'consent_sale')).toBeCloseTo(0.08, 1);
    const custom = generateBakery({
      ...SMALL,
      days: 30,
      customers: 2000,
      consentShares: { analytics: 0.5, sale: 0.3 },
    }).customers;
    expect(share(custom, 'consent_analytics')).toBeCloseTo(0.5, 1);
    expect(share(custom, 'consent_sale')).toBeCloseTo(0.3, 1);
    expect(share(custom, 'consent_advertising')).toBeCloseTo(0.34, 1);
    // Selling data implies accepting advertising when fewer people accept selling.
    expect(business.customers.every((c) => !c.consent_sale || c.consent_advertising)).toBe(true);
  });

  it("sends a customer's own consent choices with their events", () => {
    const byId = new Map(business.customers.map((c) => [c.customer_id, c]));
    const bad = messages.filter((message) => {
      if (!message.userId) return false;
      const customer = byId.get(message.userId)!;
      const preferences = message.context?.consent?.categoryPreferences;
      return (
        preferences?.analytics !== customer.consent_analytics ||
        preferences.personalisation !== customer.consent_personalisation ||
        preferences.advertising !== customer.consent_advertising ||
        preferences.sale !== customer.consent_sale
      );
    });
    expect(bad).toEqual([]);
  });

  it('identifies customers with their traits after anonymous browsing, so identities can be stitched', () => {
    const identifies = messages.filter((m) => m.type === 'identify');
    expect(identifies.length).toBeGreaterThan(300);
    const byId = new Map(business.customers.map((c) => [c.customer_id, c]));
    for (const message of identifies) {
      expect(message.userId).toBeDefined();
      expect(message.anonymousId).toBeDefined();
      const customer = byId.get(message.userId!)!;
      expect(message.traits).toEqual({
        email: customer.email,
        firstName: customer.first_name,
        lastName: customer.last_name,
        city: customer.city,
        phone: customer.phone,
        createdAt: customer.created_at,
      });
    }
    // Anonymous ids seen without a user id before they were identified.
    const anonymousFirst = new Set<string>();
    const stitched = new Set<string>();
    for (const message of messages) {
      if (!message.anonymousId) continue;
      if (!message.userId) anonymousFirst.add(message.anonymousId);
      else if (anonymousFirst.has(message.anonymousId)) stitched.add(message.anonymousId);
    }
    expect(stitched.size).toBeGreaterThan(100);
    // Some customers use two browsers: two anonymous ids resolve to one customer.
    const devicesPerUser = new Map<string, Set<string>>();
    for (const message of identifies) {
      const set = devicesPerUser.get(message.userId!) ?? new Set<string>();
      set.add(message.anonymousId!);
      devicesPerUser.set(message.userId!, set);
    }
    expect([...devicesPerUser.values()].filter((s) => s.size > 1).length).toBeGreaterThan(10);
  });

  it('includes sign-ups, aliases and company groups', () => {
    const signUps = messages.filter((m) => m.event === 'Signed Up');
    expect(signUps.length).toBeGreaterThan(20);
    for (const m of messages.filter((m) => m.type === 'alias')) {
      expect(m.previousId).toBe(m.anonymousId);
      expect(m.userId).toMatch(/^c_\d{5}$/);
    }
    expect(messages.some((m) => m.type === 'alias')).toBe(true);
    const groups = messages.filter((m) => m.type === 'group');
    expect(groups.length).toBeGreaterThan(0);
    for (const m of groups) {
      expect(m.groupId).toMatch(/^g_\d{3}$/);
      expect(m.traits?.name).toEqual(expect.any(String));
    }
  });
});

describe('generateBakery: web shop', () => {
  it('matches every Order Completed event with a web order of the same id, time, total and lines', () => {
    const webOrders = new Map<
      string,
      { at: string; customer: string | null; total: number; lines: string[] }
    >();
    for (const line of business.orderLines) {
      if (line.channel !== 'web') continue;
      const order = webOrders.get(line.order_id) ?? {
        at: line.ordered_at,
        customer: line.customer_id,
        total: 0,
        lines: [],
      };
      order.total += line.line_total;
      order.lines.push(`${line.product_id}x${line.quantity}`);
      webOrders.set(line.order_id, order);
    }
    const completed = messages.filter((m) => m.event === 'Order Completed');
    expect(completed.length).toBe(webOrders.size);
    const seen = new Set<string>();
    for (const message of completed) {
      const p = message.properties as {
        order_id: string;
        total: number;
        revenue: number;
        currency: string;
        products: { product_id: string; quantity: number; price: number; category: string }[];
      };
      const order = webOrders.get(p.order_id);
      expect(order, p.order_id).toBeDefined();
      seen.add(p.order_id);
      expect(message.timestamp).toBe(order!.at);
      expect(message.userId).toBe(order!.customer);
      expect(p.currency).toBe('GBP');
      expect(p.total).toBeCloseTo(order!.total, 2);
      expect(p.revenue).toBe(p.total);
      expect(p.products.map((x) => `${x.product_id}x${x.quantity}`).sort()).toEqual([...order!.lines].sort());
      expect(p.products.every((x) => typeof x.category === 'string' && x.price > 0)).toBe(true);
    }
    expect(seen.size).toBe(webOrders.size);
  });

  it('shows funnel drop-off from views to adds to checkouts to orders, with abandoned searches and carts', () => {
    const count = (event: string): number => messages.filter((m) => m.event === event).length;
    const viewed = count('Product Viewed');
    const added = count('Product Added');
    const cartViewed = count('Cart Viewed');
    const checkoutStarted = count('Checkout Started');
    const completed = count('Order Completed');
    expect(count('Products Searched')).toBeGreaterThan(0);
    expect(viewed).toBeGreaterThan(added);
    expect(cartViewed).toBeGreaterThan(checkoutStarted);
    expect(checkoutStarted).toBeGreaterThan(completed * 1.1);
    // Carts with something added that never reached an order.
    const cartsAdded = new Set(
      messages.filter((m) => m.event === 'Product Added').map((m) => m.properties!.cart_id),
    );
    const cartsOrdered = new Set(
      messages.filter((m) => m.event === 'Order Completed').map((m) => m.properties!.cart_id),
    );
    expect(cartsAdded.size - cartsOrdered.size).toBeGreaterThan(completed * 0.3);
    expect(messages.filter((m) => m.type === 'page' && m.name === 'Home').length).toBeGreaterThan(
      completed * 2,
    );
  });

  it('sends product properties with Product Viewed and Product Added', () => {
    const products = new Map(business.products.map((p) => [p.product_id, p]));
    const bad = messages.filter((m) => {
      if (m.event !== 'Product Viewed' && m.event !== 'Product Added') return false;
      const p = m.properties as {
        product_id: string;
        name: string;
        category: string;
        price: number;
        quantity?: number;
        cart_id?: string;
      };
      const product = products.get(p.product_id);
      if (!product || p.name !== product.name || p.category !== product.category || p.price !== product.price)
        return true;
      return m.event === 'Product Added' && !((p.quantity ?? 0) > 0 && UUID.test(p.cart_id ?? ''));
    });
    expect(bad).toEqual([]);
  });
});

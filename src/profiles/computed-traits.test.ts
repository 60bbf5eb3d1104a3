import { describe, expect, it } from 'vitest';
import type { PersonEvent } from '../store/profile-types.js';
import { computeTraits } from './computed-traits.js';
import { latestTraits } from './profile-reader.js';

let counter = 0;
function order(timestamp: string, properties: Record<string, unknown>): PersonEvent {
  return {
    messageId: `m${++counter}`,
    type: 'track',
    event: 'Order Completed',
    name: null,
    userId: 'u1',
    anonymousId: null,
    timestamp,
    source: 'web',
    properties,
    traits: null,
    contextTraits: null,
  };
}

describe('computed traits', () => {
  it('counts orders, sums revenue to the cent and averages over orders with an amount', () => {
    const traits = computeTraits([
      order('2026-03-01T10:00:00.000Z', { order_id: 'o1', revenue: 10.1 }),
      order('2026-03-02T10:00:00.000Z', { order_id: 'o2', total: '20.20' }),
      order('2026-03-03T10:00:00.000Z', { order_id: 'o3' }),
    ]);
    expect(traits).toMatchObject({
      orderCount: 3,
      revenue: 30.3,
      averageOrderValue: 15.15,
      lastOrderAt: '2026-03-03T10:00:00.000Z',
    });
  });

  it('prices an order from its products when it names no revenue or total', () => {
    const traits = computeTraits([
      order('2026-03-01T10:00:00.000Z', {
        products: [
          { price: 2.5, quantity: 4, category: 'bread' },
          { price: 3, category: 'cake' },
        ],
      }),
    ]);
    expect(traits.revenue).toBe(13);
  });

  it('counts an order sent twice under one order id once, keeping the latest', () => {
    const traits = computeTraits([
      order('2026-03-01T10:00:00.000Z', { order_id: 'o1', revenue: 5 }),
      order('2026-03-01T10:00:05.000Z', { order_id: 'o1', revenue: 6 }),
    ]);
    expect(traits).toMatchObject({ orderCount: 1, revenue: 6 });
  });

  it('names the category bought most by quantity, ties going to the first name', () => {
    const traits = computeTraits([
      order('2026-03-01T10:00:00.000Z', {
        products: [{ category: 'pastry', quantity: 3 }, { category: 'bread' }],
      }),
      order('2026-03-02T10:00:00.000Z', { products: [{ category: 'bread', quantity: 2 }] }),
    ]);
    expect(traits.favouriteCategory).toBe('bread');
    expect(
      computeTraits([
        order('2026-03-01T10:00:00.000Z', { products: [{ category: 'b' }, { category: 'a' }] }),
      ]),
    ).toMatchObject({ favouriteCategory: 'a' });
  });

  it('has no amounts and no favourite for a person without orders', () => {
    expect(computeTraits([])).toEqual({
      orderCount: 0,
      revenue: null,
      averageOrderValue: null,
      lastOrderAt: null,
      favouriteCategory: null,
    });
  });
});

describe('latest traits', () => {
  it('keeps the latest value of each trait by event time, the call’s own traits winning over context.traits', () => {
    const identify = (
      timestamp: string,
      traits: Record<string, unknown>,
      contextTraits: Record<string, unknown> | null = null,
    ): PersonEvent => ({
      ...order(timestamp, {}),
      type: 'identify',
      event: null,
      traits,
      contextTraits,
    });
    const { traits, updatedAt } = latestTraits([
      identify('2026-03-03T10:00:00.000Z', { plan: 'pro' }, { plan: 'free', city: 'Leeds' }),
      identify('2026-03-01T10:00:00.000Z', { plan: 'basic', name: 'Ada' }),
    ]);
    expect(traits).toEqual({ plan: 'pro', name: 'Ada', city: 'Leeds' });
    expect(updatedAt).toEqual({
      plan: '2026-03-03T10:00:00.000Z',
      name: '2026-03-01T10:00:00.000Z',
      city: '2026-03-03T10:00:00.000Z',
    });
  });
});

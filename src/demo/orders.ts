/**
 * Orders of both channels, and the shop's (POS) side: when people walk in and what they buy at the till.
 */
import type { BasketItem, DayAssortment, ShopperProfile } from './baskets.js';
import {
  type DayInfo,
  daypartOf,
  HOUR_MS,
  SHOP_HOUR_WEIGHTS,
  SHOP_OPENING_HOUR,
  WEB_FIRST_HOUR,
  WEB_HOUR_WEIGHTS,
  WEEKDAY_DEMAND,
} from './calendar.js';
import type { SimCustomer } from './customers.js';
import type { Random } from './random.js';
import type { Channel, DemoOrderLine } from './types.js';

export const SHOP_STORE = 'High Street';
export const WEB_STORE = 'Web shop';

/** An order while the simulation runs; ids are given once a day's orders are sorted by time. */
export interface SimOrder {
  orderId: string;
  readonly orderedMs: number;
  readonly customer: SimCustomer | null;
  readonly channel: Channel;
  readonly items: readonly BasketItem[];
  readonly total: number;
}

export function roundMoney(value: number): number {
  return Math.round(value * 100) / 100;
}

export function basketTotal(items: readonly BasketItem[]): number {
  let total = 0;
  for (const item of items) total += item.product.price * item.quantity;
  return roundMoney(total);
}

/** A time (whole seconds) during opening hours, following the shop's hourly pattern and the shopper's habits. */
export function shopVisitTime(rng: Random, day: DayInfo, tilt?: readonly number[]): number {
  const pattern =
    day.weekday === 6
      ? SHOP_HOUR_WEIGHTS.saturday
      : day.weekday === 0
        ? SHOP_HOUR_WEIGHTS.sunday
        : SHOP_HOUR_WEIGHTS.weekday;
  const weights = tilt ? pattern.map((w, i) => w * (tilt[i] ?? 1)) : pattern;
  const hour = SHOP_OPENING_HOUR + rng.weightedIndex(weights);
  return day.startMs + hour * HOUR_MS + rng.int(0, 3599) * 1000;
}

/** A time (whole seconds) when someone uses the web shop, evenings being busiest. */
export function webVisitTime(rng: Random, day: DayInfo): number {
  const hour = WEB_FIRST_HOUR + rng.weightedIndex(WEB_HOUR_WEIGHTS);
  return day.startMs + hour * HOUR_MS + rng.int(0, 3599) * 1000;
}

/** How many anonymous walk-ins (no loyalty card) the shop serves today. */
export function walkInCount(rng: Random, day: DayInfo, perDay: number): number {
  if (day.shopClosed) return 0;
  return rng.poisson(perDay * WEEKDAY_DEMAND[day.weekday]! * day.seasonDemand);
}

/** Builds an order at `orderedMs`: a basket for the channel, the time of day and the shopper. */
export function makeOrder(
  rng: Random,
  assortment: DayAssortment,
  channel: Channel,
  orderedMs: number,
  customer: SimCustomer | null,
): SimOrder | null {
  const hour = new Date(orderedMs).getUTCHours();
  const profile: ShopperProfile = customer ? customer.segment : 'walk-in';
  const items = assortment.buildBasket(rng, { channel, daypart: daypartOf(hour), profile });
  if (items.length === 0) return null;
  return { orderId: '', orderedMs, customer, channel, items, total: basketTotal(items) };
}

/** Sorts a day's orders by time and numbers them per channel (`W000001`, `S000001`). */
export function assignOrderIds(orders: SimOrder[], counters: { web: number; pos: number }): void {
  orders.sort((a, b) => a.orderedMs - b.orderedMs);
  for (const order of orders) {
    if (order.channel === 'web') order.orderId = `W${String(++counters.web).padStart(6, '0')}`;
    else order.orderId = `S${String(++counters.pos).padStart(6, '0')}`;
  }
}

export function orderLines(order: SimOrder): DemoOrderLine[] {
  const orderedAt = new Date(order.orderedMs).toISOString();
  return order.items.map((item) => ({
    order_id: order.orderId,
    ordered_at: orderedAt,
    customer_id: order.customer ? order.customer.row.customer_id : null,
    channel: order.channel,
    store: order.channel === 'web' ? WEB_STORE : SHOP_STORE,
    product_id: item.product.product_id,
    product_name: item.product.name,
    category: item.product.category,
    quantity: item.quantity,
    unit_price: item.product.price,
    line_total: roundMoney(item.product.price * item.quantity),
    currency: 'GBP',
  }));
}

import { asJsonObject } from '../core/json-object.js';
import type { PersonEvent } from '../store/profile-types.js';

/** The track event whose properties computed traits read (Segment's e-commerce spec). */
export const ORDER_COMPLETED = 'Order Completed';

export interface ComputedTraits {
  readonly orderCount: number;
  /** Sum of order revenue, rounded to cents; null when no order carried an amount. */
  readonly revenue: number | null;
  readonly averageOrderValue: number | null;
  readonly lastOrderAt: string | null;
  /** The product category bought most often (by quantity); ties go to the name first in order. */
  readonly favouriteCategory: string | null;
}

/**
 * Computed traits from a person's `Order Completed` events. An order's amount is `properties.revenue`, else
 * `properties.total`, else the sum of its products' `price × quantity` (the spec allows each). Orders repeated
 * under one `order_id` (a retried checkout sent twice with new message ids) count once, keeping the latest.
 */
export function computeTraits(orders: readonly PersonEvent[]): ComputedTraits {
  const byOrder = new Map<string, PersonEvent>();
  for (const order of orders) {
    const id = orderIdOf(order) ?? `message:${order.messageId}`;
    const seen = byOrder.get(id);
    if (!seen || seen.timestamp <= order.timestamp) byOrder.set(id, order);
  }
  let revenueCents = 0;
  let withAmount = 0;
  let lastOrderAt: string | null = null;
  const categories = new Map<string, number>();
  for (const order of byOrder.values()) {
    const amount = amountOf(order.properties);
    if (amount !== undefined) {
      revenueCents += Math.round(amount * 100);
      withAmount++;
    }
    if (lastOrderAt === null || order.timestamp > lastOrderAt) lastOrderAt = order.timestamp;
    for (const product of productsOf(order.properties)) {
      const category = typeof product.category === 'string' ? product.category.trim() : '';
      if (!category) continue;
      categories.set(category, (categories.get(category) ?? 0) + quantityOf(product));
    }
  }
  let favouriteCategory: string | null = null;
  let most = 0;
  for (const [category, count] of [...categories].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (count > most) {
      favouriteCategory = category;
      most = count;
    }
  }
  const orderCount = byOrder.size;
  return {
    orderCount,
    revenue: withAmount > 0 ? revenueCents / 100 : null,
    averageOrderValue: withAmount > 0 ? Math.round(revenueCents / withAmount) / 100 : null,
    lastOrderAt,
    favouriteCategory,
  };
}

function orderIdOf(order: PersonEvent): string | undefined {
  const id = order.properties?.order_id ?? order.properties?.orderId;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
}

function amountOf(properties: Record<string, unknown> | null): number | undefined {
  const direct = numberOf(properties?.revenue) ?? numberOf(properties?.total);
  if (direct !== undefined) return direct;
  const products = productsOf(properties);
  const priced = products.filter((product) => numberOf(product.price) !== undefined);
  if (priced.length === 0) return undefined;
  return priced.reduce((sum, product) => sum + numberOf(product.price)! * quantityOf(product), 0);
}

function productsOf(properties: Record<string, unknown> | null): Record<string, unknown>[] {
  const products = properties?.products;
  if (!Array.isArray(products)) return [];
  return products.flatMap((product) => {
    const object = asJsonObject(product);
    return object ? [object] : [];
  });
}

function quantityOf(product: Record<string, unknown>): number {
  const quantity = numberOf(product.quantity);
  return quantity !== undefined && quantity > 0 ? quantity : 1;
}

// Sources send amounts as numbers or numeric strings ("12.50"); anything else is no amount.
function numberOf(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.trim() !== '') {
    const parsed = Number(value);
    return Number.isFinite(parsed) ? parsed : undefined;
  }
  return undefined;
}

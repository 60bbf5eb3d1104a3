/**
 * Row types of the demo business. Each is one row of an exported table, so field names are the column names
 * (snake_case) and values are plain scalars (or a list, written to CSV joined by `;`).
 */
import type { Season } from './calendar.js';

export type ProductCategory =
  | 'Bread'
  | 'Pastries'
  | 'Cakes'
  | 'Celebration cakes'
  | 'Sandwiches'
  | 'Savouries'
  | 'Hot drinks'
  | 'Cold drinks'
  | 'Deli'
  | 'Extras';

export interface DemoProduct {
  /** `p_0001`. */
  product_id: string;
  name: string;
  category: ProductCategory;
  /** Unit price in GBP. */
  price: number;
  currency: 'GBP';
  /** When the product is on sale: all year, or only within its season. */
  season: Season;
  /** Internal grouping used by the planted association rules, e.g. `coffee`, `croissant`. */
  tags: readonly string[];
}

/** The personas behind the customers; analytics should be able to rediscover them from behaviour. */
export type CustomerSegment = 'loyal-regular' | 'weekend-family' | 'occasional' | 'lapsing' | 'one-timer';

export interface DemoCustomer {
  /** `c_00042`. */
  customer_id: string;
  /** Always on a reserved domain (example.com, example.org, example.net). */
  email: string;
  first_name: string;
  last_name: string;
  /** From Ofcom's ranges reserved for drama, so never a real number. */
  phone: string;
  city: string;
  /** When the customer signed up (ISO 8601); may be before the simulated period. */
  created_at: string;
  /** Where they signed up: online, or for a loyalty card at the till. */
  signup_channel: 'web' | 'shop';
  segment: CustomerSegment;
  consent_analytics: boolean;
  consent_personalisation: boolean;
  consent_advertising: boolean;
  consent_sale: boolean;
  /** For lapsing customers, the day after which they buy nothing more (`YYYY-MM-DD`); otherwise null. */
  lapsed_on: string | null;
  /** The company account a customer orders for (office catering), sent as a Segment `group`; otherwise null. */
  group_id: string | null;
}

export type Channel = 'web' | 'pos';

export interface DemoOrderLine {
  /** `W000123` for web orders, `S000123` for shop (POS) orders. */
  order_id: string;
  /** ISO 8601, UTC. */
  ordered_at: string;
  /** Null for anonymous walk-ins (no loyalty card). */
  customer_id: string | null;
  channel: Channel;
  store: string;
  product_id: string;
  product_name: string;
  category: ProductCategory;
  quantity: number;
  unit_price: number;
  line_total: number;
  currency: 'GBP';
}

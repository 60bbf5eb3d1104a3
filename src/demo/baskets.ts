/**
 * What goes into a basket: product choice by time of day, channel, season and shopper,
 * plus the planted association rules (coffee and a croissant, a sandwich and a drink, …).
 */
import type { DayInfo, Daypart } from './calendar.js';
import type { Catalogue, CatalogueProduct } from './catalogue.js';
import type { Random } from './random.js';
import type { Channel, CustomerSegment, ProductCategory } from './types.js';

export type ShopperProfile = CustomerSegment | 'walk-in';

type Affinity = Partial<Record<ProductCategory, number>>;

const DAYPART_AFFINITY: Readonly<Record<Daypart, Affinity>> = {
  morning: {
    Bread: 2.6,
    Pastries: 2.2,
    'Hot drinks': 1.6,
    Cakes: 0.45,
    Sandwiches: 0.25,
    Savouries: 0.5,
    'Cold drinks': 0.5,
  },
  lunch: {
    Bread: 0.45,
    Pastries: 0.5,
    Sandwiches: 3.2,
    Savouries: 2.2,
    'Cold drinks': 1.6,
    Cakes: 0.9,
  },
  afternoon: {
    Bread: 0.35,
    Pastries: 0.6,
    Cakes: 2.1,
    'Hot drinks': 1.3,
    Sandwiches: 0.7,
    'Celebration cakes': 1.3,
    Deli: 1.3,
  },
  evening: { Bread: 1.2, Cakes: 1.3, 'Celebration cakes': 1.8, Deli: 1.3, Sandwiches: 0.5 },
};

/** The web shop is click-and-collect: loaves, cakes to order and deli, hardly any coffee or sandwiches. */
const CHANNEL_AFFINITY: Readonly<Record<Channel, Affinity>> = {
  pos: { 'Celebration cakes': 0.35, Extras: 0.8 },
  web: {
    'Hot drinks': 0.04,
    'Cold drinks': 0.3,
    Sandwiches: 0.25,
    Savouries: 0.6,
    Bread: 1.3,
    'Celebration cakes': 6,
    Deli: 2,
    Extras: 1.5,
  },
};

const PROFILE_AFFINITY: Readonly<Record<ShopperProfile, Affinity>> = {
  'loyal-regular': { 'Hot drinks': 1.6, Pastries: 1.3, Bread: 1.2, 'Celebration cakes': 0.5 },
  'weekend-family': { Cakes: 1.5, Bread: 1.3, 'Celebration cakes': 2, 'Cold drinks': 1.4, 'Hot drinks': 0.7 },
  occasional: {},
  lapsing: { 'Hot drinks': 1.2 },
  'one-timer': { 'Celebration cakes': 3, Cakes: 1.3 },
  'walk-in': { 'Hot drinks': 1.3, Sandwiches: 1.3, 'Cold drinks': 1.2, 'Celebration cakes': 0.5, Deli: 0.6 },
};

/** Mean number of items beyond the first before companions are added. */
const EXTRA_ITEMS: Readonly<Record<ShopperProfile, number>> = {
  'loyal-regular': 0.55,
  'weekend-family': 2,
  occasional: 1,
  lapsing: 0.9,
  'one-timer': 1.1,
  'walk-in': 0.7,
};
const WEB_EXTRA_ITEMS = 1.1;

/** Categories a family buys several of (one each). */
const SHARED_CATEGORIES: ReadonlySet<ProductCategory> = new Set([
  'Pastries',
  'Cakes',
  'Hot drinks',
  'Cold drinks',
]);

export interface BasketContext {
  readonly channel: Channel;
  readonly daypart: Daypart;
  readonly profile: ShopperProfile;
}

export interface BasketItem {
  readonly product: CatalogueProduct;
  quantity: number;
}

/** Per-day cumulative weight tables, built lazily for each basket context seen that day. */
export class DayAssortment {
  private readonly tables = new Map<string, Float64Array>();

  constructor(
    readonly catalogue: Catalogue,
    readonly day: DayInfo,
  ) {}

  /** How strongly a product sells today, before context: popularity × seasonal weight (0 when off season). */
  availability(product: CatalogueProduct): number {
    return product.popularity * this.day.seasonWeight[product.season];
  }

  table(context: BasketContext): Float64Array {
    const key = `${context.channel}|${context.daypart}|${context.profile}`;
    let table = this.tables.get(key);
    if (!table) {
      const products = this.catalogue.products;
      table = new Float64Array(products.length);
      const daypart = DAYPART_AFFINITY[context.daypart];
      const channel = CHANNEL_AFFINITY[context.channel];
      const profile = PROFILE_AFFINITY[context.profile];
      let total = 0;
      for (let i = 0; i < products.length; i++) {
        const p = products[i]!;
        const weight =
          this.availability(p) *
          (daypart[p.category] ?? 1) *
          (channel[p.category] ?? 1) *
          (profile[p.category] ?? 1);
        total += weight;
        table[i] = total;
      }
      this.tables.set(key, table);
    }
    return table;
  }

  /** A product to look at or buy in this context, or undefined when nothing is on sale. */
  pickProduct(rng: Random, context: BasketContext): CatalogueProduct | undefined {
    const index = rng.cumulativeIndex(this.table(context));
    return index < 0 ? undefined : this.catalogue.products[index];
  }

  private pickByTag(rng: Random, tag: string): CatalogueProduct | undefined {
    const indexes = this.catalogue.byTag.get(tag);
    if (!indexes) return undefined;
    const weights = indexes.map((i) => this.availability(this.catalogue.products[i]!));
    if (!weights.some((w) => w > 0)) return undefined;
    return this.catalogue.products[indexes[rng.weightedIndex(weights)]!];
  }

  /** Builds one basket: a few items chosen for the context, then companions from the planted rules. */
  buildBasket(rng: Random, context: BasketContext): BasketItem[] {
    const items: BasketItem[] = [];
    const tags = new Set<string>();
    const family = context.profile === 'weekend-family';
    const add = (product: CatalogueProduct): void => {
      const existing = items.find((item) => item.product === product);
      if (existing) {
        existing.quantity += 1;
        return;
      }
      const shared = family && SHARED_CATEGORIES.has(product.category) ? 0.8 : 0;
      items.push({ product, quantity: 1 + rng.poisson(product.multiples * (family ? 1.5 : 0.6) + shared) });
      const newTags = product.tags.filter((tag) => !tags.has(tag));
      for (const tag of product.tags) tags.add(tag);
      for (const rule of this.catalogue.rules) {
        if (!newTags.includes(rule.antecedent) || tags.has(rule.consequent)) continue;
        if (!rng.chance(rule.probability)) continue;
        const companion = this.pickByTag(rng, rule.consequent);
        if (companion) add(companion);
      }
    };
    const count =
      1 + rng.poisson(EXTRA_ITEMS[context.profile] + (context.channel === 'web' ? WEB_EXTRA_ITEMS : 0));
    for (let i = 0; i < count; i++) {
      const product = this.pickProduct(rng, context);
      if (product) add(product);
    }
    return items;
  }
}

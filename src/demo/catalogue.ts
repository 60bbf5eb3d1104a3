/**
 * The bakery's product range and the association rules planted in its baskets.
 */
import type { Season } from './calendar.js';
import type { DemoProduct, ProductCategory } from './types.js';

export const CATEGORIES: readonly ProductCategory[] = [
  'Bread',
  'Pastries',
  'Cakes',
  'Celebration cakes',
  'Sandwiches',
  'Savouries',
  'Hot drinks',
  'Cold drinks',
  'Deli',
  'Extras',
];

/** A product as the catalogue knows it: the exported row plus what drives demand. */
export interface CatalogueProduct extends DemoProduct {
  /** Position in `Catalogue.products`. */
  readonly index: number;
  /** Relative popularity among products on sale at the same moment. */
  readonly popularity: number;
  /** Typical extra units per line when someone buys several (0 = almost always one). */
  readonly multiples: number;
}

interface Template {
  readonly name: string;
  readonly category: ProductCategory;
  readonly price: number;
  readonly popularity: number;
  readonly tags?: readonly string[];
  readonly season?: Season;
  /** Core products are always included, so every planted pattern exists even in a small catalogue. */
  readonly core?: boolean;
  readonly multiples?: number;
}

const T = (
  name: string,
  category: ProductCategory,
  price: number,
  popularity: number,
  extra: Omit<Template, 'name' | 'category' | 'price' | 'popularity'> = {},
): Template => ({ name, category, price, popularity, ...extra });

const core = { core: true } as const;

const TEMPLATES: readonly Template[] = [
  // Bread
  T('Sourdough loaf', 'Bread', 4.8, 6, { ...core, tags: ['bread'] }),
  T('White bloomer', 'Bread', 3.6, 4, { ...core, tags: ['bread'] }),
  T('Baguette', 'Bread', 2.4, 5, { ...core, tags: ['bread', 'baguette'], multiples: 0.4 }),
  T('Wholemeal tin loaf', 'Bread', 3.4, 3, { tags: ['bread'] }),
  T('Seeded rye', 'Bread', 4.6, 2, { tags: ['bread'] }),
  T('Granary loaf', 'Bread', 3.8, 2, { tags: ['bread'] }),
  T('Sourdough baguette', 'Bread', 2.9, 1.5, { tags: ['bread', 'baguette'] }),
  T('Ciabatta', 'Bread', 2.9, 2, { tags: ['bread'] }),
  T('Rosemary focaccia', 'Bread', 3.9, 2, { tags: ['bread'] }),
  T('Tiger bloomer', 'Bread', 3.8, 1.5, { tags: ['bread'] }),
  T('Spelt loaf', 'Bread', 4.9, 1.2, { tags: ['bread'] }),
  T('Half baguette', 'Bread', 1.4, 1.5, { tags: ['bread', 'baguette'] }),
  T('Olive focaccia', 'Bread', 4.2, 1.2, { tags: ['bread'] }),
  T('Brioche loaf', 'Bread', 4.5, 1.5, { tags: ['bread'] }),
  T('Bagels (pack of 4)', 'Bread', 3.6, 1.5, { tags: ['bread'] }),
  T('Soft white rolls (6)', 'Bread', 3.0, 2, { tags: ['bread'] }),
  T('Crumpets (6)', 'Bread', 2.6, 1.5, { tags: ['bread'] }),
  T('English muffins (4)', 'Bread', 2.8, 1, { tags: ['bread'] }),
  T('Challah', 'Bread', 4.8, 0.8, { tags: ['bread'] }),
  T('Walnut & raisin loaf', 'Bread', 4.9, 0.8, { tags: ['bread'] }),
  T('Fig & fennel sourdough', 'Bread', 5.4, 0.6, { tags: ['bread'] }),
  T('Cheese & onion loaf', 'Bread', 4.2, 0.8, { tags: ['bread'] }),
  T('Malt loaf', 'Bread', 3.2, 0.6, { tags: ['bread'] }),
  T('Irish soda bread', 'Bread', 3.5, 0.7, { tags: ['bread'] }),
  T('Pain de campagne', 'Bread', 4.9, 0.8, { tags: ['bread'] }),
  T('Gluten-free seeded loaf', 'Bread', 5.5, 0.7, { tags: ['bread'] }),
  T('Milk loaf', 'Bread', 3.2, 0.8, { tags: ['bread'] }),
  T('Mini baguette', 'Bread', 1.1, 1, { tags: ['bread', 'baguette'], multiples: 1 }),
  T('Rye & caraway loaf', 'Bread', 4.6, 0.5, { tags: ['bread'] }),
  T('Dark rye pumpernickel', 'Bread', 4.4, 0.4, { tags: ['bread'] }),
  // Pastries
  T('Butter croissant', 'Pastries', 1.9, 5, { ...core, tags: ['croissant'], multiples: 1 }),
  T('Almond croissant', 'Pastries', 2.9, 2.5, { ...core, tags: ['croissant'] }),
  T('Pain au chocolat', 'Pastries', 2.2, 4, { ...core, multiples: 1 }),
  T('Cinnamon bun', 'Pastries', 2.8, 3, { multiples: 0.8 }),
  T('Cardamom bun', 'Pastries', 2.9, 2),
  T('Pastel de nata', 'Pastries', 2.1, 2, { multiples: 0.8 }),
  T('Pain aux raisins', 'Pastries', 2.4, 1.5),
  T('Ham & cheese croissant', 'Pastries', 3.6, 1.2, { tags: ['croissant'] }),
  T('Pistachio croissant', 'Pastries', 3.4, 1, { tags: ['croissant'] }),
  T('Apricot Danish', 'Pastries', 2.6, 1),
  T('Raspberry Danish', 'Pastries', 2.6, 1),
  T('Chelsea bun', 'Pastries', 2.5, 0.8),
  T('Eccles cake', 'Pastries', 2.2, 0.7),
  T('Kouign-amann', 'Pastries', 3.2, 0.8),
  T('Apple turnover', 'Pastries', 2.6, 1),
  T('Morning bun', 'Pastries', 2.9, 1),
  T('Maple pecan plait', 'Pastries', 2.7, 1),
  T('Chocolate twist', 'Pastries', 2.5, 1),
  T('Croissants (pack of 4)', 'Pastries', 6.8, 0.6, { tags: ['croissant'] }),
  // Cakes and bakes
  T('Victoria sponge slice', 'Cakes', 3.4, 2, core),
  T('Chocolate brownie', 'Cakes', 2.9, 3, { ...core, multiples: 0.6 }),
  T('Plain scone', 'Cakes', 2.2, 1.5, { ...core, tags: ['scone'], multiples: 0.8 }),
  T('Carrot cake slice', 'Cakes', 3.6, 2),
  T('Lemon drizzle slice', 'Cakes', 3.2, 2),
  T('Fruit scone', 'Cakes', 2.4, 1.5, { tags: ['scone'], multiples: 0.8 }),
  T('Salted caramel blondie', 'Cakes', 2.9, 1),
  T('Banana bread slice', 'Cakes', 2.8, 1.5),
  T('Coffee & walnut slice', 'Cakes', 3.6, 1),
  T('Flapjack', 'Cakes', 2.4, 1.2),
  T("Millionaire's shortbread", 'Cakes', 2.8, 1.5),
  T('Bakewell tart', 'Cakes', 3.0, 1),
  T('Chocolate chip cookie', 'Cakes', 1.8, 2, { multiples: 1 }),
  T('Lemon tart', 'Cakes', 3.6, 0.8),
  T('Red velvet slice', 'Cakes', 3.6, 0.8),
  T('Madeleines (3)', 'Cakes', 2.8, 0.6),
  // Celebration cakes (ordered mostly online, for birthdays)
  T('Chocolate birthday cake (8")', 'Celebration cakes', 32, 0.35, { ...core, tags: ['birthday-cake'] }),
  T('Vanilla birthday cake (8")', 'Celebration cakes', 30, 0.3, { ...core, tags: ['birthday-cake'] }),
  T('Lemon birthday cake (8")', 'Celebration cakes', 30, 0.15, { tags: ['birthday-cake'] }),
  T('Funfetti birthday cake (6")', 'Celebration cakes', 24, 0.2, { tags: ['birthday-cake'] }),
  T('Number cake', 'Celebration cakes', 45, 0.08, { tags: ['birthday-cake'] }),
  T('Cupcake party box (12)', 'Celebration cakes', 26, 0.12),
  T('Whole Victoria sponge', 'Celebration cakes', 22, 0.2),
  T('Whole carrot cake', 'Celebration cakes', 26, 0.15),
  T('Chocolate fudge celebration cake', 'Celebration cakes', 34, 0.1),
  // Extras
  T('Birthday candles (12)', 'Extras', 2.5, 0.04, { ...core, tags: ['candles'] }),
  T('Number candle', 'Extras', 1.8, 0.03, { tags: ['candles'] }),
  T('Sparkler candles (4)', 'Extras', 3.5, 0.02, { tags: ['candles'] }),
  T('House coffee beans (250g)', 'Extras', 8.5, 0.4),
  T('Greeting card', 'Extras', 2.95, 0.15),
  T('Paper gift bag', 'Extras', 0.5, 0.2),
  T('Gift card', 'Extras', 20, 0.05),
  T('Reusable tote bag', 'Extras', 6, 0.05),
  T('Reusable coffee cup', 'Extras', 9, 0.05),
  // Sandwiches
  T('Ham & cheddar baguette', 'Sandwiches', 5.2, 3, { ...core, tags: ['sandwich'] }),
  T('Cheese & pickle sandwich', 'Sandwiches', 4.2, 2, { ...core, tags: ['sandwich'] }),
  T('Chicken & avocado sandwich', 'Sandwiches', 5.6, 2, { tags: ['sandwich'] }),
  T('BLT', 'Sandwiches', 5.2, 2, { tags: ['sandwich'] }),
  T('Egg mayonnaise & cress', 'Sandwiches', 3.9, 1.5, { tags: ['sandwich'] }),
  T('Tuna melt', 'Sandwiches', 5.4, 1.5, { tags: ['sandwich'] }),
  T('Caprese ciabatta', 'Sandwiches', 5.4, 1.5, { tags: ['sandwich'] }),
  T('Smoked salmon & cream cheese bagel', 'Sandwiches', 5.9, 1.5, { tags: ['sandwich'] }),
  T('Roast vegetable & hummus wrap', 'Sandwiches', 4.9, 1.2, { tags: ['sandwich'] }),
  T('Coronation chicken sandwich', 'Sandwiches', 4.9, 1, { tags: ['sandwich'] }),
  T('Falafel wrap', 'Sandwiches', 4.9, 1, { tags: ['sandwich'] }),
  T('Brie & bacon ciabatta', 'Sandwiches', 5.8, 1, { tags: ['sandwich'] }),
  T('Pastrami on rye', 'Sandwiches', 6.2, 1, { tags: ['sandwich'] }),
  T('Club sandwich', 'Sandwiches', 6.4, 0.8, { tags: ['sandwich'] }),
  T('Halloumi & red pepper focaccia', 'Sandwiches', 5.9, 0.8, { tags: ['sandwich'] }),
  // Savouries
  T('Sausage roll', 'Savouries', 2.9, 3, { ...core, multiples: 0.6 }),
  T('Vegan sausage roll', 'Savouries', 2.9, 1.5),
  T('Cornish pasty', 'Savouries', 4.5, 1.5),
  T('Cheese & onion pasty', 'Savouries', 4.2, 1),
  T('Quiche Lorraine slice', 'Savouries', 4.2, 1),
  T('Spinach & feta quiche slice', 'Savouries', 4.2, 0.8),
  T('Cheese straws', 'Savouries', 2.5, 0.7),
  T('Pork pie', 'Savouries', 3.4, 0.7),
  T('Spinach & ricotta roll', 'Savouries', 3.2, 0.6),
  // Hot drinks
  T('Flat white', 'Hot drinks', 3.3, 4.5, { ...core, tags: ['coffee'] }),
  T('Latte', 'Hot drinks', 3.4, 3.5, { ...core, tags: ['coffee'] }),
  T('Cappuccino', 'Hot drinks', 3.3, 3, { ...core, tags: ['coffee'] }),
  T('Americano', 'Hot drinks', 2.9, 2, { ...core, tags: ['coffee'] }),
  T('English breakfast tea', 'Hot drinks', 2.4, 1.5, core),
  T('Hot chocolate', 'Hot drinks', 3.5, 2, core),
  T('Oat flat white', 'Hot drinks', 3.7, 1.5, { tags: ['coffee'] }),
  T('Espresso', 'Hot drinks', 2.4, 1, { tags: ['coffee'] }),
  T('Cortado', 'Hot drinks', 3.0, 0.8, { tags: ['coffee'] }),
  T('Mocha', 'Hot drinks', 3.7, 0.8, { tags: ['coffee'] }),
  T('Chai latte', 'Hot drinks', 3.6, 1.2),
  T('Earl Grey tea', 'Hot drinks', 2.5, 0.7),
  T('Peppermint tea', 'Hot drinks', 2.5, 0.6),
  T('Matcha latte', 'Hot drinks', 3.9, 0.6),
  T('Babyccino', 'Hot drinks', 0.8, 0.3),
  // Cold drinks
  T('Sparkling water', 'Cold drinks', 1.6, 2, { ...core, tags: ['cold-drink'] }),
  T('Fresh orange juice', 'Cold drinks', 2.9, 1.5, { ...core, tags: ['cold-drink'] }),
  T('Still water', 'Cold drinks', 1.4, 2, { tags: ['cold-drink'] }),
  T('Cloudy apple juice', 'Cold drinks', 2.6, 1, { tags: ['cold-drink'] }),
  T('Elderflower pressé', 'Cold drinks', 2.7, 1, { tags: ['cold-drink'] }),
  T('Cola', 'Cold drinks', 1.9, 1.2, { tags: ['cold-drink'] }),
  T('Ginger beer', 'Cold drinks', 2.4, 0.8, { tags: ['cold-drink'] }),
  T('Blood orange soda', 'Cold drinks', 2.4, 0.6, { tags: ['cold-drink'] }),
  T('Kombucha', 'Cold drinks', 3.2, 0.5, { tags: ['cold-drink'] }),
  // Deli
  T('Mature cheddar (200g)', 'Deli', 4.8, 0.8, { ...core, tags: ['cheese'] }),
  T('Comté (200g)', 'Deli', 6.5, 0.5, { ...core, tags: ['cheese'] }),
  T('Strawberry jam', 'Deli', 4.5, 0.5, { ...core, tags: ['jam'] }),
  T('Somerset brie (200g)', 'Deli', 5.5, 0.5, { tags: ['cheese'] }),
  T("Goat's cheese (150g)", 'Deli', 4.9, 0.3, { tags: ['cheese'] }),
  T('Cultured butter (250g)', 'Deli', 4.2, 0.8),
  T('Raspberry jam', 'Deli', 4.5, 0.4, { tags: ['jam'] }),
  T('Clotted cream (113g)', 'Deli', 2.9, 0.4),
  T('Seville orange marmalade', 'Deli', 4.5, 0.4),
  T('Wildflower honey', 'Deli', 6.5, 0.3),
  T('Extra virgin olive oil', 'Deli', 9.5, 0.2),
  T('Caramelised onion chutney', 'Deli', 4.2, 0.3),
  T('House granola (500g)', 'Deli', 6.9, 0.5),
  // Christmas (November and December only)
  T('Mince pie', 'Pastries', 1.8, 4, { ...core, season: 'christmas', tags: ['mince-pie'], multiples: 1.5 }),
  T('Mince pies (box of 6)', 'Pastries', 8.5, 2.5, { ...core, season: 'christmas', tags: ['mince-pie'] }),
  T('Stollen', 'Cakes', 9.5, 1.5, { ...core, season: 'christmas' }),
  T('Gingerbread man', 'Cakes', 2.2, 2, { ...core, season: 'christmas', multiples: 1 }),
  T('Stollen bites (bag)', 'Cakes', 4.5, 1.2, { season: 'christmas' }),
  T('Panettone', 'Cakes', 14, 0.8, { season: 'christmas' }),
  T('Christmas cake', 'Celebration cakes', 28, 0.4, { season: 'christmas' }),
  T('Yule log', 'Celebration cakes', 18, 0.5, { season: 'christmas' }),
  T('Christmas pudding', 'Cakes', 12, 0.4, { season: 'christmas' }),
  T('Turkey & cranberry sandwich', 'Sandwiches', 5.8, 2, { season: 'christmas', tags: ['sandwich'] }),
  T('Pigs in blankets roll', 'Savouries', 3.4, 1.5, { season: 'christmas' }),
  T('Gingerbread latte', 'Hot drinks', 3.9, 2, { season: 'christmas', tags: ['coffee'] }),
  T('Mulled apple juice', 'Hot drinks', 3.2, 0.8, { season: 'christmas' }),
  T('Stilton (200g)', 'Deli', 5.9, 0.6, { season: 'christmas', tags: ['cheese'] }),
  // Easter (the weeks before Easter Sunday)
  T('Hot cross buns (4)', 'Pastries', 4.2, 3, { ...core, season: 'easter' }),
  T('Hot cross bun', 'Pastries', 1.4, 2, { ...core, season: 'easter', multiples: 1 }),
  T('Chocolate hot cross buns (4)', 'Pastries', 4.5, 1, { season: 'easter' }),
  T('Simnel cake', 'Celebration cakes', 24, 0.3, { season: 'easter' }),
  T('Easter nest cupcake', 'Cakes', 2.8, 1, { season: 'easter' }),
  T('Easter egg cookies', 'Cakes', 2.4, 0.8, { season: 'easter' }),
  // Summer (mid-May to mid-September)
  T('Iced coffee', 'Cold drinks', 3.6, 3, { ...core, season: 'summer', tags: ['cold-drink'] }),
  T('Homemade lemonade', 'Cold drinks', 3.0, 1.5, { ...core, season: 'summer', tags: ['cold-drink'] }),
  T('Iced latte', 'Cold drinks', 3.8, 1.5, { season: 'summer', tags: ['cold-drink'] }),
  T('Peach iced tea', 'Cold drinks', 3.0, 1, { season: 'summer', tags: ['cold-drink'] }),
  T('Berry smoothie', 'Cold drinks', 4.2, 0.8, { season: 'summer', tags: ['cold-drink'] }),
  T('Strawberry tart', 'Cakes', 3.9, 1.5, { season: 'summer' }),
  T('Strawberries & cream scone', 'Cakes', 3.2, 1, { season: 'summer', tags: ['scone'] }),
  T('Summer berry pavlova', 'Cakes', 4.2, 0.8, { season: 'summer' }),
  // Autumn
  T('Pumpkin spice latte', 'Hot drinks', 3.9, 1.5, { ...core, season: 'autumn', tags: ['coffee'] }),
  T('Pumpkin loaf slice', 'Cakes', 3.2, 1, { season: 'autumn' }),
  T('Apple & blackberry crumble slice', 'Cakes', 3.4, 0.8, { season: 'autumn' }),
  // Valentine's Day
  T('Heart shortbread', 'Cakes', 2.5, 1.5, { ...core, season: 'valentine' }),
  T('Red velvet heart cake (6")', 'Celebration cakes', 22, 0.2, { season: 'valentine' }),
];

const FLAVOURS = [
  'Vanilla',
  'Chocolate',
  'Lemon',
  'Salted caramel',
  'Raspberry',
  'Pistachio',
  'Banoffee',
  'Cookies & cream',
  'Strawberry',
  'Coconut',
  'Orange & almond',
  'Blueberry',
];

/** Flavoured lines that fill out the long tail of a large catalogue. */
const FLAVOURED: readonly { suffix: string; category: ProductCategory; price: number; popularity: number }[] =
  [
    { suffix: 'cupcake', category: 'Cakes', price: 2.8, popularity: 0.35 },
    { suffix: 'macaron', category: 'Cakes', price: 1.6, popularity: 0.25 },
    { suffix: 'muffin', category: 'Cakes', price: 2.6, popularity: 0.3 },
    { suffix: 'loaf cake (whole)', category: 'Celebration cakes', price: 12, popularity: 0.06 },
    { suffix: 'doughnut', category: 'Pastries', price: 2.4, popularity: 0.3 },
    { suffix: 'cookie', category: 'Cakes', price: 1.9, popularity: 0.25 },
  ];

function flavouredTemplates(): Template[] {
  const result: Template[] = [];
  for (const flavour of FLAVOURS) {
    for (const line of FLAVOURED) {
      result.push(T(`${flavour} ${line.suffix}`, line.category, line.price, line.popularity));
    }
  }
  return result;
}

/** Round-robins over categories so a partial catalogue keeps a sensible mix. */
function interleaveByCategory(templates: readonly Template[]): Template[] {
  const queues = new Map<ProductCategory, Template[]>();
  for (const t of templates) {
    const queue = queues.get(t.category) ?? [];
    queue.push(t);
    queues.set(t.category, queue);
  }
  const result: Template[] = [];
  let added = true;
  while (added) {
    added = false;
    for (const category of CATEGORIES) {
      const next = queues.get(category)?.shift();
      if (next) {
        result.push(next);
        added = true;
      }
    }
  }
  return result;
}

/** A rule planted in the baskets: when a basket gets an `antecedent` item, it also gets a `consequent` item with `probability`. */
export interface AssociationRule {
  readonly antecedent: string;
  readonly consequent: string;
  readonly probability: number;
  readonly description: string;
}

export const PLANTED_RULES: readonly AssociationRule[] = [
  { antecedent: 'coffee', consequent: 'croissant', probability: 0.42, description: 'coffee and a croissant' },
  { antecedent: 'croissant', consequent: 'coffee', probability: 0.5, description: 'croissant and a coffee' },
  { antecedent: 'baguette', consequent: 'cheese', probability: 0.38, description: 'baguette and cheese' },
  {
    antecedent: 'sandwich',
    consequent: 'cold-drink',
    probability: 0.55,
    description: 'a sandwich and a drink',
  },
  {
    antecedent: 'birthday-cake',
    consequent: 'candles',
    probability: 0.72,
    description: 'birthday cake and candles',
  },
  { antecedent: 'scone', consequent: 'jam', probability: 0.3, description: 'scones and jam' },
];

export interface Catalogue {
  readonly products: readonly CatalogueProduct[];
  /** Product indexes by tag. */
  readonly byTag: ReadonlyMap<string, readonly number[]>;
  readonly rules: readonly AssociationRule[];
}

function roundPrice(value: number): number {
  return Math.round(value * 100) / 100;
}

/**
 * Builds a catalogue of exactly `count` products. Core products (every planted pattern and season) come first,
 * then the rest of the range by category, then flavoured long-tail lines, then numbered gift hampers if needed.
 */
export function buildCatalogue(count: number): Catalogue {
  if (!Number.isInteger(count) || count < 1)
    throw new RangeError(`The demo needs at least one product, got ${count}`);
  const ordered = [
    ...TEMPLATES.filter((t) => t.core),
    ...interleaveByCategory(TEMPLATES.filter((t) => !t.core)),
    ...interleaveByCategory(flavouredTemplates()),
  ];
  for (let n = 1; ordered.length < count; n++) {
    ordered.push(T(`Gift hamper No. ${n}`, 'Extras', 25 + (n % 8) * 5, 0.02));
  }
  const chosen = ordered.slice(0, count);
  // Present the range grouped by category, in catalogue order within each.
  const byCategory = CATEGORIES.flatMap((category) => chosen.filter((t) => t.category === category));
  const products = byCategory.map(
    (t, index): CatalogueProduct => ({
      product_id: `p_${String(index + 1).padStart(4, '0')}`,
      name: t.name,
      category: t.category,
      price: roundPrice(t.price),
      currency: 'GBP',
      season: t.season ?? 'all',
      tags: t.tags ?? [],
      index,
      popularity: t.popularity,
      multiples: t.multiples ?? 0,
    }),
  );
  const byTag = new Map<string, number[]>();
  for (const p of products) {
    for (const tag of p.tags) {
      const list = byTag.get(tag) ?? [];
      list.push(p.index);
      byTag.set(tag, list);
    }
  }
  return { products, byTag, rules: PLANTED_RULES };
}

/** Turns a product name into a URL path segment. */
export function slugify(name: string): string {
  return name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/&/g, 'and')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

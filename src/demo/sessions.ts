/**
 * Web-shop visits. Planning decides everything structural about a visit (what is viewed, added, bought, when the
 * visitor logs in); rendering turns a plan into Segment messages later, one day at a time, so the full event
 * stream never has to sit in memory.
 */
import type { BasketItem, DayAssortment } from './baskets.js';
import { DAY_MS, type DayInfo, daypartOf, MINUTE_MS } from './calendar.js';
import { type CatalogueProduct, slugify } from './catalogue.js';
import type { Device, SimCustomer } from './customers.js';
import type { SimOrder } from './orders.js';
import { COMPANIES, USER_AGENTS } from './people.js';
import { Random } from './random.js';
import type { ConsentPreferences, SegmentContext, SegmentMessage } from './segment-message.js';
import type { ProductCategory } from './types.js';

export const SHOP_URL = 'https://crumb-and-co.example';
export const LIBRARY = { name: 'analytics.js', version: 'next-1.70.0' } as const;

/** Where in a visit the customer identifies (logs in or signs up). */
export type IdentifyPoint = 'none' | 'landing' | 'before-cart' | 'before-checkout';

/** How far a visit gets before the visitor leaves. */
export type Depth = 'bounce' | 'search' | 'view' | 'add' | 'cart' | 'checkout';
const DEPTHS: readonly Depth[] = ['bounce', 'search', 'view', 'add', 'cart', 'checkout'];
const DEPTH_WEIGHTS: readonly number[] = [0.3, 0.08, 0.32, 0.12, 0.1, 0.08];

export interface Campaign {
  readonly source: string;
  readonly medium: string;
  readonly name: string;
}

const CAMPAIGNS: readonly Campaign[] = [
  { source: 'newsletter', medium: 'email', name: 'weekly-bakes' },
  { source: 'instagram', medium: 'social', name: 'new-season' },
  { source: 'google', medium: 'cpc', name: 'bakery-bristol' },
];
const REFERRERS: readonly string[] = [
  '',
  '',
  'https://www.google.com/',
  'https://duckduckgo.com/',
  'https://www.instagram.com/',
];

const GENERIC_QUERIES: readonly string[] = [
  'sourdough',
  'croissant',
  'birthday cake',
  'gluten free',
  'vegan',
  'brownie',
  'cinnamon bun',
  'coffee beans',
  'focaccia',
  'rye',
  'cheese',
  'gift card',
  'crossiant',
  'sour dough',
  'cake for 10 people',
  'nut free',
  'opening hours',
];

export interface SessionPlan {
  readonly id: number;
  readonly startMs: number;
  readonly endMs: number;
  readonly anonymousId: string;
  readonly customer: SimCustomer | null;
  readonly userAgent: number;
  readonly ip: string;
  readonly consent: ConsentPreferences;
  /** Already logged in on this device when the visit starts: every message carries the userId. */
  readonly loggedInAtStart: boolean;
  readonly identifyAt: IdentifyPoint;
  readonly signup: boolean;
  readonly alias: boolean;
  readonly groupId: string | null;
  readonly campaign: Campaign | null;
  readonly referrer: string;
  readonly searches: readonly string[];
  readonly views: readonly CatalogueProduct[];
  readonly adds: readonly BasketItem[];
  readonly cartViewed: boolean;
  readonly checkoutStarted: boolean;
  readonly order: SimOrder | null;
  readonly cartId: string;
}

export type PageView =
  | { readonly name: 'Home' }
  | { readonly name: 'Search'; readonly query: string }
  | { readonly name: 'Category'; readonly category: ProductCategory }
  | { readonly name: 'Product'; readonly product: CatalogueProduct }
  | { readonly name: 'Cart' }
  | { readonly name: 'Checkout' }
  | { readonly name: 'Sign In' }
  | { readonly name: 'Create Account' };

export type Step =
  | { readonly kind: 'page'; readonly page: PageView }
  | { readonly kind: 'identify' }
  | { readonly kind: 'signed-up' }
  | { readonly kind: 'alias' }
  | { readonly kind: 'group' }
  | { readonly kind: 'search'; readonly query: string }
  | { readonly kind: 'product-viewed'; readonly product: CatalogueProduct }
  | { readonly kind: 'product-added'; readonly item: BasketItem }
  | { readonly kind: 'cart-viewed' }
  | { readonly kind: 'checkout-started' }
  | { readonly kind: 'order-completed' };

/** The ordered steps of a visit. Pure: the number of messages a plan renders to is `sessionSteps(plan).length`. */
export function sessionSteps(plan: SessionPlan): Step[] {
  const steps: Step[] = [{ kind: 'page', page: { name: 'Home' } }];
  const identify = (): void => {
    steps.push({ kind: 'page', page: { name: plan.signup ? 'Create Account' : 'Sign In' } });
    steps.push({ kind: 'identify' });
    if (plan.signup) steps.push({ kind: 'signed-up' });
    if (plan.alias) steps.push({ kind: 'alias' });
    if (plan.groupId) steps.push({ kind: 'group' });
  };
  if (plan.identifyAt === 'landing') identify();
  for (const query of plan.searches) {
    steps.push({ kind: 'search', query });
    steps.push({ kind: 'page', page: { name: 'Search', query } });
  }
  // Visitors reach the first product through its category page, and the rest through related products.
  const firstView = plan.views[0];
  if (firstView) steps.push({ kind: 'page', page: { name: 'Category', category: firstView.category } });
  for (const product of plan.views) {
    steps.push({ kind: 'page', page: { name: 'Product', product } });
    steps.push({ kind: 'product-viewed', product });
    const added = plan.adds.find((item) => item.product === product);
    if (added) steps.push({ kind: 'product-added', item: added });
  }
  if (plan.identifyAt === 'before-cart') identify();
  if (plan.cartViewed) {
    steps.push({ kind: 'page', page: { name: 'Cart' } });
    steps.push({ kind: 'cart-viewed' });
  }
  if (plan.identifyAt === 'before-checkout') identify();
  if (plan.checkoutStarted) {
    steps.push({ kind: 'page', page: { name: 'Checkout' } });
    steps.push({ kind: 'checkout-started' });
  }
  if (plan.order) steps.push({ kind: 'order-completed' });
  return steps;
}

/** Shared state for planning the visits of one day. */
export interface PlanningContext {
  readonly rng: Random;
  readonly day: DayInfo;
  readonly assortment: DayAssortment;
  nextSessionId(): number;
}

/** Who is visiting and from which browser. */
export interface Visitor {
  readonly customer: SimCustomer | null;
  readonly device: Device;
  readonly consent: ConsentPreferences;
  readonly ip: string;
}

function landing(rng: Random): { campaign: Campaign | null; referrer: string } {
  if (rng.chance(0.18)) {
    const campaign = rng.pick(CAMPAIGNS);
    return { campaign, referrer: campaign.source === 'google' ? 'https://www.google.com/' : '' };
  }
  return { campaign: null, referrer: rng.pick(REFERRERS) };
}

/** A few products looked at besides `exclude`, chosen for this time of day and shopper. */
function browseProducts(
  ctx: PlanningContext,
  count: number,
  hour: number,
  customer: SimCustomer | null,
  exclude: readonly CatalogueProduct[],
): CatalogueProduct[] {
  const result: CatalogueProduct[] = [];
  const context = {
    channel: 'web',
    daypart: daypartOf(hour),
    profile: customer ? customer.segment : 'walk-in',
  } as const;
  for (let attempt = 0; attempt < count * 3 && result.length < count; attempt++) {
    const product = ctx.assortment.pickProduct(ctx.rng, context);
    if (product && !result.includes(product) && !exclude.includes(product)) result.push(product);
  }
  return result;
}

function searchQuery(rng: Random, products: readonly CatalogueProduct[]): string {
  const product = products.length > 0 && rng.chance(0.7) ? rng.pick(products) : undefined;
  if (!product) return rng.pick(GENERIC_QUERIES);
  const words = product.name
    .toLowerCase()
    .replace(/\(.*\)/g, '')
    .trim()
    .split(/\s+/);
  return words.slice(0, rng.int(1, Math.min(2, words.length))).join(' ');
}

function groupFor(visitor: Visitor, identifies: boolean): string | null {
  // A customer's company account is announced the first time they log in on a device.
  const groupId = visitor.customer?.row.group_id ?? null;
  return identifies && groupId !== null && !visitor.device.identified ? groupId : null;
}

/** Plans a visit that ends with `order` completed at `order.orderedMs`. */
export function planPurchaseSession(
  ctx: PlanningContext,
  visitor: Visitor,
  order: SimOrder,
  signup: boolean,
): SessionPlan {
  const { rng } = ctx;
  const loggedInAtStart = !signup && visitor.device.identified && rng.chance(0.75);
  let identifyAt: IdentifyPoint = 'none';
  if (signup) identifyAt = rng.chance(0.5) ? 'landing' : 'before-checkout';
  else if (!loggedInAtStart)
    identifyAt = rng.weighted(['landing', 'before-cart', 'before-checkout'], [0.3, 0.15, 0.55]);
  const bought = order.items.map((item) => item.product);
  const hour = new Date(order.orderedMs).getUTCHours();
  const views = rng.shuffle([
    ...bought,
    ...browseProducts(ctx, rng.poisson(1.1), hour, visitor.customer, bought),
  ]);
  const adds = views.flatMap((product) => order.items.filter((item) => item.product === product));
  const searches: string[] = [];
  if (rng.chance(0.3)) searches.push(searchQuery(rng, bought));
  if (rng.chance(0.08)) searches.push(searchQuery(rng, []));
  const durationMs = Math.round((2 + views.length * 1.2 + rng.exponential(4)) * MINUTE_MS);
  const groupId = groupFor(visitor, identifyAt !== 'none');
  if (identifyAt !== 'none') visitor.device.identified = true;
  return {
    id: ctx.nextSessionId(),
    startMs: order.orderedMs - durationMs,
    endMs: order.orderedMs,
    anonymousId: visitor.device.anonymousId,
    customer: visitor.customer,
    userAgent: visitor.device.userAgent,
    ip: visitor.ip,
    consent: visitor.consent,
    loggedInAtStart,
    identifyAt,
    signup,
    alias: signup && rng.chance(0.3),
    groupId,
    ...landing(rng),
    searches,
    views,
    adds,
    cartViewed: true,
    checkoutStarted: true,
    order,
    cartId: rng.uuid(),
  };
}

/** Plans a visit that buys nothing: a bounce, a search, some browsing, or an abandoned cart or checkout. */
export function planBrowseSession(
  ctx: PlanningContext,
  visitor: Visitor,
  startMs: number,
  signup: boolean,
): SessionPlan {
  const { rng } = ctx;
  let depth = rng.weighted(DEPTHS, DEPTH_WEIGHTS);
  if (signup && (depth === 'bounce' || depth === 'search')) depth = 'view';
  const level = DEPTHS.indexOf(depth);
  const hour = new Date(startMs).getUTCHours();
  const views = level >= 2 ? browseProducts(ctx, 1 + rng.poisson(1.3), hour, visitor.customer, []) : [];
  const searches: string[] = [];
  if (depth === 'search' || (level >= 2 && rng.chance(0.25))) searches.push(searchQuery(rng, views));
  if (depth === 'search' && rng.chance(0.25)) searches.push(searchQuery(rng, []));
  const adds: BasketItem[] = [];
  if (level >= 3) {
    const addCount = Math.min(views.length, 1 + rng.poisson(0.4));
    for (const product of views.slice(0, addCount)) adds.push({ product, quantity: 1 + rng.poisson(0.3) });
  }
  const customer = visitor.customer;
  const loggedInAtStart = customer !== null && !signup && visitor.device.identified && rng.chance(0.7);
  let identifyAt: IdentifyPoint = 'none';
  if (signup) identifyAt = 'landing';
  else if (customer && !loggedInAtStart) {
    if (depth === 'checkout') identifyAt = 'before-checkout';
    else if (rng.chance(0.2)) identifyAt = 'landing';
  }
  const durationMs =
    depth === 'bounce'
      ? rng.int(5, 60) * 1000
      : Math.round((1 + views.length * 1.1 + searches.length + rng.exponential(3)) * MINUTE_MS);
  const groupId = groupFor(visitor, identifyAt !== 'none');
  if (identifyAt !== 'none') visitor.device.identified = true;
  return {
    id: ctx.nextSessionId(),
    startMs,
    // Visits end the same day, so each day's messages can be rendered and sorted on their own.
    endMs: Math.min(startMs + durationMs, ctx.day.startMs + DAY_MS - 1000),
    anonymousId: visitor.device.anonymousId,
    customer,
    userAgent: visitor.device.userAgent,
    ip: visitor.ip,
    consent: visitor.consent,
    loggedInAtStart,
    identifyAt,
    signup,
    alias: signup && rng.chance(0.3),
    groupId,
    ...landing(rng),
    searches,
    views,
    adds,
    cartViewed: level >= 4,
    checkoutStarted: level >= 5,
    order: null,
    cartId: rng.uuid(),
  };
}

/* ---------- Rendering ---------- */

const RENDER_STREAM = 0x5e55;

const slugs = new Map<string, string>();
function slug(name: string): string {
  let value = slugs.get(name);
  if (value === undefined) {
    value = slugify(name);
    slugs.set(name, value);
  }
  return value;
}

function pagePath(page: PageView): { path: string; search: string; title: string } {
  switch (page.name) {
    case 'Home':
      return { path: '/', search: '', title: 'Crumb & Co. Bakery' };
    case 'Search':
      return {
        path: '/search',
        search: `?q=${encodeURIComponent(page.query)}`,
        title: `Search results for "${page.query}"`,
      };
    case 'Category':
      return { path: `/shop/${slug(page.category)}`, search: '', title: `${page.category} | Crumb & Co.` };
    case 'Product':
      return {
        path: `/products/${slug(page.product.name)}`,
        search: '',
        title: `${page.product.name} | Crumb & Co.`,
      };
    case 'Cart':
      return { path: '/cart', search: '', title: 'Your basket | Crumb & Co.' };
    case 'Checkout':
      return { path: '/checkout', search: '', title: 'Checkout | Crumb & Co.' };
    case 'Sign In':
      return { path: '/account/sign-in', search: '', title: 'Sign in | Crumb & Co.' };
    case 'Create Account':
      return { path: '/account/create', search: '', title: 'Create an account | Crumb & Co.' };
  }
}

function productProperties(product: CatalogueProduct): Record<string, unknown> {
  return {
    product_id: product.product_id,
    sku: product.product_id,
    name: product.name,
    category: product.category,
    price: product.price,
    currency: 'GBP',
  };
}

function lineProperties(items: readonly BasketItem[]): Record<string, unknown>[] {
  return items.map((item) => ({
    product_id: item.product.product_id,
    name: item.product.name,
    category: item.product.category,
    price: item.product.price,
    quantity: item.quantity,
  }));
}

function cartValue(items: readonly BasketItem[]): number {
  let total = 0;
  for (const item of items) total += item.product.price * item.quantity;
  return Math.round(total * 100) / 100;
}

/** Times for `count` messages from `startMs` to `endMs`, strictly increasing, the last exactly at `endMs`. */
function stepTimes(rng: Random, count: number, startMs: number, endMs: number): number[] {
  if (count === 1) return [endMs];
  const gaps: number[] = [];
  let sum = 0;
  for (let i = 1; i < count; i++) {
    const gap = 0.25 + rng.next();
    gaps.push(gap);
    sum += gap;
  }
  const span = Math.max(0, endMs - startMs - count);
  const times = [startMs];
  let acc = 0;
  for (let i = 1; i < count - 1; i++) {
    acc += gaps[i - 1]!;
    times.push(startMs + Math.floor((acc / sum) * span) + i);
  }
  times.push(endMs);
  return times;
}

/** Turns a visit into Segment messages (in order). Deterministic: depends only on the plan and the seed. */
export function renderSession(plan: SessionPlan, seed: number): SegmentMessage[] {
  const rng = Random.derive(seed, RENDER_STREAM, plan.id);
  const steps = sessionSteps(plan);
  const times = stepTimes(rng, steps.length, plan.startMs, plan.endMs);
  const customer = plan.customer;
  const userId = customer?.row.customer_id;
  const consent = { categoryPreferences: plan.consent };
  const userAgent = USER_AGENTS[plan.userAgent]!.value;
  let identified = plan.loggedInAtStart;
  let pageContext: NonNullable<SegmentContext['page']> = {
    path: '/',
    url: `${SHOP_URL}/`,
    title: '',
    referrer: '',
    search: '',
  };
  let referrer = plan.referrer;
  let first = true;
  const messages: SegmentMessage[] = [];
  const cart: BasketItem[] = [];
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!;
    const base = (type: SegmentMessage['type']): SegmentMessage => {
      const context: SegmentContext = {
        library: LIBRARY,
        userAgent,
        ip: plan.ip,
        locale: 'en-GB',
        timezone: 'Europe/London',
        page: pageContext,
        consent,
      };
      if (first && plan.campaign) context.campaign = plan.campaign;
      const message: SegmentMessage = {
        type,
        messageId: rng.uuid(),
        timestamp: new Date(times[i]!).toISOString(),
        anonymousId: plan.anonymousId,
      };
      if (identified && userId) message.userId = userId;
      message.context = context;
      return message;
    };
    const track = (event: string, properties: Record<string, unknown>): SegmentMessage => {
      const message = base('track');
      message.event = event;
      message.properties = properties;
      return message;
    };
    switch (step.kind) {
      case 'page': {
        const { path, search, title } = pagePath(step.page);
        pageContext = { path, url: `${SHOP_URL}${path}${search}`, title, referrer, search };
        referrer = pageContext.url;
        const message = base('page');
        message.name = step.page.name;
        const properties: Record<string, unknown> = { ...pageContext };
        if (step.page.name === 'Category') properties.category = step.page.category;
        if (step.page.name === 'Product') properties.product_id = step.page.product.product_id;
        message.properties = properties;
        messages.push(message);
        break;
      }
      case 'identify': {
        identified = true;
        const row = customer!.row;
        const message = base('identify');
        message.traits = {
          email: row.email,
          firstName: row.first_name,
          lastName: row.last_name,
          city: row.city,
          phone: row.phone,
          createdAt: row.created_at,
        };
        messages.push(message);
        break;
      }
      case 'signed-up':
        messages.push(track('Signed Up', { method: 'email' }));
        break;
      case 'alias': {
        const message = base('alias');
        message.previousId = plan.anonymousId;
        messages.push(message);
        break;
      }
      case 'group': {
        const company = COMPANIES.find((c) => c.id === plan.groupId)!;
        const message = base('group');
        message.groupId = company.id;
        message.traits = { name: company.name, industry: company.industry, employees: company.employees };
        messages.push(message);
        break;
      }
      case 'search':
        messages.push(track('Products Searched', { query: step.query }));
        break;
      case 'product-viewed':
        messages.push(track('Product Viewed', productProperties(step.product)));
        break;
      case 'product-added':
        cart.push(step.item);
        messages.push(
          track('Product Added', {
            cart_id: plan.cartId,
            ...productProperties(step.item.product),
            quantity: step.item.quantity,
          }),
        );
        break;
      case 'cart-viewed':
        messages.push(track('Cart Viewed', { cart_id: plan.cartId, products: lineProperties(cart) }));
        break;
      case 'checkout-started': {
        const value = cartValue(cart);
        messages.push(
          track('Checkout Started', {
            cart_id: plan.cartId,
            value,
            revenue: value,
            currency: 'GBP',
            products: lineProperties(cart),
          }),
        );
        break;
      }
      case 'order-completed': {
        const order = plan.order!;
        messages.push(
          track('Order Completed', {
            order_id: order.orderId,
            cart_id: plan.cartId,
            total: order.total,
            revenue: order.total,
            currency: 'GBP',
            products: lineProperties(order.items),
          }),
        );
        break;
      }
    }
    first = false;
  }
  return messages;
}

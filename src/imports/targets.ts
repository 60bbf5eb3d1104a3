import type { ImportTarget } from '../store/import-types.js';

/**
 * How a field's text is checked and converted. Every column is read from the file as text; the store turns
 * it into the field's type and rejects the row, naming the field and value, when it cannot.
 */
export type FieldType =
  /** Trimmed text; empty means missing. */
  | 'text'
  /** A whole number (`3`, `3.0`). */
  | 'integer'
  /** A floating-point number; a leading currency sign is allowed. */
  | 'number'
  /** An exact amount with 4 decimal places; a leading currency sign is allowed. */
  | 'decimal'
  /** ISO 8601, `YYYY-MM-DD[ HH:MM[:SS]]`, `M/D/YYYY[ H:MM[:SS][ AM|PM]]`, `D.M.YYYY[ H:MM[:SS]]`, epoch seconds or ms. */
  | 'timestamp'
  /** Roughly `local@domain.tld`. */
  | 'email'
  /** A JSON object. */
  | 'json'
  /** One of the event types `track`, `identify`, `page`, `screen`, `group`, `alias` (case-insensitive). */
  | 'event_type';

export interface TargetField {
  readonly name: string;
  readonly type: FieldType;
  readonly required: boolean;
  /**
   * Column names that map to this field when `--map` does not say otherwise, best first. Compared after
   * lower-casing and dropping everything but letters and digits, so `Order ID`, `order_id` and `OrderID` are one name.
   */
  readonly aliases: readonly string[];
  readonly description: string;
}

export interface TargetDefinition {
  readonly target: ImportTarget;
  /** The public relation the rows appear in. */
  readonly relation: string;
  readonly description: string;
  readonly fields: readonly TargetField[];
  /** Each group needs at least one of its fields mapped to a column (e.g. user_id or anonymous_id). */
  readonly requireOneOf: readonly (readonly string[])[];
}

function field(
  name: string,
  type: FieldType,
  description: string,
  aliases: readonly string[] = [],
  required = false,
): TargetField {
  return { name, type, required, aliases: [name, ...aliases], description };
}

const ORDER_FIELDS: readonly TargetField[] = [
  field(
    'order_id',
    'text',
    'The order (invoice, receipt) the line belongs to.',
    [
      'order_number',
      'order_no',
      'order',
      'invoice_no',
      'invoice_number',
      'invoice_id',
      'invoice',
      'receipt_id',
      'receipt_number',
      'receipt_no',
      'receipt',
      'transaction_id',
      'ticket_id',
      'id',
    ],
    true,
  ),
  field(
    'line_number',
    'integer',
    'Position of the line within the order; numbered in file order when absent.',
    ['line_no', 'line', 'line_id', 'line_item', 'position'],
  ),
  field(
    'ordered_at',
    'timestamp',
    'When the order was placed. Times without an offset are taken as UTC.',
    [
      'order_date',
      'order_time',
      'order_datetime',
      'invoice_date',
      'purchase_date',
      'transaction_date',
      'sale_date',
      'created_at',
      'date',
      'datetime',
      'timestamp',
      'paid_at',
      'time',
    ],
    true,
  ),
  field('customer_id', 'text', 'Who bought.', [
    'customer',
    'customer_number',
    'customer_no',
    'client_id',
    'client',
    'member_id',
    'buyer_id',
    'account_id',
    'user_id',
  ]),
  field('email', 'email', "The buyer's email address.", [
    'e_mail',
    'email_address',
    'customer_email',
    'mail',
  ]),
  field('channel', 'text', 'Sales channel (web, pos, marketplace, …).', [
    'sales_channel',
    'order_source',
    'source',
  ]),
  field('store', 'text', 'Shop, branch or location that made the sale.', [
    'store_id',
    'store_name',
    'shop',
    'location',
    'branch',
    'outlet',
  ]),
  field('product_id', 'text', 'The product or SKU sold on this line.', [
    'sku',
    'stock_code',
    'item_id',
    'item_code',
    'product_code',
    'article_number',
    'article_id',
    'lineitem_sku',
    'variant_sku',
    'barcode',
    'ean',
    'upc',
  ]),
  field('product_name', 'text', 'Product name as printed on the order.', [
    'product_title',
    'item_name',
    'lineitem_name',
    'article_name',
    'description',
    'product',
    'item',
    'title',
  ]),
  field('category', 'text', 'Product category.', ['product_category', 'product_type', 'department']),
  field('quantity', 'number', 'Units on the line; 1 when empty.', [
    'qty',
    'quantity_sold',
    'lineitem_quantity',
    'units',
  ]),
  field('unit_price', 'decimal', 'Price of one unit.', [
    'unitprice',
    'price_each',
    'item_price',
    'lineitem_price',
    'sale_price',
    'selling_price',
    'price',
  ]),
  field('amount', 'decimal', 'Line total; quantity × unit_price when empty.', [
    'line_total',
    'total_price',
    'total_amount',
    'order_total',
    'total',
    'amount_total',
    'revenue',
    'sales',
    'net_amount',
    'gross_amount',
  ]),
  field('currency', 'text', 'ISO 4217 code such as EUR.', ['currency_code', 'curr']),
  field('country', 'text', 'Country the order was shipped to or billed in.', [
    'shipping_country',
    'billing_country',
    'country_code',
  ]),
  field('status', 'text', 'Order or payment status.', [
    'order_status',
    'financial_status',
    'payment_status',
    'state',
  ]),
];

const CUSTOMER_FIELDS: readonly TargetField[] = [
  field(
    'customer_id',
    'text',
    'The customer key used by orders and events.',
    [
      'customer',
      'customer_number',
      'customer_no',
      'client_id',
      'client',
      'member_id',
      'account_id',
      'user_id',
      'id',
    ],
    true,
  ),
  field('email', 'email', 'Email address.', ['e_mail', 'email_address', 'mail']),
  field('phone', 'text', 'Phone number.', ['phone_number', 'telephone', 'tel', 'mobile', 'cell']),
  field('first_name', 'text', 'Given name.', ['firstname', 'given_name', 'forename']),
  field('last_name', 'text', 'Family name.', ['lastname', 'surname', 'family_name']),
  field('name', 'text', 'Full name; first and last name joined when empty.', [
    'full_name',
    'customer_name',
    'client_name',
    'display_name',
  ]),
  field('city', 'text', 'City.', ['town']),
  field('postal_code', 'text', 'Postal code.', ['zip', 'zip_code', 'postcode']),
  field('country', 'text', 'Country name or code.', ['country_code', 'nation']),
  field('created_at', 'timestamp', 'When the customer signed up.', [
    'signup_date',
    'signed_up_at',
    'registered_at',
    'customer_since',
    'created',
    'first_seen',
  ]),
];

const PRODUCT_FIELDS: readonly TargetField[] = [
  field(
    'product_id',
    'text',
    'The product key used by order lines.',
    [
      'sku',
      'stock_code',
      'item_id',
      'item_code',
      'product_code',
      'article_number',
      'variant_sku',
      'handle',
      'id',
    ],
    true,
  ),
  field('name', 'text', 'Product name.', [
    'product_name',
    'title',
    'item_name',
    'description',
    'product',
    'item',
  ]),
  field('category', 'text', 'Category.', [
    'product_category',
    'product_type',
    'type',
    'department',
    'collection',
  ]),
  field('brand', 'text', 'Brand or vendor.', ['vendor', 'manufacturer']),
  field('price', 'decimal', 'List price.', [
    'unit_price',
    'unitprice',
    'list_price',
    'variant_price',
    'retail_price',
  ]),
  field('currency', 'text', 'ISO 4217 code such as EUR.', ['currency_code', 'curr']),
];

const EVENT_FIELDS: readonly TargetField[] = [
  field('message_id', 'text', 'Unique event id; derived from the row when absent.', [
    'messageid',
    'event_id',
    'id',
  ]),
  field('type', 'event_type', 'track (default), identify, page, screen, group or alias.', ['event_type']),
  field('event', 'text', 'Event name; required for track events.', ['event_name', 'action']),
  field('name', 'text', 'Page or screen name.', ['page_name', 'screen_name']),
  field('category', 'text', 'Page category.', []),
  field('user_id', 'text', 'Known user; this or anonymous_id is required.', [
    'userid',
    'user',
    'customer_id',
    'distinct_id',
    'account_id',
  ]),
  field('anonymous_id', 'text', 'Device or cookie id; this or user_id is required.', [
    'anonymousid',
    'anon_id',
    'visitor_id',
    'device_id',
    'cookie_id',
  ]),
  field('group_id', 'text', 'Account or group, for group events.', ['groupid']),
  field(
    'timestamp',
    'timestamp',
    'When the event happened. Times without an offset are taken as UTC.',
    ['time', 'ts', 'event_time', 'occurred_at', 'created_at', 'datetime', 'date', 'original_timestamp'],
    true,
  ),
  field('properties', 'json', 'A JSON object; unmapped columns are added to it.', [
    'props',
    'event_properties',
  ]),
  field('traits', 'json', 'A JSON object of user traits.', ['user_properties']),
  field('context', 'json', 'A JSON object of context.', []),
];

export const TARGETS: Readonly<Record<ImportTarget, TargetDefinition>> = {
  orders: {
    target: 'orders',
    relation: 'orders',
    description: 'One row per order line; a file with one row per order makes single-line orders.',
    fields: ORDER_FIELDS,
    requireOneOf: [],
  },
  customers: {
    target: 'customers',
    relation: 'customers',
    description: 'One row per customer.',
    fields: CUSTOMER_FIELDS,
    requireOneOf: [],
  },
  products: {
    target: 'products',
    relation: 'products',
    description: 'One row per product.',
    fields: PRODUCT_FIELDS,
    requireOneOf: [],
  },
  events: {
    target: 'events',
    relation: 'events',
    description: 'Historical events, stored beside collected ones.',
    fields: EVENT_FIELDS,
    requireOneOf: [
      ['user_id', 'anonymous_id'],
      ['event', 'type'],
    ],
  },
};

export function targetField(target: ImportTarget, name: string): TargetField | undefined {
  return TARGETS[target].fields.find((f) => f.name === name);
}

/** `Order ID`, `order_id`, `ORDER-ID` and `OrderID` all become `orderid`. */
export function normaliseColumnName(name: string): string {
  return name
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '');
}

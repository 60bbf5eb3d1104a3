/** The demo business generator: a year of a bakery with a web shop and a high-street shop. */
export {
  DEFAULT_DEMO_OPTIONS,
  type DemoBusiness,
  type DemoOptions,
  type DemoSummary,
  generateBakery,
} from './bakery-generator.js';
export { type AssociationRule, PLANTED_RULES } from './catalogue.js';
export { type ConsentShares, DEFAULT_CONSENT_SHARES } from './customers.js';
export {
  CUSTOMER_COLUMNS,
  type DemoCsvFiles,
  ORDER_LINE_COLUMNS,
  PRODUCT_COLUMNS,
  toCsv,
  writeDemoCsvFiles,
  writeEventsNdjson,
} from './export-files.js';
export type { ConsentPreferences, SegmentMessage, SegmentMessageType } from './segment-message.js';
export type {
  Channel,
  CustomerSegment,
  DemoCustomer,
  DemoOrderLine,
  DemoProduct,
  ProductCategory,
} from './types.js';

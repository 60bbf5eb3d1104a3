import { RefineryError } from '../core/errors.js';
import { isJsonObject } from '../core/json-object.js';

/**
 * The purposes Refinery enforces consent for. Every consent signal (a banner's categories, `Sec-GPC`, the API)
 * is translated into decisions about these, and each gets its own store views.
 */
export const CONSENT_PURPOSES = ['analytics', 'personalisation', 'advertising', 'sale_sharing'] as const;

export type ConsentPurpose = (typeof CONSENT_PURPOSES)[number];

export function isConsentPurpose(value: unknown): value is ConsentPurpose {
  return typeof value === 'string' && (CONSENT_PURPOSES as readonly string[]).includes(value);
}

/** The value as a purpose, or a REFINERY_ERR_INVALID_FIELD naming `field` and the purposes there are. */
export function consentPurposeOrThrow(value: unknown, field = 'purpose'): ConsentPurpose {
  if (isConsentPurpose(value)) return value;
  throw new RefineryError(
    'REFINERY_ERR_INVALID_FIELD',
    `${field} must be one of ${CONSENT_PURPOSES.join(', ')}.`,
    {
      field,
    },
  );
}

/** What applies to a purpose for a person who has recorded no choice about it. */
export type ConsentDecision = 'granted' | 'denied';

export type ConsentDefaults = Readonly<Record<ConsentPurpose, ConsentDecision>>;

/**
 * Consent-manager category names (as normalised by `categoryKey`) to the purposes they speak for. A category
 * that maps to no purpose (`[]`) is known but decides nothing, such as a CMP's "strictly necessary" category,
 * which the visitor cannot refuse. A frozen object without a prototype, so any name is safe to look up.
 */
export type ConsentCategoryMap = Readonly<Record<string, readonly ConsentPurpose[]>>;

/** The `consent` section of refinery.yaml, validated: the category mapping and the per-purpose defaults. */
export interface ConsentConfig {
  readonly categories: ConsentCategoryMap;
  readonly default: ConsentDefaults;
}

/** The `consent` section as written in refinery.yaml; both keys are optional. */
export interface ConsentConfigInput {
  /** Category name to one purpose or a list of them; merged over the default mapping, `[]` for none. */
  readonly categories?: Readonly<Record<string, ConsentPurpose | readonly ConsentPurpose[]>>;
  /** Per-purpose default; purposes left out keep `DEFAULT_CONSENT_DEFAULTS`. */
  readonly default?: Partial<ConsentDefaults>;
}

/**
 * For people with no recorded choice. Advertising and the sale or sharing of data are opt-in: GDPR-style regimes
 * (and ePrivacy for ad cookies) require a prior, affirmative choice for them, and a default of "denied" is also
 * what CCPA-style opt-out regimes accept. First-party analytics and personalisation are opt-out: they serve the
 * shop itself, stay in its own store and are what most workspaces run on from day one. A workspace under
 * stricter rules (e.g. a CNIL reading of analytics cookies) sets them to `denied` in `consent.default`.
 */
export const DEFAULT_CONSENT_DEFAULTS: ConsentDefaults = Object.freeze({
  analytics: 'granted',
  personalisation: 'granted',
  advertising: 'denied',
  sale_sharing: 'denied',
});

/**
 * Category names common among consent managers and in Segment's own examples. Names are compared by
 * `categoryKey`, so `DataSharing`, `data_sharing` and `Data Sharing` are one name. OneTrust-style codes
 * (`C0002`) differ per CMP setup and so are left to `consent.categories`. Names that mean the opposite of
 * consent (`do_not_sell`) are deliberately absent: `true` there would be a refusal.
 */
const DEFAULT_CATEGORY_NAMES: Readonly<Record<string, readonly ConsentPurpose[]>> = {
  analytics: ['analytics'],
  statistics: ['analytics'],
  performance: ['analytics'],
  personalisation: ['personalisation'],
  personalization: ['personalisation'],
  functional: ['personalisation'],
  preferences: ['personalisation'],
  advertising: ['advertising'],
  marketing: ['advertising'],
  targeting: ['advertising'],
  ads: ['advertising'],
  sale_sharing: ['sale_sharing'],
  sale: ['sale_sharing'],
  sharing: ['sale_sharing'],
  data_sharing: ['sale_sharing'],
  // Always on in every CMP, so they carry no choice; known, so they are not reported as unknown.
  necessary: [],
  strictly_necessary: [],
  essential: [],
};

/**
 * The key a category name is looked up by: lower case, without spaces, `_` or `-`.
 *
 * @example categoryKey('Data Sharing') === categoryKey('data_sharing') // 'datasharing'
 */
export function categoryKey(name: string): string {
  return name.toLowerCase().replace(/[\s_-]+/g, '');
}

/** The purposes a category speaks for, or undefined when the mapping does not know the category. */
export function findCategoryPurposes(
  categories: ConsentCategoryMap,
  name: string,
): readonly ConsentPurpose[] | undefined {
  const key = categoryKey(name);
  return Object.hasOwn(categories, key) ? categories[key] : undefined;
}

const CONFIG_KEYS = new Set(['categories', 'default']);
const MAX_CATEGORY_NAME = 128;

/**
 * Checks the `consent` section of refinery.yaml and returns it validated and frozen: `categories` merged over
 * the default mapping (a name given there replaces the default for that name), `default` merged over
 * `DEFAULT_CONSENT_DEFAULTS`. Every problem is reported at once in one REFINERY_ERR_CONFIG_INVALID; `field`
 * names the first.
 *
 * @example validateConsentConfig({ categories: { C0002: 'analytics', C0004: ['advertising', 'sale_sharing'] } })
 */
export function validateConsentConfig(input: unknown = {}, path = 'consent'): ConsentConfig {
  const problems: { field: string; text: string }[] = [];
  const problem = (field: string, text: string) => problems.push({ field, text: `${field} ${text}` });

  if (input !== undefined && input !== null && !isJsonObject(input)) {
    problem(path, 'must be a mapping with optional `categories` and `default`');
  }
  const section = isJsonObject(input) ? input : {};
  for (const key of Object.keys(section)) {
    if (!CONFIG_KEYS.has(key)) problem(`${path}.${key}`, 'is not a known setting (use categories, default)');
  }

  const categories = readCategories(section.categories, `${path}.categories`, problem);
  const defaults = readDefaults(section.default, `${path}.default`, problem);

  if (problems.length > 0) {
    const first = problems[0]!;
    throw new RefineryError(
      'REFINERY_ERR_CONFIG_INVALID',
      `Consent settings are not valid:\n${problems.map((p) => p.text).join('\n')}`,
      { field: first.field, problems: problems.map((p) => p.text) },
    );
  }
  return Object.freeze({ categories, default: defaults });
}

function readCategories(
  raw: unknown,
  field: string,
  problem: (field: string, text: string) => void,
): ConsentCategoryMap {
  const merged: Record<string, readonly ConsentPurpose[]> = Object.create(null);
  for (const [name, purposes] of Object.entries(DEFAULT_CATEGORY_NAMES)) merged[categoryKey(name)] = purposes;
  if (raw === undefined || raw === null) return freezeCategories(merged);
  if (!isJsonObject(raw)) {
    problem(field, 'must be a mapping of consent-manager category name to a purpose or a list of purposes');
    return freezeCategories(merged);
  }

  const nameByKey = new Map<string, string>();
  for (const [name, value] of Object.entries(raw)) {
    const nameField = `${field}.${name}`;
    const key = categoryKey(name);
    if (key.length === 0 || name.length > MAX_CATEGORY_NAME) {
      problem(nameField, `is not a usable category name: give 1 to ${MAX_CATEGORY_NAME} characters`);
      continue;
    }
    const other = nameByKey.get(key);
    if (other !== undefined) {
      problem(nameField, `is the same category as "${other}" (names ignore case, spaces, "_" and "-")`);
      continue;
    }
    nameByKey.set(key, name);
    const purposes = readPurposeList(value, nameField, problem);
    if (purposes) merged[key] = purposes;
  }
  return freezeCategories(merged);
}

function readPurposeList(
  value: unknown,
  field: string,
  problem: (field: string, text: string) => void,
): readonly ConsentPurpose[] | undefined {
  const list = Array.isArray(value) ? (value as unknown[]) : [value];
  const purposes: ConsentPurpose[] = [];
  let valid = true;
  list.forEach((item, index) => {
    if (isConsentPurpose(item)) {
      if (!purposes.includes(item)) purposes.push(item);
      return;
    }
    valid = false;
    problem(
      Array.isArray(value) ? `${field}[${index}]` : field,
      `is ${describe(item)}, not a purpose (use ${CONSENT_PURPOSES.join(', ')}, or [] for none)`,
    );
  });
  return valid ? Object.freeze(purposes) : undefined;
}

function readDefaults(
  raw: unknown,
  field: string,
  problem: (field: string, text: string) => void,
): ConsentDefaults {
  const defaults: Record<ConsentPurpose, ConsentDecision> = { ...DEFAULT_CONSENT_DEFAULTS };
  if (raw === undefined || raw === null) return Object.freeze(defaults);
  if (!isJsonObject(raw)) {
    problem(field, `must be a mapping of purpose to granted or denied (${CONSENT_PURPOSES.join(', ')})`);
    return Object.freeze(defaults);
  }
  for (const [purpose, decision] of Object.entries(raw)) {
    if (!isConsentPurpose(purpose)) {
      problem(`${field}.${purpose}`, `is not a purpose (use ${CONSENT_PURPOSES.join(', ')})`);
    } else if (decision !== 'granted' && decision !== 'denied') {
      problem(`${field}.${purpose}`, `is ${describe(decision)}; use granted or denied`);
    } else {
      defaults[purpose] = decision;
    }
  }
  return Object.freeze(defaults);
}

function freezeCategories(categories: Record<string, readonly ConsentPurpose[]>): ConsentCategoryMap {
  return Object.freeze(categories);
}

function describe(value: unknown): string {
  return typeof value === 'string' ? `"${value}"` : (JSON.stringify(value) ?? String(value));
}

/** The mapping and defaults a workspace gets with no `consent` section. */
export const DEFAULT_CONSENT_CONFIG: ConsentConfig = validateConsentConfig({});

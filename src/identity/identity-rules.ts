import { RefineryError } from '../core/errors.js';
import { isJsonObject } from '../core/json-object.js';

/**
 * The rules the identity graph merges people by, in the spirit of Segment's identity resolution settings.
 *
 * Each identifier type has:
 * - `priority`: its rank, 1 being the most trusted. When a merge would break a limit, identifiers are given up
 *   lowest priority first. Priorities rank the types, so two types may not share one: a tie would leave the
 *   choice of which identifier to give up to the order fields happen to arrive in.
 * - `limit`: how many distinct values of that type one person may hold (`user_id: 1` means "at most one user
 *   id per person"), so one shared device or a junk value cannot fuse many people into one.
 * - `link`: whether the type may link identifiers into one person at all. A `link: false` identifier is still
 *   recorded on the person it is first seen with, but never decides which person anything else belongs to.
 */

/** The identifier types Refinery reads from Segment messages itself; others come from `context.externalIds`. */
export const BUILT_IN_IDENTIFIER_TYPES = ['user_id', 'anonymous_id', 'email', 'phone'] as const;

/**
 * One identifier: its type (a rule's name) and its value. Emails and phones are the workspace's keyed hash of the
 * normalised value (`IdentifierHasher`, `h1:…`), never the value in clear; other types are the opaque ids the
 * sources send.
 */
export interface Identifier {
  readonly type: string;
  readonly value: string;
}

/** One identifier type's rule, after validation. */
export interface IdentifierRule {
  readonly type: string;
  readonly priority: number;
  readonly limit: number;
  readonly link: boolean;
}

/** Validated rules: one entry per identifier type, ordered by priority (most trusted first). */
export interface IdentityRules {
  readonly identifiers: readonly IdentifierRule[];
}

/** The rules as written in configuration: identifier types keyed by name. */
export interface IdentityRulesInput {
  readonly identifiers: Readonly<Record<string, IdentifierRuleInput>>;
}

export interface IdentifierRuleInput {
  readonly priority: number;
  readonly limit: number;
  /** Defaults to true. */
  readonly link?: boolean;
}

/** Letters, digits, `_`, `.` and `-`, starting with a letter: `ga_client_id`, `ios.idfa`. */
const TYPE_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
const RULE_KEYS = new Set(['priority', 'limit', 'link']);

/**
 * Checks rules written in configuration and returns them validated, ordered by priority and frozen. Every
 * problem is reported at once; `field` (a path under `path`) names the first.
 *
 * @example validateIdentityRules({ identifiers: { user_id: { priority: 1, limit: 1 } } })
 */
export function validateIdentityRules(input: unknown, path = 'identity'): IdentityRules {
  const problems: { field: string; text: string }[] = [];
  const problem = (field: string, text: string) => problems.push({ field, text: `${field} ${text}` });

  const identifiers = isJsonObject(input) ? input.identifiers : undefined;
  if (!isJsonObject(input)) {
    problem(path, 'must be a mapping with an `identifiers` mapping');
  } else if (!isJsonObject(identifiers)) {
    problem(`${path}.identifiers`, 'must be a mapping of identifier type to { priority, limit, link }');
  } else if (Object.keys(identifiers).length === 0) {
    problem(`${path}.identifiers`, 'must name at least one identifier type');
  }

  const rules: IdentifierRule[] = [];
  const typeByPriority = new Map<number, string>();
  for (const [type, raw] of Object.entries(isJsonObject(identifiers) ? identifiers : {})) {
    const field = `${path}.identifiers.${type}`;
    const rule = readRule(type, raw, field, problem);
    const priority = isJsonObject(raw) ? raw.priority : undefined;
    if (!TYPE_NAME.test(type) || !isPositiveInteger(priority)) continue;
    const other = typeByPriority.get(priority);
    if (other === undefined) {
      typeByPriority.set(priority, type);
      if (rule) rules.push(rule);
    } else {
      problem(
        `${field}.priority`,
        `is ${priority}, the priority of "${other}" too; priorities rank the types and must differ`,
      );
    }
  }

  if (problems.length > 0) {
    const first = problems[0]!;
    throw new RefineryError(
      'REFINERY_ERR_CONFIG_INVALID',
      `Identity rules are not valid:\n${problems.map((p) => p.text).join('\n')}`,
      { field: first.field, problems: problems.map((p) => p.text) },
    );
  }
  rules.sort((a, b) => a.priority - b.priority);
  return Object.freeze({ identifiers: Object.freeze(rules.map((rule) => Object.freeze(rule))) });
}

/**
 * Rules for a typical shop: one user id per person, a handful of emails and phones, and room for the many
 * anonymous ids a person collects over browsers and devices.
 */
export const DEFAULT_IDENTITY_RULES: IdentityRules = validateIdentityRules({
  identifiers: {
    user_id: { priority: 1, limit: 1 },
    email: { priority: 2, limit: 5 },
    phone: { priority: 3, limit: 5 },
    anonymous_id: { priority: 4, limit: 100 },
  },
} satisfies IdentityRulesInput);

/** One identifier type's rule, or undefined after reporting what is wrong with it. */
function readRule(
  type: string,
  raw: unknown,
  field: string,
  problem: (field: string, text: string) => void,
): IdentifierRule | undefined {
  if (!TYPE_NAME.test(type)) {
    problem(
      field,
      'is not a valid identifier type: use letters, digits, "_", "." or "-", start with a letter, at most 64 characters',
    );
    return undefined;
  }
  if (!isJsonObject(raw)) {
    problem(field, 'must be a mapping with `priority`, `limit` and optionally `link`');
    return undefined;
  }
  for (const key of Object.keys(raw)) {
    if (!RULE_KEYS.has(key)) problem(`${field}.${key}`, 'is not a known setting (use priority, limit, link)');
  }
  const { priority, limit, link = true } = raw;
  if (!isPositiveInteger(priority)) {
    problem(`${field}.priority`, 'must be a whole number of 1 or more (1 is the highest priority)');
  }
  if (!isPositiveInteger(limit)) {
    problem(`${field}.limit`, 'must be a whole number of 1 or more (distinct values one person may hold)');
  }
  if (typeof link !== 'boolean') problem(`${field}.link`, 'must be true or false');
  if (!isPositiveInteger(priority) || !isPositiveInteger(limit) || typeof link !== 'boolean')
    return undefined;
  return { type, priority, limit, link };
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1;
}

import { RefineryError } from '../core/errors.js';
import { illFormedUnicode, isWellFormed, toWellFormed } from './well-formed-unicode.js';

/**
 * Walks a parsed JSON value once and refuses what could hurt code downstream or could not be stored as it was
 * checked: keys that poison prototypes (`__proto__`, or `constructor` holding a `prototype`), nesting deeper
 * than `maxDepth`, a number no double holds (JSON.parse makes `1e400` Infinity, which JSON can only write as
 * null), and, when `checkUnicode` is set, a string or key holding a lone surrogate. The depth is checked before
 * going deeper, so the recursion is bounded by it. Returns an upper bound of the value's size as UTF-8 JSON
 * (every character counted as a six-byte escape), so callers can skip measuring it exactly.
 *
 * `checkUnicode` may be false only when the JSON text the value came from cannot hold a lone surrogate
 * (see `mayHoldLoneSurrogate`).
 */
export function assertSafeJson(value: unknown, path: string, maxDepth: number, checkUnicode = true): number {
  if (value === null || typeof value !== 'object') {
    const problem = primitiveProblem(value, checkUnicode);
    if (problem) throw refusal({ problem, steps: [] }, path, maxDepth);
    return primitiveBound(value);
  }
  const walk: Walk = { maxDepth, checkUnicode, failure: undefined };
  const bound = walkObject(value, 1, walk);
  if (walk.failure) throw refusal(walk.failure, path, maxDepth);
  return bound;
}

type Problem = 'deep' | 'hostile' | 'unicode' | 'number';

interface Failure {
  readonly problem: Problem;
  /** Path steps from the failing place up to the root (`.key`, `[3]`): built only when something fails. */
  readonly steps: string[];
}

interface Walk {
  readonly maxDepth: number;
  readonly checkUnicode: boolean;
  failure: Failure | undefined;
}

/** The value's size bound, or -1 with `walk.failure` set. */
function walkObject(value: object, depth: number, walk: Walk): number {
  if (depth > walk.maxDepth) {
    walk.failure = { problem: 'deep', steps: [] };
    return -1;
  }
  let bound = 2;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const child: unknown = value[i];
      const size = childBound(child, depth, walk);
      if (size < 0) {
        walk.failure!.steps.push(`[${i}]`);
        return -1;
      }
      bound += size + 1;
    }
    return bound;
  }
  for (const key in value) {
    const child: unknown = (value as Record<string, unknown>)[key];
    let size: number;
    if (walk.checkUnicode && !isWellFormed(key)) {
      walk.failure = { problem: 'unicode', steps: [] };
      size = -1;
    } else if (key === '__proto__' || (key === 'constructor' && isObjectWithPrototype(child))) {
      walk.failure = { problem: 'hostile', steps: [] };
      size = -1;
    } else {
      size = childBound(child, depth, walk);
    }
    if (size < 0) {
      walk.failure!.steps.push(`.${toWellFormed(key)}`);
      return -1;
    }
    bound += key.length * 6 + 4 + size;
  }
  return bound;
}

function childBound(child: unknown, depth: number, walk: Walk): number {
  if (child !== null && typeof child === 'object') return walkObject(child, depth + 1, walk);
  const problem = primitiveProblem(child, walk.checkUnicode);
  if (problem) {
    walk.failure = { problem, steps: [] };
    return -1;
  }
  return primitiveBound(child);
}

function primitiveProblem(value: unknown, checkUnicode: boolean): Problem | undefined {
  if (typeof value === 'string') return checkUnicode && !isWellFormed(value) ? 'unicode' : undefined;
  // Infinity and -Infinity; JSON.parse never makes NaN.
  if (typeof value === 'number' && value - value !== 0) return 'number';
  return undefined;
}

function refusal(failure: Failure, root: string, maxDepth: number): RefineryError {
  const field = root + failure.steps.reverse().join('');
  switch (failure.problem) {
    case 'deep':
      return new RefineryError(
        'REFINERY_ERR_TOO_DEEP',
        `${field} is nested deeper than ${maxDepth} levels.`,
        {
          field,
          limit: maxDepth,
        },
      );
    case 'hostile':
      return new RefineryError('REFINERY_ERR_HOSTILE_KEY', `${field} is not an allowed key.`, { field });
    case 'unicode':
      return illFormedUnicode(field);
    case 'number':
      return new RefineryError(
        'REFINERY_ERR_INVALID_FIELD',
        `${field} is a number too large to store (JSON numbers must fit a 64-bit float).`,
        { field },
      );
  }
}

function primitiveBound(value: unknown): number {
  return typeof value === 'string' ? value.length * 6 + 2 : 24;
}

function isObjectWithPrototype(value: unknown): boolean {
  return value !== null && typeof value === 'object' && Object.hasOwn(value, 'prototype');
}

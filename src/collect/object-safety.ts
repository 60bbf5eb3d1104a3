import { RefineryError } from '../core/errors.js';

/**
 * Walks a parsed JSON value once and refuses what could hurt code downstream: keys that poison
 * prototypes (`__proto__`, or `constructor` holding a `prototype`) and nesting deeper than `maxDepth`.
 * Iterative, so a hostile body cannot exhaust the stack. Returns an upper bound of the value's size as
 * UTF-8 JSON (every character counted as a six-byte escape), so callers can skip measuring it exactly.
 */
export function assertSafeJson(value: unknown, path: string, maxDepth: number): number {
  if (value === null || typeof value !== 'object') return primitiveBound(value);
  let bound = 0;
  const stack: { value: object; path: string; depth: number }[] = [{ value, path, depth: 1 }];
  while (stack.length > 0) {
    const current = stack.pop()!;
    if (current.depth > maxDepth) {
      throw new RefineryError(
        'REFINERY_ERR_TOO_DEEP',
        `${current.path} is nested deeper than ${maxDepth} levels.`,
        {
          field: current.path,
          limit: maxDepth,
        },
      );
    }
    bound += 2;
    if (Array.isArray(current.value)) {
      for (let i = 0; i < current.value.length; i++) {
        const child: unknown = current.value[i];
        if (child !== null && typeof child === 'object') {
          stack.push({ value: child, path: `${current.path}[${i}]`, depth: current.depth + 1 });
        } else {
          bound += primitiveBound(child) + 1;
        }
      }
      continue;
    }
    for (const key of Object.keys(current.value)) {
      const child: unknown = (current.value as Record<string, unknown>)[key];
      bound += key.length * 6 + 4;
      if (key === '__proto__' || (key === 'constructor' && isObjectWithPrototype(child))) {
        throw new RefineryError('REFINERY_ERR_HOSTILE_KEY', `${current.path}.${key} is not an allowed key.`, {
          field: `${current.path}.${key}`,
        });
      }
      if (child !== null && typeof child === 'object') {
        stack.push({ value: child, path: `${current.path}.${key}`, depth: current.depth + 1 });
      } else {
        bound += primitiveBound(child);
      }
    }
  }
  return bound;
}

function primitiveBound(value: unknown): number {
  return typeof value === 'string' ? value.length * 6 + 2 : 24;
}

function isObjectWithPrototype(value: unknown): boolean {
  return value !== null && typeof value === 'object' && Object.hasOwn(value, 'prototype');
}

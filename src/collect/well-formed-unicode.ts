import { RefineryError } from '../core/errors.js';
import type { StoredViolation } from '../store/wal-format.js';

/**
 * Well-formed Unicode for what clients send. A JavaScript string may hold a lone surrogate (half of a UTF-16
 * pair), which is no character: UTF-8 cannot encode it, and a JSON parser that stores UTF-8 (DuckDB's) refuses
 * the escape that makes one. So no string or key holding one may reach the write-ahead log.
 *
 * Valid UTF-8 bytes never decode to a lone surrogate (isUtf8 refuses encoded surrogates), so in a JSON body the
 * only source is a `\uD800`–`\uDFFF` escape. Looking for `\ud`/`\uD` in the text is a cheap test that lets almost
 * every body skip the per-string checks.
 */

// `isWellFormed`/`toWellFormed` are ES2024 (Node 20+); the project's TypeScript lib is ES2023.
interface Es2024String {
  isWellFormed(): boolean;
  toWellFormed(): string;
}

export function isWellFormed(text: string): boolean {
  return (text as unknown as Es2024String).isWellFormed();
}

/** The text with each lone surrogate replaced by U+FFFD. */
export function toWellFormed(text: string): string {
  return (text as unknown as Es2024String).toWellFormed();
}

/**
 * False when JSON text cannot decode to a string holding a lone surrogate; true when it may (it has an escape
 * starting `\ud` or `\uD`; the values then have to be looked at).
 */
export function mayHoldLoneSurrogate(jsonText: string): boolean {
  return jsonText.includes('\\ud') || jsonText.includes('\\uD');
}

/** The refusal of a string or key holding a lone surrogate at `field`. */
export function illFormedUnicode(field: string): RefineryError {
  return new RefineryError(
    'REFINERY_ERR_INVALID_UNICODE',
    `${field} holds a lone surrogate (a \\uD800–\\uDFFF escape without its pair), which is not a character.`,
    { field },
  );
}

/**
 * Where in a parsed JSON value the first string or key holding a lone surrogate is (`purposes.x`,
 * `fixes[0].payload.event`; `root` for the value itself), or undefined when there is none. Iterative, so any depth
 * is safe. Keys in the path are made well-formed, so the path itself can be reported and stored.
 */
export function findIllFormedUnicode(value: unknown, root = 'body'): string | undefined {
  const stack: { value: unknown; path: string }[] = [{ value, path: '' }];
  while (stack.length > 0) {
    const current = stack.pop()!;
    const item = current.value;
    if (typeof item === 'string') {
      if (!isWellFormed(item)) return current.path || root;
      continue;
    }
    if (item === null || typeof item !== 'object') continue;
    if (Array.isArray(item)) {
      for (let i = 0; i < item.length; i++) stack.push({ value: item[i], path: `${current.path}[${i}]` });
      continue;
    }
    for (const key of Object.keys(item)) {
      const path = current.path ? `${current.path}.${toWellFormed(key)}` : toWellFormed(key);
      if (!isWellFormed(key)) return path;
      stack.push({ value: (item as Record<string, unknown>)[key], path });
    }
  }
  return undefined;
}

/** Throws REFINERY_ERR_INVALID_UNICODE naming the first string or key of `value` holding a lone surrogate. */
export function assertWellFormedUnicode(value: unknown, root = 'body'): void {
  const field = findIllFormedUnicode(value, root);
  if (field !== undefined) throw illFormedUnicode(field);
}

/**
 * At most `max` UTF-16 units of the text, never ending in half a surrogate pair, and well-formed: for excerpts
 * and ids kept only to explain a problem.
 */
export function wellFormedCut(text: string, max: number): string {
  let cut = text.length > max ? text.slice(0, max) : text;
  const last = cut.charCodeAt(cut.length - 1);
  // A high surrogate at the end was the first half of a pair the cut split.
  if (cut.length < text.length && last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  return isWellFormed(cut) ? cut : toWellFormed(cut);
}

// A lone surrogate as JSON.stringify writes it (`\udXXX`, lower case), when its backslash is not itself escaped.
const LONE_SURROGATE_ESCAPE = /(?<!\\)((?:\\\\)*)\\ud[89a-f][0-9a-f]{2}/g;

/**
 * JSON text from JSON.stringify with each lone surrogate's escape replaced by U+FFFD's. JSON.stringify writes
 * lone surrogates as `\udXXX` escapes (and paired ones as the character), so its output is valid UTF-8, yet a
 * reader of the text would get the lone surrogate back; an excerpt has no need of it.
 */
export function withoutLoneSurrogateEscapes(jsonText: string): string {
  if (!mayHoldLoneSurrogate(jsonText)) return jsonText;
  return jsonText.replace(LONE_SURROGATE_ESCAPE, '$1\\ufffd');
}

/**
 * Contract violations as a log line may carry them: a value excerpt cut by UTF-16 units can end in half a
 * surrogate pair, which no JSON reader that stores UTF-8 accepts. The same array when nothing needs mending.
 */
export function wellFormedViolations(violations: readonly StoredViolation[]): readonly StoredViolation[] {
  const broken = (text: string | undefined) => text !== undefined && !isWellFormed(text);
  if (!violations.some((v) => broken(v.path) || broken(v.message) || broken(v.value))) return violations;
  return violations.map((violation) => ({
    ...violation,
    path: toWellFormed(violation.path),
    message: toWellFormed(violation.message),
    ...(violation.value === undefined ? {} : { value: toWellFormed(violation.value) }),
  }));
}

import type { ErasureTarget } from './privacy-types.js';

/**
 * How an erasure recognises a set-aside write-ahead-log line that names the person. The line is kept as its
 * exact bytes (base64, since it may not be UTF-8 or JSON), so neither engine can search it in SQL: both read
 * the lines and match the bytes here, then delete by line id, which names no one.
 *
 * A log line is the collector's JSON, so an id sits in it as a JSON string: `"u7"` matches a short id exactly
 * where a bare substring would match any line holding those two letters. Ids of three characters or more (and
 * emails, as the target's needles hold them) also match unquoted and JSON-escaped, for a line torn inside the
 * string. Identity lines hold `type:value` keys and keyed email and phone hashes, matched the same way.
 */
export function damagedLineNeedles(target: ErasureTarget): Buffer[] {
  const quoted = [...target.userIds, ...target.anonymousIds, ...target.identifierKeys].map((value) =>
    JSON.stringify(value),
  );
  const bare = [...target.needles, ...target.emailHashes, ...target.phoneHashes]
    .filter((value) => value.length >= 3)
    .flatMap((value) => [value, JSON.stringify(value).slice(1, -1)]);
  return [...new Set([...quoted, ...bare])]
    .filter((text) => text.length > 2)
    .map((text) => Buffer.from(text));
}

/** True when the line (its bytes as base64, as stored) holds one of the needles. */
export function damagedLineMentions(rawBase64: string, needles: readonly Buffer[]): boolean {
  if (needles.length === 0) return false;
  const bytes = Buffer.from(rawBase64, 'base64');
  return needles.some((needle) => bytes.includes(needle));
}

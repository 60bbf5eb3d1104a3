/**
 * Literal quoting for ClickHouse SQL. ClickHouse 18.16 has no server-side query parameters, so values are
 * written into the text; every value goes through `quote`, which escapes what the ClickHouse lexer reads
 * as special inside a single-quoted string.
 */
export function quote(value: string | null | undefined): string {
  if (value === null || value === undefined) return 'NULL';
  const escaped = value
    .replace(/\\/g, '\\\\')
    .replace(/'/g, "\\'")
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t')
    .replace(/\0/g, '\\0');
  return `'${escaped}'`;
}

/** A date as ClickHouse's `DateTime('UTC')` text: `YYYY-MM-DD hh:mm:ss` (whole seconds). */
export function toDateTimeText(iso: string | Date): string {
  const date = typeof iso === 'string' ? new Date(iso) : iso;
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

/** A whole number for SQL text, refusing anything that is not one. */
export function integer(value: number): string {
  if (!Number.isSafeInteger(value)) throw new RangeError(`not an integer: ${value}`);
  return String(value);
}

/** Names for tables derived from a stream name: letters, digits and underscores only. */
export function safeName(value: string): string {
  return value.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 60);
}

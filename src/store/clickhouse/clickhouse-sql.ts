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

/**
 * `(SELECT columns FROM table FINAL WHERE where)`: a FINAL read as a subquery, for a query that sorts, limits
 * or de-duplicates rows (`SELECT … FROM ${finalRead(…)} ORDER BY … LIMIT …`). On a Distributed table,
 * ClickHouse 18.16 merges the shards' streams for ORDER BY, LIMIT or DISTINCT before it drops the columns FINAL
 * added (version and sorting key); when the shard of the node asked comes first in the cluster, its stream still
 * has them, the other shard's does not, and the read fails ("Cannot find column version in source stream").
 * A level without those clauses drops them from every stream first. `where` stays beside FINAL, as it was on
 * the single level: 18.16 does not push an outer WHERE into a subquery, so a condition on the sorting key given
 * here keeps a point lookup narrow (and one on other columns needs `optimize_move_to_prewhere: 0`, as ever).
 */
export function finalRead(table: string, columns: string, where?: string): string {
  return `(SELECT ${columns} FROM ${table} FINAL${where ? ` WHERE ${where}` : ''})`;
}

import type { QueryColumn, QueryResult } from '../query-result.js';

/** The JSON output format's answer: column types in `meta`, rows in `data`. */
export interface ClickHouseJson {
  readonly meta: { name: string; type: string }[];
  readonly data: Record<string, unknown>[];
}

/**
 * Turns ClickHouse's JSON values into the plain values Refinery's API promises, the same as DuckDB's:
 * 64-bit integers as numbers while exact, `DateTime` as ISO 8601 UTC, JSON text left as text.
 */
/** A column value as text, NULL kept. */
export { textOrNull } from '../row-values.js';

export function toPlainRows(answer: ClickHouseJson, maxRows = Number.POSITIVE_INFINITY): QueryResult {
  const columns: QueryColumn[] = answer.meta.map((column) => ({ name: column.name, type: column.type }));
  const converters = answer.meta.map((column) => converterFor(column.type));
  const rows = answer.data.slice(0, maxRows).map((row) => {
    const plain: Record<string, unknown> = {};
    answer.meta.forEach((column, i) => {
      plain[column.name] = converters[i]!(row[column.name]);
    });
    return plain;
  });
  return { columns, rows, truncated: answer.data.length > maxRows };
}

/** How a value of a ClickHouse column type becomes the plain value the API promises. */
export function converterFor(type: string): (value: unknown) => unknown {
  const bare = type.replace(/^Nullable\((.*)\)$/, '$1').replace(/^LowCardinality\((.*)\)$/, '$1');
  if (/^DateTime/.test(bare)) return (value) => (typeof value === 'string' ? dateTimeToIso(value) : value);
  if (/^U?Int(64|128|256)$/.test(bare) || /^Decimal/.test(bare)) {
    return (value) => {
      if (typeof value !== 'string') return value;
      const number = Number(value);
      return /^Decimal/.test(bare) || Number.isSafeInteger(number) ? number : value;
    };
  }
  return (value) => value;
}

// `DateTime('UTC')` prints as `2026-03-02 10:00:00`.
function dateTimeToIso(text: string): string {
  const match = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)$/.exec(text);
  return match ? `${match[1]}T${match[2]}.000Z` : text;
}

import { DuckDBTypeId, type Json } from '@duckdb/node-api';

const NUMERIC_AS_TEXT = new Set<DuckDBTypeId>([
  DuckDBTypeId.BIGINT,
  DuckDBTypeId.UBIGINT,
  DuckDBTypeId.HUGEINT,
  DuckDBTypeId.UHUGEINT,
  DuckDBTypeId.DECIMAL,
]);

/**
 * Turns DuckDB's JSON-friendly value into the plain value Refinery's API promises:
 * integers and decimals as numbers while they fit exactly, timestamps as ISO 8601 in UTC.
 */
export function toPlainValue(value: Json, typeId: DuckDBTypeId): unknown {
  if (value === null) return null;
  if (NUMERIC_AS_TEXT.has(typeId) && typeof value === 'string') {
    const number = Number(value);
    if (typeId === DuckDBTypeId.DECIMAL) return number;
    return Number.isSafeInteger(number) ? number : value;
  }
  if (typeof value === 'string') {
    if (typeId === DuckDBTypeId.TIMESTAMP_TZ) return isoFromTimestampTz(value);
    if (
      typeId === DuckDBTypeId.TIMESTAMP ||
      typeId === DuckDBTypeId.TIMESTAMP_MS ||
      typeId === DuckDBTypeId.TIMESTAMP_S ||
      typeId === DuckDBTypeId.TIMESTAMP_NS
    ) {
      return isoFromTimestamp(value);
    }
  }
  return value;
}

// DuckDB prints `2024-01-01 10:00:00.123+00`; the API speaks `2024-01-01T10:00:00.123Z`.
function isoFromTimestampTz(text: string): string {
  const match = /^(\d{4,}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?)([+-]\d\d(?::?\d\d)?)?$/.exec(text);
  if (!match) return text;
  const offset = match[3] ?? '+00';
  const normalisedOffset = offset.length === 3 ? `${offset}:00` : offset;
  const date = new Date(`${match[1]}T${match[2]}${normalisedOffset}`);
  return Number.isNaN(date.getTime()) ? text : date.toISOString();
}

function isoFromTimestamp(text: string): string {
  const match = /^(\d{4,}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?)$/.exec(text);
  if (!match) return text;
  const date = new Date(`${match[1]}T${match[2]}Z`);
  return Number.isNaN(date.getTime()) ? text : date.toISOString();
}

/** A JSON column as read: DuckDB hands JSON values over as their text. */
export function parseJsonColumn(value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : value;
}

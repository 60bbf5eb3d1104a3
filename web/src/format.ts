/** Display formatting shared by the pages. */

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

export function formatCount(value: number): string {
  return integer.format(value);
}

export function formatRate(value: number): string {
  return value >= 100 ? integer.format(value) : decimal.format(value);
}

export function formatSeconds(seconds: number): string {
  if (seconds < 1) return `${decimal.format(seconds)} s`;
  if (seconds < 90) return `${decimal.format(seconds)} s`;
  if (seconds < 5400) return `${decimal.format(seconds / 60)} min`;
  return `${decimal.format(seconds / 3600)} h`;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? integer.format(value) : decimal.format(value)} ${units[unit]}`;
}

/**
 * Parses an ISO-ish timestamp to epoch ms. Accepts `2024-05-01T10:00:00Z` and SQL-style
 * `2024-05-01 10:00:00+00`. Returns NaN when it cannot be read.
 */
export function parseTime(value: string): number {
  const direct = Date.parse(value);
  if (!Number.isNaN(direct)) return direct;
  const normalized = value
    .trim()
    .replace(' ', 'T')
    .replace(/([+-]\d{2})$/, '$1:00');
  return Date.parse(normalized);
}

export function formatDateTime(value: string | null): string {
  if (!value) return '—';
  const ms = parseTime(value);
  if (Number.isNaN(ms)) return value;
  return new Date(ms).toLocaleString('en-US', {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
  });
}

export function formatClock(value: string): string {
  const ms = parseTime(value);
  if (Number.isNaN(ms)) return value;
  const date = new Date(ms);
  const time = date.toLocaleTimeString('en-US', {
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hour12: false,
  });
  return `${time}.${String(date.getMilliseconds()).padStart(3, '0')}`;
}

/** Renders a query-result or table cell value as text. */
export function formatCell(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean')
    return String(value);
  return JSON.stringify(value);
}

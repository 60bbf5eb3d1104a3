/**
 * The one CSV writer for every CSV file Refinery hands to people (access bundles, quarantine exports).
 *
 * Two jobs: RFC 4180 quoting, and keeping spreadsheets from running what a client sent. Excel, LibreOffice
 * and Google Sheets evaluate a cell that starts with `=`, `+`, `-` or `@` (and, in some versions, a leading
 * tab, carriage return, line feed or NUL) as a formula, so `=HYPERLINK(…)` sent as an event name becomes a
 * link or a DDE call in the hands of whoever opens the export. A text cell that starts that way is written
 * with a leading single quote, which spreadsheets read as "this is text" (OWASP's and ASVS 1.2.10's rule).
 *
 * A cell written from a finite number is not guarded: `-5` from a number is a number, and prefixing it
 * would turn every negative amount into text. The same characters from a string are guarded, because the
 * string could be anything. `readCsvCellText` undoes the guard, so a value round-trips.
 */

/** Characters that make a spreadsheet read a cell as a formula when they come first. */
const FORMULA_TRIGGER = '=+\\-@\\t\\r\\n\\0';
/** A text cell needing the guard: a trigger first, or after quotes (so a value that was `'=x` round-trips). */
const NEEDS_GUARD = new RegExp(`^'*[${FORMULA_TRIGGER}]`);
/** A written cell that carries the guard. */
const HAS_GUARD = new RegExp(`^'+[${FORMULA_TRIGGER}]`);
/**
 * Quoted when it holds a quote, a line break, the comma, or the semicolon and tab some spreadsheets split on
 * by locale (a split could start a new cell with a trigger in the middle of a value); and when it has outer
 * spaces, which some readers trim.
 */
const NEEDS_QUOTES = /[",;\t\r\n]|^ | $/;

export type CsvLineEnd = '\r\n' | '\n';

/**
 * One cell. Null and undefined are empty; finite numbers, bigints and booleans are written as they are;
 * dates as ISO 8601; objects and arrays as JSON; text is guarded against formulas, then quoted if needed.
 *
 * @example csvCell('=HYPERLINK("http://x")') === `"'=HYPERLINK(""http://x"")"`; csvCell(-5) === '-5'
 */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return csvTextCell(textOf(value));
}

/** A line of cells, ending with `lineEnd` (RFC 4180's CRLF unless a caller's readers expect LF). */
export function csvLine(values: readonly unknown[], lineEnd: CsvLineEnd = '\r\n'): string {
  return `${values.map(csvCell).join(',')}${lineEnd}`;
}

/**
 * A whole document: a header naming `columns` (by default every key any row has, in first-seen order) and a
 * line per row. Without columns (no rows, or only empty ones) the document is empty.
 */
export function csvDocument(
  rows: readonly Record<string, unknown>[],
  options: { columns?: readonly string[]; lineEnd?: CsvLineEnd } = {},
): string {
  const columns = options.columns ?? columnsOf(rows);
  const lineEnd = options.lineEnd ?? '\r\n';
  if (columns.length === 0) return '';
  let text = csvLine(columns, lineEnd);
  for (const row of rows)
    text += csvLine(
      columns.map((column) => row[column]),
      lineEnd,
    );
  return text;
}

/**
 * The text a cell of this writer stood for, once a CSV reader has unquoted it: the formula guard removed.
 * A reader that loads an export back (or a test) uses it; spreadsheets do the same by themselves.
 */
export function readCsvCellText(cell: string): string {
  return HAS_GUARD.test(cell) ? cell.slice(1) : cell;
}

function csvTextCell(text: string): string {
  const safe = NEEDS_GUARD.test(text) ? `'${text}` : text;
  return NEEDS_QUOTES.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function columnsOf(rows: readonly Record<string, unknown>[]): string[] {
  const seen = new Set<string>();
  for (const row of rows) for (const key of Object.keys(row)) seen.add(key);
  return [...seen];
}

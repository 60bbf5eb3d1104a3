import type { ChangeKind, ContractDiff } from './contract-diff.js';

/** Widest a value column gets before its text wraps onto more lines; paths never wrap. */
const VALUE_COLUMN_WIDTH = 32;

/**
 * Renders a diff for a terminal: the counts, a table of summary-level changes with their verdict, a table
 * of every changed node with old and new values, the reasons for each breaking change, and their number.
 */
export function renderContractDiff(diff: ContractDiff): string {
  const lines: string[] = [];
  lines.push('Summary');
  lines.push(
    `[ ${diff.counts.added} Added ]  [ ${diff.counts.updated} Updated ]  [ ${diff.counts.removed} Removed ]`,
  );
  if (diff.changes.length === 0) {
    lines.push('', 'The two contracts are the same.', '', '0 breaking changes');
    return `${lines.join('\n')}\n`;
  }
  lines.push(
    ...renderTable(
      ['Change', 'Field', 'Breaking?'],
      diff.changes.map((change) => [
        kindLabel(change.kind),
        change.path,
        change.severity === 'breaking' ? 'yes' : 'no',
      ]),
      [null, null, null],
    ),
  );
  lines.push('', 'Details');
  lines.push(
    ...renderTable(
      ['Change', 'Path', 'Old Value', 'New Value'],
      diff.details.map((detail) => [
        kindLabel(detail.kind),
        detail.path,
        'oldValue' in detail ? formatDiffValue(detail.oldValue) : '',
        'newValue' in detail ? formatDiffValue(detail.newValue) : '',
      ]),
      [null, null, VALUE_COLUMN_WIDTH, VALUE_COLUMN_WIDTH],
    ),
  );
  const breaking = diff.changes.filter((change) => change.severity === 'breaking');
  if (breaking.length > 0) {
    lines.push('', 'Breaking changes');
    for (const change of breaking) lines.push(`  ${kindLabel(change.kind)} ${change.path}: ${change.reason}`);
  }
  lines.push('', `${diff.breakingCount} breaking change${diff.breakingCount === 1 ? '' : 's'}`);
  return `${lines.join('\n')}\n`;
}

/** A value as a table cell: text as it is, other scalars as YAML writes them, lists and maps as JSON. */
export function formatDiffValue(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(value);
}

function kindLabel(kind: ChangeKind): string {
  return kind === 'added' ? 'Added' : kind === 'removed' ? 'Removed' : 'Updated';
}

/**
 * A table with box-drawing borders. A column with a width limit wraps its text at word boundaries onto
 * continuation lines whose other cells are blank.
 */
function renderTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  limits: readonly (number | null)[],
): string[] {
  const widths = headers.map((header, column) => {
    const longest = Math.max(header.length, ...rows.map((row) => longestLine(row[column] ?? '')));
    const limit = limits[column];
    return limit ? Math.min(limit, longest) : longest;
  });
  const border = (left: string, middle: string, right: string) =>
    `${left}${widths.map((width) => '─'.repeat(width + 2)).join(middle)}${right}`;
  const line = (cells: readonly string[]) =>
    `│${cells.map((cell, column) => ` ${cell.padEnd(widths[column]!)} `).join('│')}│`;

  const out = [border('╭', '┬', '╮'), line(headers), border('├', '┼', '┤')];
  for (const row of rows) {
    const wrapped = row.map((cell, column) => wrapText(cell, limits[column] ? widths[column]! : null));
    const height = Math.max(...wrapped.map((cellLines) => cellLines.length));
    for (let index = 0; index < height; index++) {
      out.push(line(wrapped.map((cellLines) => cellLines[index] ?? '')));
    }
  }
  out.push(border('╰', '┴', '╯'));
  return out;
}

function longestLine(text: string): number {
  return Math.max(0, ...text.split('\n').map((part) => part.length));
}

/** Splits text into lines of at most `width` characters, breaking between words where it can. */
function wrapText(text: string, width: number | null): string[] {
  if (width === null) return text.split('\n');
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let current = '';
    for (const word of paragraph.split(/\s+/).filter(Boolean)) {
      let rest = word;
      while (rest.length > width) {
        if (current) {
          lines.push(current);
          current = '';
        }
        lines.push(rest.slice(0, width));
        rest = rest.slice(width);
      }
      if (!current) current = rest;
      else if (current.length + 1 + rest.length <= width) current += ` ${rest}`;
      else {
        lines.push(current);
        current = rest;
      }
    }
    lines.push(current);
  }
  return lines;
}

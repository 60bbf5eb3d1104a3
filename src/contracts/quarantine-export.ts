import type { QuarantinedEventRow, QuarantineFilter, Store } from '../store/store.js';
import { quarantinedRows } from './quarantine-rows.js';

const CSV_COLUMNS = [
  'id',
  'received_at',
  'source',
  'type',
  'event',
  'contract',
  'status',
  'violations',
  'payload',
];

/**
 * The selected quarantined events, payload included, one line each: NDJSON objects that
 * `refinery quarantine replay --from-file FILE` reads back after they are corrected, or CSV for a spreadsheet.
 */
export async function* quarantineExportLines(
  store: Store,
  filter: QuarantineFilter,
  format: 'ndjson' | 'csv',
): AsyncGenerator<string> {
  if (format === 'csv') yield `${CSV_COLUMNS.join(',')}\n`;
  for await (const row of quarantinedRows(store, filter, true)) {
    yield format === 'csv' ? csvLine(row) : `${JSON.stringify(exportRecord(row))}\n`;
  }
}

function exportRecord(row: QuarantinedEventRow) {
  return {
    id: row.id,
    receivedAt: row.receivedAt,
    source: row.source,
    type: row.type,
    event: row.event,
    contract: row.contract,
    status: row.status,
    violations: row.violations,
    payload: row.payload,
  };
}

function csvLine(row: QuarantinedEventRow): string {
  const cells = [
    row.id,
    row.receivedAt,
    row.source,
    row.type,
    row.event,
    row.contract,
    row.status,
    JSON.stringify(row.violations),
    JSON.stringify(row.payload ?? null),
  ];
  return `${cells.map(csvCell).join(',')}\n`;
}

function csvCell(value: string | null): string {
  if (value === null) return '';
  // Client-sent text starting like a formula would run when the file is opened in a spreadsheet.
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\n\r]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

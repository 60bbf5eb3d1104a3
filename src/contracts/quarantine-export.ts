import { csvLine } from '../core/csv-writer.js';
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
  if (format === 'csv') yield csvLine(CSV_COLUMNS, '\n');
  for await (const row of quarantinedRows(store, filter, true)) {
    yield format === 'csv' ? csvRow(row) : `${JSON.stringify(exportRecord(row))}\n`;
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

/** One quarantined event as a CSV line; LF line ends, as the NDJSON export, for readers that split lines. */
function csvRow(row: QuarantinedEventRow): string {
  return csvLine(
    [
      row.id,
      row.receivedAt,
      row.source,
      row.type,
      row.event,
      row.contract,
      row.status,
      JSON.stringify(row.violations),
      JSON.stringify(row.payload ?? null),
    ],
    '\n',
  );
}

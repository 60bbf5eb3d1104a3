export const IMPORT_TARGETS = ['events', 'orders', 'customers', 'products'] as const;
export type ImportTarget = (typeof IMPORT_TARGETS)[number];

export const IMPORT_FORMATS = ['csv', 'tsv', 'ndjson', 'json', 'parquet'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

/**
 * A per-row check beyond the target's own (a dataset contract in enforce mode): given a valid row keyed by
 * field name, returns why it must be refused, or null. Refused rows go to the import rejects with their line.
 */
export type ImportRowCheck = (
  row: Readonly<Record<string, unknown>>,
) => { readonly field: string | null; readonly reason: string } | null;

export interface ImportSpec {
  readonly importId: string;
  readonly file: string;
  /** Name shown to people (the original file name when the file was uploaded to a temporary path). */
  readonly fileName: string;
  readonly format: ImportFormat;
  readonly target: ImportTarget;
  /** Target field → file column, from `--map col=field` plus automatic matches by name. */
  readonly mapping: Readonly<Record<string, string>>;
  readonly source: string;
  readonly startedAt: Date;
  readonly rowCheck?: ImportRowCheck;
}

export interface ImportRejectRow {
  /** 1-based line in the file (for CSV/TSV/NDJSON) or 1-based row number (Parquet/JSON arrays). */
  readonly line: number;
  readonly reason: string;
  readonly field: string | null;
  /** The offending row as read, cut to a bounded size. */
  readonly row: string;
}

export interface ImportReport {
  readonly importId: string;
  readonly target: ImportTarget;
  readonly file: string;
  readonly format: ImportFormat;
  /** Data rows in the file (malformed lines included; the header is not a row). rowsRead = imported + rejected + skipped. */
  readonly rowsRead: number;
  /** Rows written to the target (new or replacing an earlier import of the same key). */
  readonly imported: number;
  readonly rejected: number;
  /** Rows left out because the store already holds them (events whose message_id is already stored). */
  readonly skipped: number;
  /** Rows already in the target that this import replaced (same order, customer or product key). */
  readonly replaced: number;
  readonly mapping: Readonly<Record<string, string>>;
  /** File columns kept in the row's `extra` JSON because no field claimed them. */
  readonly unmappedColumns: readonly string[];
  /** The first rejects, for immediate display; all of them are in the import rejects table. */
  readonly sampleRejects: readonly ImportRejectRow[];
}

export interface ImportProgress {
  readonly phase: 'reading' | 'validating' | 'writing' | 'done';
  /** 0..1 */
  readonly fraction: number;
}

export interface ImportRepository {
  /** The column names of a file as the engine's reader sees them. */
  columnsOf(file: string, format: ImportFormat): Promise<string[]>;
  run(spec: ImportSpec, onProgress?: (progress: ImportProgress) => void): Promise<ImportReport>;
  rejects(importId: string, limit: number): Promise<ImportRejectRow[]>;
  history(limit: number): Promise<Record<string, unknown>[]>;
}

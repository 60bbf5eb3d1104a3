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

/**
 * What replaces a validated row's personal values before it is written: their sealed form (see
 * `src/imports/import-sealing.ts`). `values` holds the replaced fields by name (`extra` for the unmapped
 * columns; JSON fields as JSON text); `emailHash` is the workspace's keyed hash of the row's email, kept so an
 * erasure can find the row without the address; `refusal` refuses a row whose personal values cannot be sealed.
 */
export interface SealedImportRow {
  readonly values: Readonly<Record<string, string | null>>;
  readonly emailHash: string | null;
  readonly refusal?: { readonly field: string; readonly reason: string };
}

/** Seals the personal values of imported rows, so the store never holds them in clear. */
export interface ImportSealer {
  /** Target fields (and `extra`) that may hold personal values: read for sealing and replaced by it. */
  readonly columns: readonly string[];
  /** Target fields the sealer reads besides `columns` (the row's key, its email, …). */
  readonly reads: readonly string[];
  /** Target fields whose values are personal: a reject's reason never quotes them. */
  readonly personalFields: readonly string[];
  /**
   * File columns whose values are personal: a reject's excerpt shows them as `[redacted]`. A line that does not
   * parse keeps no excerpt at all (its line number points into the file).
   */
  readonly personalColumns: readonly string[];
  /**
   * Seals a page of rows, each with the fields of `columns` and `reads` by name (JSON fields as JSON text) and
   * `extra` (JSON text or null); answers one result per row, in order.
   */
  seal(rows: readonly Readonly<Record<string, unknown>>[]): Promise<readonly SealedImportRow[]>;
}

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
  /** Seals personal values before they are stored; without it (a store used on its own) they are kept as read. */
  readonly sealer?: ImportSealer;
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

/** How many customer records `customersOf` answers with at most (one person rarely has more than a few). */
export const MAX_CUSTOMER_RECORDS = 100;

export interface ImportRepository {
  /** The column names of a file as the engine's reader sees them. */
  columnsOf(file: string, format: ImportFormat): Promise<string[]>;
  run(spec: ImportSpec, onProgress?: (progress: ImportProgress) => void): Promise<ImportReport>;
  rejects(importId: string, limit: number): Promise<ImportRejectRow[]>;
  /**
   * The imported customer records of these customer ids (a person's user ids), as the `customers` relation
   * shows them: personal values sealed. At most `MAX_CUSTOMER_RECORDS`, by customer id.
   */
  customersOf(customerIds: readonly string[]): Promise<Record<string, unknown>[]>;
  /**
   * The customer ids of imported customers and order lines whose email has one of these keyed hashes (the
   * identity graph's form, kept in `email_hash` since the email itself is sealed): whose keys an erasure of
   * those emails must shred, and whose rows it must delete.
   */
  customerIdsOfEmails(emailHashes: readonly string[]): Promise<string[]>;
  history(limit: number): Promise<Record<string, unknown>[]>;
}

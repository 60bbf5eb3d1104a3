import { RefineryError } from '../../core/errors.js';

/**
 * DuckDB's Node client reports failures as plain Errors whose message begins with DuckDB's error type
 * ("Catalog Error:", "IO Error:", …); that prefix is the only classification the client exposes, so this is
 * the single place that reads it.
 */
export function duckDbErrorType(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const match = /^([A-Za-z ]+) Error:/.exec(error.message);
  return match?.[1];
}

export function isLockConflict(error: unknown): boolean {
  return (
    duckDbErrorType(error) === 'IO' &&
    error instanceof Error &&
    /Could not set lock|Conflicting lock/.test(error.message)
  );
}

export function toStoreError(error: unknown, sql?: string): RefineryError {
  if (error instanceof RefineryError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new RefineryError(
    'REFINERY_ERR_STORE',
    `DuckDB: ${message.split('\n')[0]}`,
    sql ? { sql: sql.slice(0, 200) } : {},
    { cause: error },
  );
}

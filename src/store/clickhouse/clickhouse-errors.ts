import { RefineryError } from '../../core/errors.js';

/**
 * ClickHouse 18.16 answers errors as text starting `Code: N, e.displayText() = …` and sends no exception
 * header, so the client cannot classify them; this is the one place that reads the code from the text.
 */
export function clickHouseErrorCode(error: unknown): number | undefined {
  if (!(error instanceof Error)) return undefined;
  const match = /Code: (\d+)/.exec(error.message);
  return match ? Number(match[1]) : undefined;
}

export const CLICKHOUSE_CODES = {
  TIMEOUT_EXCEEDED: 159,
  READONLY: 164,
  UNKNOWN_TABLE: 60,
  UNKNOWN_DATABASE: 81,
  SYNTAX_ERROR: 62,
  TOO_MANY_ROWS: 396,
} as const;

export function toStoreError(error: unknown, what?: string): RefineryError {
  if (error instanceof RefineryError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new RefineryError(
    'REFINERY_ERR_STORE',
    `ClickHouse: ${message.split('\n')[0]?.slice(0, 300)}`,
    what ? { sql: what.slice(0, 200) } : {},
    { cause: error },
  );
}

import { JsonDuckDBValueConverter } from '@duckdb/node-api';
import { RefineryError } from '../../core/errors.js';
import type { QueryResult } from '../query-result.js';
import type { ReadQueryOptions } from '../store.js';
import { duckDbErrorType } from './duckdb-errors.js';
import type { DuckDbSession } from './duckdb-session.js';
import { toPlainValue } from './duckdb-values.js';

/** Streams a vetted SELECT, stopping after `maxRows` and interrupting it after `timeoutMs`. */
export function runReadOnly(
  session: DuckDbSession,
  sql: string,
  options: ReadQueryOptions,
): Promise<QueryResult> {
  return session.exclusive(async (connection) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      connection.interrupt();
    }, options.timeoutMs);
    try {
      const result = await connection.stream(sql);
      const names = result.columnNames();
      const types = result.columnTypes();
      const typeIds = types.map((t) => t.typeId);
      const rows: Record<string, unknown>[] = [];
      let truncated = false;
      while (true) {
        const chunk = await result.fetchChunk();
        if (!chunk || chunk.rowCount === 0) break;
        for (const values of chunk.convertRows(JsonDuckDBValueConverter)) {
          if (rows.length >= options.maxRows) {
            truncated = true;
            break;
          }
          const row: Record<string, unknown> = {};
          for (let i = 0; i < names.length; i++)
            row[names[i]!] = toPlainValue(values[i] ?? null, typeIds[i]!);
          rows.push(row);
        }
        if (truncated) break;
      }
      return { columns: names.map((name, i) => ({ name, type: String(types[i]) })), rows, truncated };
    } catch (error) {
      if (timedOut || duckDbErrorType(error) === 'INTERRUPT') {
        throw new RefineryError(
          'REFINERY_ERR_QUERY_TIMEOUT',
          `The query ran longer than ${options.timeoutMs} ms and was stopped.`,
          { limit: options.timeoutMs },
        );
      }
      const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
      throw new RefineryError(
        'REFINERY_ERR_QUERY_FAILED',
        message ?? 'query failed',
        { field: 'sql' },
        { cause: error },
      );
    } finally {
      clearTimeout(timer);
    }
  });
}

import { type DuckDBConnection, JsonDuckDBValueConverter, StatementType } from '@duckdb/node-api';
import { RefineryError } from '../../core/errors.js';
import type { MemoryWatchdog } from '../memory-watchdog.js';
import { CappedRows, DEFAULT_QUERY_MEMORY_BYTES, type QueryResult } from '../query-result.js';
import type { ResourcePool } from '../resource-pool.js';
import type { ReadQueryOptions } from '../store.js';
import { duckDbErrorType } from './duckdb-errors.js';
import { toPlainValue } from './duckdb-values.js';

type StopReason = 'timeout' | 'memory';

/**
 * Runs a SELECT the sandbox accepted on one of the pool's connections, streaming its answer under the row and
 * byte caps. It is interrupted when it runs past `timeoutMs` or grows the process past its memory cap.
 */
export function runReadOnly(
  pool: ResourcePool<DuckDBConnection>,
  watchdog: MemoryWatchdog,
  sql: string,
  options: ReadQueryOptions,
): Promise<Omit<QueryResult, 'relations'>> {
  return pool.use(options.timeoutMs, async (connection) => {
    let stopped: StopReason | undefined;
    const stop = (reason: StopReason) => {
      if (stopped) return;
      stopped = reason;
      connection.interrupt();
    };
    const timer = setTimeout(() => stop('timeout'), options.timeoutMs);
    const unwatch = watchdog.watch(options.maxMemoryBytes ?? DEFAULT_QUERY_MEMORY_BYTES, () =>
      stop('memory'),
    );
    try {
      const answer = await streamCapped(connection, sql, options);
      // An interrupted stream can end as if it were complete; only `stopped` tells the two apart.
      if (stopped) throw stoppedError(stopped, options);
      return answer;
    } catch (error) {
      throw queryError(error, stopped, options);
    } finally {
      clearTimeout(timer);
      unwatch();
      // A cut answer leaves the rest of the query pending on the connection; end it now rather than at the
      // connection's next query.
      connection.interrupt();
    }
  });
}

async function streamCapped(
  connection: DuckDBConnection,
  sql: string,
  options: ReadQueryOptions,
): Promise<Omit<QueryResult, 'relations'>> {
  const prepared = await connection.prepare(sql);
  if (prepared.statementType !== StatementType.SELECT) {
    throw new RefineryError('REFINERY_ERR_QUERY_NOT_READ_ONLY', 'Only a read-only SELECT is allowed.', {
      field: 'sql',
    });
  }
  const result = await prepared.stream();
  const names = result.columnNames();
  const types = result.columnTypes();
  const typeIds = types.map((t) => t.typeId);
  const capped = new CappedRows(options.maxRows, options.maxBytes);
  fetching: while (true) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    for (const values of chunk.convertRows(JsonDuckDBValueConverter)) {
      const row: Record<string, unknown> = {};
      for (let i = 0; i < names.length; i++) row[names[i]!] = toPlainValue(values[i] ?? null, typeIds[i]!);
      if (!capped.add(row)) break fetching;
    }
  }
  return {
    columns: names.map((name, i) => ({ name, type: String(types[i]) })),
    rows: capped.rows,
    truncated: capped.truncated,
  };
}

function queryError(
  error: unknown,
  stopped: StopReason | undefined,
  options: ReadQueryOptions,
): RefineryError {
  if (error instanceof RefineryError) return error;
  if (stopped) return stoppedError(stopped, options);
  const type = duckDbErrorType(error);
  if (type === 'Out of Memory') return stoppedError('memory', options);
  const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
  return new RefineryError(
    'REFINERY_ERR_QUERY_FAILED',
    message ?? 'query failed',
    { field: 'sql' },
    { cause: error },
  );
}

function stoppedError(reason: StopReason, options: ReadQueryOptions): RefineryError {
  if (reason === 'timeout') {
    return new RefineryError(
      'REFINERY_ERR_QUERY_TIMEOUT',
      `The query ran longer than ${options.timeoutMs} ms and was stopped.`,
      { limit: options.timeoutMs },
    );
  }
  const cap = options.maxMemoryBytes ?? DEFAULT_QUERY_MEMORY_BYTES;
  return new RefineryError(
    'REFINERY_ERR_QUERY_TOO_LARGE',
    `The query needed more memory than a query may take (${Math.round(cap / 1048576)} MiB) and was stopped. Aggregate, filter or limit it.`,
    { field: 'sql', limit: cap },
  );
}

import { randomUUID } from 'node:crypto';
import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';
import { RefineryError } from '../../core/errors.js';
import { CappedRows, type QueryResult } from '../query-result.js';
import type { ReadQueryOptions } from '../store.js';
import { CLICKHOUSE_CODES, clickHouseErrorCode } from './clickhouse-errors.js';
import { converterFor } from './clickhouse-values.js';

/** Who runs user SQL, and with which per-query settings (none for a query user: its profile holds them). */
export interface ClickHouseQueryRunner {
  readonly client: ClickHouseClient;
  readonly settings: (options: ReadQueryOptions) => ClickHouseSettings;
  /** The store's own connection, which may stop a query (`KILL QUERY`) that runs past its time. */
  readonly killer: ClickHouseClient;
}

const MEMORY_LIMIT_EXCEEDED = 241;
const ACCESS_DENIED = 291;

/**
 * Runs a vetted SELECT and streams its answer (JSONCompact, one row per line) under the row and byte caps,
 * so a large answer is never held whole; past its time the request is dropped and the query killed.
 */
export async function runClickHouseReadOnly(
  runner: ClickHouseQueryRunner,
  sql: string,
  options: ReadQueryOptions,
): Promise<Omit<QueryResult, 'relations'>> {
  const queryId = randomUUID();
  const abort = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    abort.abort();
    runner.killer.command({ query: `KILL QUERY WHERE query_id = '${queryId}' ASYNC` }).catch(() => undefined);
  }, options.timeoutMs);
  try {
    const { stream } = await runner.client.exec({
      // The statement passed the parse-tree check, so it has no FORMAT or SETTINGS clause of its own.
      query: `${sql.replace(/[\s;]+$/, '')}\nFORMAT JSONCompact`,
      query_id: queryId,
      abort_signal: abort.signal,
      clickhouse_settings: runner.settings(options),
    });
    const answer = await readCapped(stream, options);
    if (answer.truncated) abort.abort();
    return answer;
  } catch (error) {
    throw queryError(error, timedOut, options);
  } finally {
    clearTimeout(timer);
  }
}

/** Reads ClickHouse's JSONCompact layout line by line: the meta block, then one `[…],` line per row. */
async function readCapped(
  stream: AsyncIterable<Buffer | string>,
  options: ReadQueryOptions,
): Promise<Omit<QueryResult, 'relations'>> {
  const capped = new CappedRows(options.maxRows, options.maxBytes);
  let head = '';
  let meta: { name: string; type: string }[] | undefined;
  let converters: ((value: unknown) => unknown)[] = [];
  let pending = '';
  for await (const chunk of stream) {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      failOnException(line);
      if (!meta) {
        if (line === '\t"data":') {
          meta = (JSON.parse(`${head}"data": []}`) as { meta: { name: string; type: string }[] }).meta;
          converters = meta.map((column) => converterFor(column.type));
        } else head += `${line}\n`;
        continue;
      }
      if (!line.startsWith('\t\t[')) continue;
      const values = JSON.parse(line.trim().replace(/,$/, '')) as unknown[];
      const row: Record<string, unknown> = {};
      meta.forEach((column, i) => {
        row[column.name] = converters[i]!(values[i]);
      });
      if (!capped.add(row)) return answerOf(meta, capped);
    }
  }
  failOnException(pending);
  if (!meta) throw new RefineryError('REFINERY_ERR_STORE', 'ClickHouse answered without a result.', {});
  return answerOf(meta, capped);
}

function answerOf(
  meta: { name: string; type: string }[],
  capped: CappedRows,
): Omit<QueryResult, 'relations'> {
  return {
    columns: meta.map((column) => ({ name: column.name, type: column.type })),
    rows: capped.rows,
    truncated: capped.truncated,
  };
}

/** An error after the answer began arrives as ClickHouse's exception text (`Code: N, …`) in the body. */
function failOnException(line: string): void {
  if (/^Code: \d+, /.test(line)) throw new Error(line);
}

function queryError(error: unknown, timedOut: boolean, options: ReadQueryOptions): RefineryError {
  if (error instanceof RefineryError) return error;
  const code = clickHouseErrorCode(error);
  if (timedOut || code === CLICKHOUSE_CODES.TIMEOUT_EXCEEDED) {
    return new RefineryError(
      'REFINERY_ERR_QUERY_TIMEOUT',
      `The query ran longer than ${options.timeoutMs} ms and was stopped.`,
      { limit: options.timeoutMs },
    );
  }
  const message = error instanceof Error ? (error.message.split('\n')[0] ?? error.message) : String(error);
  if (code === MEMORY_LIMIT_EXCEEDED) {
    return new RefineryError(
      'REFINERY_ERR_QUERY_TOO_LARGE',
      `The query needed more memory than a query may take and was stopped: ${message.slice(0, 300)}`,
      { field: 'sql', ...(options.maxMemoryBytes ? { limit: options.maxMemoryBytes } : {}) },
      { cause: error },
    );
  }
  if (code === ACCESS_DENIED || code === CLICKHOUSE_CODES.READONLY) {
    return new RefineryError(
      'REFINERY_ERR_QUERY_FORBIDDEN_FUNCTION',
      `The query user may not do that: ${message.slice(0, 300)}`,
      { field: 'sql' },
      { cause: error },
    );
  }
  return new RefineryError(
    'REFINERY_ERR_QUERY_FAILED',
    message.slice(0, 500),
    { field: 'sql' },
    { cause: error },
  );
}

import type { ClickHouseClient } from '@clickhouse/client';
import { RefineryError } from '../../core/errors.js';
import { quote } from './clickhouse-sql.js';

/**
 * Waits until a node has no unfinished mutation (`ALTER … DELETE`) on a table. Mutations run in the
 * background; expiry and erasure report only once the rows are really gone from the node's parts.
 */
export async function waitForMutations(
  node: ClickHouseClient,
  database: string,
  table: string,
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const result = await node.query({
      query: `SELECT count() AS n FROM system.mutations
              WHERE database = ${quote(database)} AND table = ${quote(table)} AND is_done = 0`,
      format: 'JSON',
    });
    const answer = (await result.json()) as unknown as { data: { n: string }[] };
    if (Number(answer.data[0]?.n ?? 0) === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new RefineryError(
    'REFINERY_ERR_STORE',
    `ClickHouse did not finish changing ${table} within ${Math.round(timeoutMs / 1000)} seconds.`,
  );
}

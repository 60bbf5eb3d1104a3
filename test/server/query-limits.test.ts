import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/access/api-keys.js';
import { hasClickHouse } from '../helpers/clickhouse-server.js';
import { startTestWorkspace, type TestWorkspace } from '../helpers/test-workspace.js';

const engines = hasClickHouse ? (['duckdb', 'clickhouse'] as const) : (['duckdb'] as const);
if (!hasClickHouse) console.warn('query limits: clickhouse-server is not installed, running on DuckDB only');

const MIB = 1024 * 1024;
const YAML = `limits:
  queryTimeoutMs: 4000
  queryMaxBytes: 100000
  queryMaxMemory: 256MB`;

describe.each(engines)('the query API on %s keeps one query from taking the server', (engine) => {
  let workspace: TestWorkspace;
  let privacyKey: { key: string; id: string };

  beforeAll(async () => {
    workspace = await startTestWorkspace({ engine, yamlExtra: YAML });
    const created = await createApiKey(workspace.server.store, { kind: 'privacy', name: 'dpo' });
    privacyKey = { key: created.key, id: created.row.id };
  });

  afterAll(async () => {
    await workspace?.close();
  });

  const query = (sql: string, key = workspace.adminKey) =>
    workspace.server.app.inject({
      method: 'POST',
      url: '/v1/query',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      payload: { sql },
    });

  it('stops statements that would build huge values with a 413, and the server stays near its size', async () => {
    const statements =
      engine === 'duckdb'
        ? [
            'SELECT len(generate_series(1, 200000000)) AS n',
            "SELECT len(replace(repeat('x', 100000), 'x', repeat('y', 100000))) AS n",
            'SELECT len(list(range)) AS n FROM range(300000000)',
            'SELECT sum(len(repeat(range::VARCHAR, 2000000000))) AS n FROM range(10)',
          ]
        : // As the test server's query user, whose profile allows 1 GiB.
          [
            'SELECT length(arrayConcat(range(100000000), range(100000000))) AS n',
            "SELECT length(arrayStringConcat(arrayMap(x -> 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', range(100000000)))) AS n",
          ];
    for (const sql of statements) {
      const before = process.memoryUsage.rss();
      let peak = before;
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage.rss());
      }, 5);
      const response = await query(sql);
      clearInterval(sampler);
      peak = Math.max(peak, process.memoryUsage.rss());
      expect(response.statusCode, `${sql}: ${response.body}`).toBe(413);
      expect(response.json().code, sql).toBe('REFINERY_ERR_QUERY_TOO_LARGE');
      // Cap 256 MB, plus DuckDB's own buffer limit (512 MB) and allocator slack: generous, but far below the
      // gigabytes these statements take unchecked.
      expect((peak - before) / MIB, sql).toBeLessThan(1200);
    }
    expect((await query('SELECT 1 AS one')).json().rows).toEqual([{ one: 1 }]);
  });

  it('cuts an answer at limits.queryMaxBytes and says so', async () => {
    const sql =
      engine === 'duckdb'
        ? "SELECT range AS i, repeat('x', 1000) AS s FROM range(10000)"
        : "SELECT arrayJoin(range(10000)) AS i, arrayStringConcat(arrayMap(x -> 'x', range(1000))) AS s";
    const response = await query(sql);
    expect(response.statusCode).toBe(200);
    const answer = response.json();
    expect(answer.truncated).toBe(true);
    expect(answer.rows.length).toBeGreaterThan(10);
    expect(answer.rows.length).toBeLessThan(100);
    expect(response.body.length).toBeLessThan(200_000);
  });

  it('answers other queries and the store while one query runs long, then stops that one at its time limit', async () => {
    const slowSql =
      engine === 'duckdb'
        ? 'SELECT sum(range % 7) AS n FROM range(100000000000000)'
        : // ClickHouse sleeps at most 3 s per call, and computes equal expressions once.
          'SELECT sleep(3) + sleep(2.99) + sleep(2.98) AS n';
    let slowSettled = false;
    const slow = query(slowSql).then((response) => {
      slowSettled = true;
      return response;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const fast = await query('SELECT 1 AS one');
    const stats = await workspace.server.app.inject({
      method: 'GET',
      url: '/v1/stats',
      headers: { authorization: `Bearer ${workspace.adminKey}` },
    });
    expect(slowSettled).toBe(false);
    expect(fast.json().rows).toEqual([{ one: 1 }]);
    expect(stats.statusCode).toBe(200);
    const stopped = await slow;
    expect(stopped.statusCode).toBe(408);
    expect(stopped.json().code).toBe('REFINERY_ERR_QUERY_TIMEOUT');
  });

  it('records every statement of a key that sees personal data in the audit log, with the key and a hash of the SQL but never its text', async () => {
    const sql = "SELECT count(*) AS n FROM customers WHERE email = 'anna@example.com'";
    const refusedSql = "SELECT * FROM api_keys WHERE id = 'anna@example.com'";
    expect((await query(sql, privacyKey.key)).statusCode).toBe(200);
    expect((await query(refusedSql, privacyKey.key)).statusCode).toBe(400);
    const log = await workspace.server.app.inject({
      method: 'GET',
      url: '/v1/audit?action=query.run',
      headers: { authorization: `Bearer ${workspace.adminKey}` },
    });
    expect(log.statusCode).toBe(200);
    expect(log.body).not.toContain('anna@example.com');
    const entries = (
      log.json().entries as { actor: unknown; target: unknown; detail: Record<string, unknown> }[]
    )
      .filter((entry) => (entry.actor as { keyId?: string }).keyId === privacyKey.id)
      .reverse();
    const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
    expect(entries).toEqual([
      {
        ...entries[0],
        actor: { keyId: privacyKey.id, keyName: 'dpo', kind: 'privacy' },
        target: null,
        detail: {
          sqlSha256: sha256(sql),
          sqlLength: sql.length,
          relations: ['customers'],
          rows: 1,
          truncated: false,
        },
      },
      {
        ...entries[1],
        actor: { keyId: privacyKey.id, keyName: 'dpo', kind: 'privacy' },
        target: null,
        detail: {
          sqlSha256: sha256(refusedSql),
          sqlLength: refusedSql.length,
          refused: 'REFINERY_ERR_QUERY_FORBIDDEN_FUNCTION',
        },
      },
    ]);
  });
});

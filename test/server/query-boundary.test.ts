import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/access/api-keys.js';
import { hasClickHouse } from '../helpers/clickhouse-server.js';
import { basicAuth, startTestWorkspace, type TestWorkspace } from '../helpers/test-workspace.js';

const engines = hasClickHouse ? (['duckdb', 'clickhouse'] as const) : (['duckdb'] as const);
if (!hasClickHouse)
  console.warn('query boundary: clickhouse-server is not installed, running on DuckDB only');

/**
 * Statements that read what no query key may read: internal tables, the catalogue, files under data/ (server.json
 * holds the local admin token). Each was answered with data before the query API ran in a sandbox catalogue.
 */
function exploits(dir: string): string[] {
  const serverFile = join(dir, 'data', 'server.json');
  const hide = (name: string) => `SELECT * FROM ${name} WHERE EXISTS (WITH ${name} AS (SELECT 1) SELECT 1)`;
  return [
    hide('api_keys'),
    hide('metadata'),
    hide('identity_links'),
    hide('event_log'),
    hide('pragma_database_list'),
    `SELECT * FROM "${serverFile}" WHERE EXISTS (WITH "${serverFile}" AS (SELECT 1) SELECT 1)`,
    `SELECT * FROM '${serverFile}'`,
    `SELECT * FROM read_text('${serverFile}')`,
    `SELECT * FROM read_csv('${serverFile}', header = false, columns = {'line': 'VARCHAR'})`,
    `SELECT * FROM read_json_objects('${serverFile}')`,
    `SELECT * FROM glob('${join(dir, 'data')}/*')`,
    'SHOW ALL TABLES',
    'SHOW TABLES',
    'DESCRIBE api_keys',
    'SUMMARIZE api_keys',
    'SELECT * FROM information_schema.tables',
    'SELECT * FROM information_schema.columns',
    'SELECT * FROM duckdb_tables()',
    'SELECT * FROM duckdb_columns()',
    'SELECT * FROM system.tables',
    "SELECT * FROM pragma_table_info('api_keys')",
    "SELECT * FROM query('SELECT * FROM api_keys')",
    "SELECT * FROM query_table('api_keys')",
    'SELECT * FROM main.api_keys',
    'SELECT * FROM temp.main.api_keys',
    'SELECT * FROM (SELECT * FROM api_keys) AS events',
    "SELECT current_setting('allowed_directories') AS dirs",
    // ClickHouse reads `IN name` as membership in the table `name`.
    "SELECT 1 AS hit WHERE ('k', 'h') IN api_keys",
    "SELECT 1 AS hit WHERE 'k' NOT IN api_keys",
    "SELECT 1 AS hit WHERE 'k' IN (api_keys)",
    'SELECT 1 AS hit WHERE 0 IN (system.one)',
    'SELECT * FROM system.processes',
    'SELECT * FROM numbers(10)',
    "SELECT * FROM file('server.json', 'TSV', 'line String')",
  ];
}

describe.each(engines)('the query API on %s', (engine) => {
  let workspace: TestWorkspace;
  let privacyKey: string;
  let keyHash: string;

  beforeAll(async () => {
    workspace = await startTestWorkspace({ engine });
    privacyKey = (await createApiKey(workspace.server.store, { kind: 'privacy', name: 'dpo' })).key;
    keyHash = (await workspace.server.store.keys.list())[0]!.hash;
    const sent = await workspace.server.app.inject({
      method: 'POST',
      url: '/v1/track',
      headers: { authorization: basicAuth(workspace.writeKey), 'content-type': 'application/json' },
      payload: { userId: 'u1', event: 'Signed Up', messageId: 'm-1' },
    });
    expect(sent.statusCode, sent.body).toBe(200);
    await workspace.drain();
  });

  afterAll(async () => {
    await workspace?.close();
  });

  const query = (sql: string, key: string, purpose?: string) =>
    workspace.server.app.inject({
      method: 'POST',
      url: '/v1/query',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      payload: purpose ? { sql, purpose } : { sql },
    });

  it('refuses every relation, catalogue view and file outside the public catalogue, however the SQL hides it', async () => {
    const token = JSON.parse(readFileSync(join(workspace.dir, 'data', 'server.json'), 'utf8')).token;
    for (const sql of exploits(workspace.dir)) {
      for (const key of [workspace.adminKey, privacyKey]) {
        const response = await query(sql, key);
        expect(response.statusCode, sql).toBe(400);
        expect(response.json().code, sql).toMatch(
          /^REFINERY_ERR_QUERY_(FORBIDDEN_FUNCTION|NOT_READ_ONLY|FAILED)$/,
        );
        expect(response.body, sql).not.toContain(keyHash);
        expect(response.body, sql).not.toContain(token);
      }
    }
  });

  it('names the relation it refuses and lists the ones that may be queried', async () => {
    // ClickHouse 18.16 has no table expressions, so there the statement is refused before names are looked at.
    const sql =
      engine === 'duckdb'
        ? 'SELECT * FROM api_keys WHERE EXISTS (WITH api_keys AS (SELECT 1) SELECT 1)'
        : 'SELECT k.hash FROM events e JOIN api_keys k ON k.id = e.message_id';
    const response = await query(sql, workspace.adminKey);
    expect(response.json()).toMatchObject({
      code: 'REFINERY_ERR_QUERY_FORBIDDEN_FUNCTION',
      field: 'sql',
      relation: 'api_keys',
    });
    expect(response.json().message).toContain('events');
  });

  it('keeps a purpose-scoped query to that purpose, even behind a table expression of the same name', async () => {
    for (const sql of [
      'SELECT * FROM events WHERE EXISTS (WITH events AS (SELECT 1) SELECT 1)',
      'SELECT * FROM events_for_analytics, events WHERE EXISTS (WITH events AS (SELECT 1) SELECT 1)',
      'SELECT * FROM consents',
    ]) {
      const response = await query(sql, workspace.adminKey, 'analytics');
      expect(response.statusCode, sql).toBe(400);
      expect(response.json().code, sql).toMatch(/^REFINERY_ERR_QUERY_(FORBIDDEN_FUNCTION|FAILED)$/);
      expect(response.body, sql).not.toContain('m-1');
    }
    const allowed = await query(
      'SELECT count(*) AS n FROM events_for_analytics',
      workspace.adminKey,
      'analytics',
    );
    expect(allowed.statusCode).toBe(200);
  });

  it.runIf(engine === 'duckdb')(
    'resolves a name the same way in the sandbox and in the store, however it is qualified',
    async () => {
      const rowsOf = async (sql: string) => {
        const response = await query(sql, workspace.adminKey);
        return { status: response.statusCode, body: response.json() };
      };
      const plain = await rowsOf('SELECT message_id FROM events');
      for (const sql of ['SELECT message_id FROM main.events', 'SELECT message_id FROM "EVENTS"']) {
        expect(await rowsOf(sql), sql).toEqual(plain);
      }
      // The sandbox's catalogue is called memory, the store's refinery: a name qualified with either exists in
      // only one of them, so it is refused in one place or the other and never reaches another relation.
      for (const sql of [
        'SELECT * FROM memory.main.events',
        'SELECT * FROM refinery.main.events',
        'SELECT * FROM refinery.main.api_keys',
        'SELECT * FROM temp.main.events',
        'SELECT * FROM system.main.events',
        'SELECT * FROM pg_catalog.pg_tables',
        "SET search_path = 'temp'",
      ]) {
        const refused = await rowsOf(sql);
        expect(refused.status, sql).toBe(400);
        expect(JSON.stringify(refused.body), sql).not.toContain('m-1');
      }
    },
  );

  it('still loads what the store reads itself: uploaded imports and the write-ahead log', async () => {
    const imported = await workspace.server.app.inject({
      method: 'POST',
      url: '/v1/imports?as=customers&fileName=customers.csv',
      headers: { authorization: `Bearer ${workspace.adminKey}`, 'content-type': 'application/octet-stream' },
      payload: 'customer_id,plan\nc-1,basic\n',
    });
    expect(imported.statusCode, imported.body).toBe(200);
    const counted = await query('SELECT count(*) AS n FROM customers', workspace.adminKey);
    expect(counted.json().rows).toEqual([{ n: 1 }]);
  });

  it("still answers what the public catalogue allows: joins, subqueries, generators and the engine's functions", async () => {
    const statements = [
      'SELECT message_id, event FROM events',
      'SELECT e.message_id FROM events e JOIN persons p ON p.person_id = e.person_id',
      'SELECT count(*) AS n FROM events WHERE message_id IN (SELECT message_id FROM events)',
      'SELECT 1 AS one',
      ...(engine === 'duckdb'
        ? ['WITH e AS (SELECT message_id FROM events) SELECT * FROM e', 'SELECT count(*) AS n FROM range(10)']
        : [
            'SELECT arrayJoin([1, 2]) AS x',
            'SELECT toStartOfDay(timestamp) AS day, count() AS n FROM events GROUP BY day',
          ]),
    ];
    for (const sql of statements) {
      const response = await query(sql, workspace.adminKey);
      expect(response.statusCode, `${sql}: ${response.body}`).toBe(200);
    }
    expect((await query('SELECT message_id FROM events', workspace.adminKey)).json().rows).toEqual([
      { message_id: 'm-1' },
    ]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_GENERATED_VALUE } from './duckdb-bound-plan.js';
import { DuckDbSandbox } from './duckdb-sandbox.js';

const COLUMNS = [
  { relation: 'events', column: 'message_id', type: 'VARCHAR' },
  { relation: 'events', column: 'properties', type: 'JSON' },
  { relation: 'events', column: 'timestamp', type: 'TIMESTAMP WITH TIME ZONE' },
  { relation: 'customers', column: 'email', type: 'VARCHAR' },
  { relation: 'events_for_analytics', column: 'message_id', type: 'VARCHAR' },
];
const ALL = new Set(['events', 'customers', 'events_for_analytics']);
const LIMITS = { capBytes: 256 * 1024 * 1024, timeoutMs: 20_000 };

// The binder alone, without the parse-tree check in front of it: this is the boundary.
describe('the sandbox catalogue', () => {
  let sandbox: DuckDbSandbox;

  beforeAll(async () => {
    sandbox = new DuckDbSandbox();
    sandbox.mirror(COLUMNS);
  });

  afterAll(() => sandbox?.close());

  it.each([
    ['SELECT * FROM api_keys WHERE EXISTS (WITH api_keys AS (SELECT 1) SELECT 1)', { relation: 'api_keys' }],
    ['SELECT * FROM main.api_keys', { relation: 'api_keys' }],
    ['SELECT * FROM temp.main.events', { relation: 'events' }],
    ['SELECT * FROM system.main.events', { relation: 'events' }],
    ['SELECT * FROM pragma_database_list', { function: 'duckdb_databases' }],
    ['SHOW ALL TABLES', {}],
    ['SELECT * FROM information_schema.tables', {}],
    ['SELECT * FROM duckdb_settings()', { function: 'duckdb_settings' }],
    ["SELECT * FROM read_text('/etc/hostname')", {}],
    ["SELECT * FROM '/etc/hostname'", {}],
    ["SELECT * FROM query('SELECT * FROM api_keys')", { relation: 'api_keys' }],
    ["SELECT current_setting('memory_limit')", { function: 'current_setting' }],
    ['SELECT * FROM repeat(1, 10)', { function: 'repeat' }],
  ])('refuses %s', async (sql, detail) => {
    await expect(sandbox.bind(sql, ALL, LIMITS)).rejects.toMatchObject({
      code: 'REFINERY_ERR_QUERY_FORBIDDEN_FUNCTION',
      details: detail,
    });
  });

  it.each(['INSERT INTO events VALUES (1, NULL, NULL)', 'DESCRIBE events', 'SELECT 1; SELECT 2'])(
    'refuses %s as not one read-only SELECT',
    async (sql) => {
      await expect(sandbox.bind(sql, ALL, LIMITS)).rejects.toMatchObject({
        code: 'REFINERY_ERR_QUERY_NOT_READ_ONLY',
      });
    },
  );

  it('reports the public relations a query reads, through table expressions and subqueries', async () => {
    const facts = await sandbox.bind(
      `WITH e AS (SELECT * FROM events) SELECT * FROM e, range(3)
       WHERE e.message_id IN (SELECT email FROM customers)`,
      ALL,
      LIMITS,
    );
    expect(facts.relations).toEqual(['customers', 'events']);
  });

  it('keeps a purpose-scoped query to its view, even behind a table expression of the same name', async () => {
    const scope = new Set(['events_for_analytics']);
    await expect(
      sandbox.bind('SELECT * FROM events WHERE EXISTS (WITH events AS (SELECT 1) SELECT 1)', scope, LIMITS),
    ).rejects.toMatchObject({ details: { relation: 'events' } });
    expect(
      (await sandbox.bind('WITH events AS (SELECT 1 AS x) SELECT * FROM events', scope, LIMITS)).relations,
    ).toEqual([]);
  });

  it.each([
    'SELECT len(generate_series(1, 200000000))',
    "SELECT len(replace(repeat('x', 100000), 'x', repeat('y', 100000)))",
  ])('stops %s while planning, in the sandbox process, at the memory cap', async (sql) => {
    await expect(sandbox.bind(sql, ALL, LIMITS)).rejects.toMatchObject({
      code: 'REFINERY_ERR_QUERY_TOO_LARGE',
    });
    // A new sandbox process answers the next statement.
    await expect(sandbox.bind('SELECT 1', ALL, LIMITS)).resolves.toEqual({ relations: [] });
  });

  it.each([
    'SELECT generate_series(1, len(message_id)) FROM events',
    'SELECT range(len(message_id)) FROM events',
    'SELECT repeat(message_id, 2000000000) FROM events',
    "SELECT lpad(message_id, 1000000000, 'x') FROM events",
    'SELECT list_resize([message_id], 100000000) FROM events',
    'SELECT repeat(message_id, len(message_id)) FROM events',
    "SELECT printf('%100000000d', len(message_id)) FROM events",
    'SELECT printf(message_id, 1) FROM events',
    'SELECT generate_series(1, (random() * 1000000000)::BIGINT) FROM events',
    'SELECT list_transform([1, 2], x -> generate_series(1, x)) FROM events',
  ])('refuses %s: a size set per row beyond the cap', async (sql) => {
    await expect(sandbox.bind(sql, ALL, LIMITS)).rejects.toMatchObject({
      code: 'REFINERY_ERR_QUERY_TOO_LARGE',
    });
  });

  it('allows size-setting functions within the cap', async () => {
    for (const sql of [
      `SELECT len(generate_series(1, ${MAX_GENERATED_VALUE}))`,
      "SELECT lpad(message_id, 12, '0'), printf('%05d', len(message_id)), repeat('-', 10) FROM events",
      'SELECT count(*) FROM range(1000000000)',
      'SELECT unnest(generate_series(1, 10)) FROM events',
      "SELECT unnest(generate_series(DATE '2024-01-01', DATE '2024-12-31', INTERVAL 1 DAY)) AS day",
      "SELECT repeat('ab', 10000 * 5) AS s",
      `SELECT DISTINCT coalesce(message_id, 'x') AS who FROM events WHERE coalesce(message_id, 'y') IN ('a', 'b')`,
    ]) {
      await expect(sandbox.bind(sql, ALL, LIMITS), sql).resolves.toBeDefined();
    }
  });

  it('stops a statement that takes longer than its time limit to plan', async () => {
    await expect(
      sandbox.bind('SELECT len(generate_series(1, 200000000))', ALL, {
        capBytes: 64 * 1024 ** 3,
        timeoutMs: 300,
      }),
    ).rejects.toMatchObject({ code: 'REFINERY_ERR_QUERY_TIMEOUT' });
  });

  it('follows the relations when they change', async () => {
    sandbox.mirror([...COLUMNS, { relation: 'orders', column: 'order_id', type: 'VARCHAR' }]);
    const more = new Set([...ALL, 'orders']);
    expect((await sandbox.bind('SELECT order_id FROM orders', more, LIMITS)).relations).toEqual(['orders']);
    sandbox.mirror(COLUMNS);
    await expect(sandbox.bind('SELECT order_id FROM orders', more, LIMITS)).rejects.toMatchObject({
      details: { relation: 'orders' },
    });
  });
});

import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toPlainValue } from '../../store/duckdb/duckdb-values.js';
import type { QueryResult } from '../../store/query-result.js';
import { readContract } from '../contract-model.js';
import { parseOdcsText } from '../odcs-source.js';
import { openStoredRows, type SourceRow } from './row-source.js';
import { runContractTest } from './run-contract-test.js';

// The stored-data reader only needs "run this SELECT"; a real DuckDB with tables named like the store's
// public relations answers it here. The CLI tests run the same path against a real workspace.
let instance: DuckDBInstance;
let connection: DuckDBConnection;
const queries: string[] = [];

async function query(sql: string): Promise<QueryResult> {
  queries.push(sql);
  const result = await connection.run(sql);
  const names = result.columnNames();
  const rows = (await result.getRowsJson()).map((values) =>
    Object.fromEntries(
      names.map((name, index) => [name, toPlainValue(values[index] ?? null, result.columnTypeId(index))]),
    ),
  );
  return {
    columns: names.map((name, index) => ({ name, type: result.columnType(index).toString() })),
    rows,
    truncated: false,
  };
}

beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:');
  connection = await instance.connect();
  await connection.run(`CREATE TABLE events (
    message_id VARCHAR, type VARCHAR, event VARCHAR, name VARCHAR, user_id VARCHAR,
    received_at TIMESTAMPTZ, properties JSON, traits JSON, context JSON)`);
  const event = (id: string, name: string, properties: unknown, at: string) =>
    `('${id}', 'track', '${name.replace(/'/g, "''")}', NULL, 'u1', TIMESTAMPTZ '${at}', '${JSON.stringify(properties)}', NULL, '{}')`;
  await connection.run(`INSERT INTO events VALUES
    ${event('m1', 'Order Completed', { order_id: 'A1', status: 'paid' }, '2025-03-01 10:00:00+00')},
    ${event('m2', 'Order Completed', { order_id: 'A2', status: 'lost' }, '2025-03-01 10:01:00+00')},
    ${event('m3', 'Order Completed', { status: 'paid' }, '2025-03-01 10:02:00+00')},
    ${event('m4', 'Order Completed', { order_id: 'A4', status: 'paid' }, '2025-03-01 10:03:00+00')},
    ${event('m5', 'Order Completed', { order_id: 'A5', status: 'refunded' }, '2025-03-01 10:04:00+00')},
    ${event('m6', 'Cart Viewed', { cart: 1 }, '2025-03-01 10:05:00+00')},
    ('m7', 'identify', NULL, NULL, 'u1', TIMESTAMPTZ '2025-03-01 10:06:00+00', NULL, '{"email":"a@b.c"}', '{}')`);
  await connection.run(`CREATE TABLE customers (customer_id VARCHAR, email VARCHAR, extra JSON)`);
  await connection.run(`INSERT INTO customers VALUES
    ('c1', 'a@example.com', '{"tier":"gold"}'), ('c2', NULL, '{"tier":"silver"}'), ('c3', 'c@example.com', NULL)`);
});

afterAll(() => {
  connection.closeSync();
  instance.closeSync();
});

function contractOf(schema: string) {
  return readContract(
    parseOdcsText(
      `apiVersion: v3.0.2
kind: DataContract
id: stored
version: 1.0.0
status: active
schema:
${schema}`,
      'stored.odcs.yaml',
    ),
  );
}

const ORDER_COMPLETED = contractOf(`  - name: Order Completed
    physicalType: track
    properties:
      - name: order_id
        logicalType: string
        required: true
      - name: status
        logicalType: string
        quality:
          - metric: invalidValues
            arguments: { validValues: [paid, refunded] }
`);

describe('openStoredRows', () => {
  it('pages through the matching events in order, with JSON text parsed', async () => {
    queries.length = 0;
    const source = await openStoredRows(query, ORDER_COMPLETED.objects[0]!, { pageRows: 2 });
    const rows: SourceRow[] = [];
    for await (const chunk of source.chunks()) rows.push(...chunk);
    expect(rows.map((row) => row.columns.message_id)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
    expect(rows[0]?.record).toEqual({ order_id: 'A1', status: 'paid' });
    expect(queries.some((sql) => /ORDER BY "received_at", "message_id" LIMIT 2 OFFSET 4/.test(sql))).toBe(
      true,
    );
    expect(queries.every((sql) => sql.includes(`event = 'Order Completed'`))).toBe(true);
  });

  it('reads identify traits and dataset rows with their extra columns', async () => {
    const identify = contractOf(`  - name: people
    physicalType: identify
    properties: [{ name: email, logicalType: string }]
`).objects[0]!;
    const traits: unknown[] = [];
    for await (const chunk of (await openStoredRows(query, identify)).chunks())
      traits.push(...chunk.map((row) => row.record));
    expect(traits).toEqual([{ email: 'a@b.c' }]);

    const customers = contractOf(`  - name: customers
    properties: [{ name: tier, logicalType: string }]
`).objects[0]!;
    const records: unknown[] = [];
    for await (const chunk of (await openStoredRows(query, customers)).chunks())
      records.push(...chunk.map((row) => row.record));
    expect(records[0]).toMatchObject({ customer_id: 'c1', tier: 'gold' });
  });

  it('refuses a dataset the workspace does not store', async () => {
    const object = contractOf(`  - name: shipments
`).objects[0]!;
    await expect(openStoredRows(query, object)).rejects.toMatchObject({
      code: 'REFINERY_ERR_CONTRACT_SERVER',
    });
  });

  it('reports a filter the store cannot evaluate as REFINERY_ERR_CONTRACT_FILTER', async () => {
    await expect(
      openStoredRows(query, ORDER_COMPLETED.objects[0]!, { filter: 'no_such_column = 1' }),
    ).rejects.toMatchObject({ code: 'REFINERY_ERR_CONTRACT_FILTER' });
  });
});

describe('runContractTest on stored data', () => {
  it('counts failing events per rule and names them by message id', async () => {
    const report = await runContractTest(ORDER_COMPLETED, { query, pageRows: 2 });
    expect(report.server).toBeNull();
    expect(report.result).toBe('failed');
    const required = report.checks.find((check) => check.id === 'Order Completed.order_id.field_required');
    expect(required).toMatchObject({ result: 'failed', failedRows: 1, samples: [{ message_id: 'm3' }] });
    const valid = report.checks.find((check) => check.id === 'Order Completed.status.quality[0]');
    expect(valid).toMatchObject({ result: 'failed', failedRows: 1, samples: ['lost'] });
    expect(report.checks.find((check) => check.type === 'field_is_present')).toMatchObject({
      field: 'order_id',
      result: 'passed',
    });
  });

  it('applies a row filter over the event columns', async () => {
    const report = await runContractTest(ORDER_COMPLETED, { query, filter: "message_id IN ('m1', 'm4')" });
    expect(report.result).toBe('passed');
  });

  it('fails a required property no event carries, and only its presence check', async () => {
    const contract = contractOf(`  - name: Order Completed
    physicalType: track
    properties:
      - { name: coupon, logicalType: string, required: true }
`);
    const report = await runContractTest(contract, { query });
    expect(report.checks.map((check) => [check.type, check.result])).toEqual([
      ['field_is_present', 'failed'],
    ]);
  });

  it('checks the freshness of events by received_at', async () => {
    const contract = readContract(
      parseOdcsText(
        `apiVersion: v3.0.2
kind: DataContract
id: fresh
version: 1.0.0
status: active
slaProperties:
  - { property: freshness, value: 1, unit: h }
schema:
  - name: Order Completed
    physicalType: track
`,
        'fresh.odcs.yaml',
      ),
    );
    const fresh = await runContractTest(contract, { query, now: new Date('2025-03-01T10:30:00Z') });
    expect(fresh.checks).toEqual([expect.objectContaining({ type: 'sla_freshness', result: 'passed' })]);
    const stale = await runContractTest(contract, { query, now: new Date('2025-03-02T10:30:00Z') });
    expect(stale.checks[0]).toMatchObject({ result: 'failed', measured: '2025-03-01T10:04:00.000Z' });
  });
});

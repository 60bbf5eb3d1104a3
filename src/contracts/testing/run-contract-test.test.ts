import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Contract, readContract } from '../contract-model.js';
import { parseOdcsText } from '../odcs-source.js';
import type { CheckResult, ContractTestReport } from './check-result.js';
import { exitCodeOf } from './check-result.js';
import { meetsThreshold, runContractTest } from './run-contract-test.js';

const temp = mkdtempSync(join(tmpdir(), 'refinery-contract-test-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const NOW = new Date('2025-03-01T12:00:00Z');

/** Ten orders; id 2 twice, two emails without @, region missing twice, one amount of 200. */
const ORDERS_CSV = [
  'id,email,amount,region,ordered_at,zip',
  '1,alice@example.com,50,EU,2025-03-01T10:00:00Z,01234',
  '2,no-at,50,EU,2025-02-28T10:00:00Z,01234',
  '3,carol@example.com,200,,2025-02-27T10:00:00Z,01234',
  '4,also-no-at,50,US,2025-02-26T10:00:00Z,01234',
  '5,dave@example.com,50,,2025-02-25T10:00:00Z,01234',
  '6,erin@example.com,50,EU,2025-02-24T10:00:00Z,01234',
  '7,fay@example.com,50,EU,2025-02-23T10:00:00Z,01234',
  '8,gus@example.com,50,EU,2025-02-22T10:00:00Z,01234',
  '9,hal@example.com,50,US,2025-02-21T10:00:00Z,01234',
  '2,ivy@example.com,50,EU,2025-02-20T10:00:00Z,01234',
  '',
].join('\n');

beforeAll(async () => {
  writeFileSync(join(temp, 'orders.csv'), ORDERS_CSV);
  writeFileSync(
    join(temp, 'cities.ndjson'),
    '{"city_id":"a","name":"Berlin","population":3600000}\n{"city_id":"b","name":"Tiny","population":12}\n',
  );
  writeFileSync(
    join(temp, 'cities-array.json'),
    JSON.stringify([
      { city_id: 'a', name: 'Berlin', population: 3600000 },
      { city_id: 'b', name: 'Tiny', population: 12 },
    ]),
  );
  writeFileSync(join(temp, 'old-cities.csv'), 'city_id,name\nx,Rome\n');
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const parquet = join(temp, 'cities.parquet').replace(/'/g, "''");
  await connection.run(
    `COPY (SELECT * FROM (VALUES ('a', 'Berlin', 3600000::BIGINT), ('b', 'Tiny', 12::BIGINT)) t(city_id, name, population)) TO '${parquet}' (FORMAT parquet)`,
  );
  connection.closeSync();
  instance.closeSync();
});

function contractOf(yaml: string): Contract {
  return readContract(parseOdcsText(yaml, 'test.odcs.yaml'));
}

/** A contract over orders.csv with the given schema lines (indented under `schema:`). */
function ordersContract(schema: string, extra = ''): Contract {
  return contractOf(`apiVersion: v3.0.2
kind: DataContract
id: orders-test
version: 1.0.0
status: active
servers:
  - server: local
    type: local
    format: csv
    path: ./orders.csv
${extra}schema:
${schema}`);
}

async function run(contract: Contract, options: { filter?: string; strict?: boolean } = {}) {
  return runContractTest(contract, { server: 'local', base: temp, now: NOW, ...options });
}

function check(report: ContractTestReport, predicate: (check: CheckResult) => boolean): CheckResult {
  const found = report.checks.find(predicate);
  if (!found) throw new Error(`no such check in ${JSON.stringify(report.checks.map((c) => c.id))}`);
  return found;
}

function byId(report: ContractTestReport, id: string): CheckResult {
  return check(report, (candidate) => candidate.id === id);
}

describe('runContractTest on local files', () => {
  it('aggregates per-record rules into one check per field and rule, with counts and samples', async () => {
    const report = await run(
      ordersContract(`  - name: orders
    properties:
      - name: id
        logicalType: integer
        unique: true
      - name: amount
        logicalType: integer
        logicalTypeOptions: { minimum: 0, maximum: 100 }
      - name: region
        logicalType: string
        required: true
`),
    );
    expect(report.result).toBe('failed');
    expect(byId(report, 'orders.amount.field_max')).toMatchObject({
      result: 'failed',
      failedRows: 1,
      samples: [200],
    });
    expect(byId(report, 'orders.amount.field_min').result).toBe('passed');
    expect(byId(report, 'orders.region.field_required')).toMatchObject({
      result: 'failed',
      failedRows: 2,
      samples: [{ id: 3 }, { id: 5 }],
    });
    // A null in a required column is a missing value, not a wrong type.
    expect(byId(report, 'orders.region.field_type').result).toBe('passed');
    expect(byId(report, 'orders.id.field_unique')).toMatchObject({
      result: 'failed',
      failedRows: 1,
      samples: [2],
    });
    expect(exitCodeOf(report.result)).toBe(1);
  });

  it('never echoes values of fields classified other than public', async () => {
    const report = await run(
      ordersContract(`  - name: orders
    properties:
      - name: email
        logicalType: string
        classification: PII
        logicalTypeOptions: { pattern: "^.+@.+$" }
        quality:
          - metric: invalidValues
            arguments: { pattern: "^.+@.+$" }
            mustBeLessThan: 1
      - name: region
        logicalType: string
        classification: public
        quality:
          - metric: invalidValues
            arguments: { validValues: [EU] }
`),
    );
    const pattern = byId(report, 'orders.email.field_pattern');
    expect(pattern).toMatchObject({ result: 'failed', failedRows: 2, samples: ['(classified)'] });
    const invalid = byId(report, 'orders.email.quality[0]');
    expect(invalid).toMatchObject({ result: 'failed', failedRows: 2, samples: ['(classified)'] });
    expect(JSON.stringify(report)).not.toContain('no-at');
    expect(byId(report, 'orders.region.quality[0]')).toMatchObject({
      result: 'failed',
      failedRows: 2,
      samples: ['US'],
    });
  });

  it('reads a column the contract calls text as text, even when it looks like a number', async () => {
    const report = await run(
      ordersContract(`  - name: orders
    properties:
      - name: zip
        logicalType: string
        logicalTypeOptions: { pattern: "^0\\\\d{4}$" }
`),
    );
    expect(byId(report, 'orders.zip.field_type').result).toBe('passed');
    expect(byId(report, 'orders.zip.field_pattern').result).toBe('passed');
  });

  it('fails only the presence check of a field the data does not have', async () => {
    const contract = contractOf(`apiVersion: v3.0.2
kind: DataContract
id: cities
version: 1.0.0
status: active
servers:
  - server: old
    type: local
    format: csv
    path: old-cities.csv
schema:
  - name: cities
    properties:
      - name: city_id
        logicalType: string
        required: true
      - name: population
        logicalType: integer
        required: true
        logicalTypeOptions: { minimum: 10000 }
        quality:
          - metric: nullValues
`);
    const report = await runContractTest(contract, { server: 'old', base: temp });
    expect(report.result).toBe('failed');
    const failed = report.checks.filter((candidate) => candidate.result === 'failed');
    expect(failed.map((candidate) => candidate.id)).toEqual(['cities.population.field_is_present']);
    expect(report.checks.filter((candidate) => candidate.field === 'population')).toHaveLength(1);
  });

  it('reads NDJSON, JSON arrays and Parquet alike', async () => {
    for (const [format, path, delimiter] of [
      ['json', 'cities.ndjson', 'new_line'],
      ['json', 'cities-array.json', null],
      ['parquet', 'cities.parquet', null],
    ] as const) {
      const contract = contractOf(`apiVersion: v3.0.2
kind: DataContract
id: cities
version: 1.0.0
status: active
servers:
  - server: files
    type: local
    format: ${format}
    path: ${path}
${delimiter ? `    delimiter: ${delimiter}\n` : ''}schema:
  - name: cities
    properties:
      - name: city_id
        logicalType: string
        primaryKey: true
      - name: population
        logicalType: integer
        logicalTypeOptions: { minimum: 10000 }
`);
      const report = await runContractTest(contract, { server: 'files', base: temp });
      expect(byId(report, 'cities.population.field_type').result, path).toBe('passed');
      expect(byId(report, 'cities.population.field_min'), path).toMatchObject({
        result: 'failed',
        samples: [12],
      });
      expect(byId(report, 'cities.city_id.field_unique').result, path).toBe('passed');
    }
  });

  it('checks nested fields and array items, naming them by path', async () => {
    writeFileSync(
      join(temp, 'people.ndjson'),
      [
        '{"id":1,"address":{"city":"Rome","zip":"00100"},"tags":["a","b"]}',
        '{"id":2,"address":{"zip":"10115"},"tags":["a","b","c"]}',
        '{"id":3,"address":{"city":"Oslo","zip":"0150"},"tags":["toolong"]}',
      ].join('\n'),
    );
    const contract = contractOf(`apiVersion: v3.0.2
kind: DataContract
id: people
version: 1.0.0
status: active
servers:
  - { server: files, type: local, format: json, delimiter: new_line, path: people.ndjson }
schema:
  - name: people
    properties:
      - name: address
        logicalType: object
        properties:
          - { name: city, logicalType: string, required: true }
      - name: tags
        logicalType: array
        logicalTypeOptions: { maxItems: 2 }
        items: { logicalType: string, logicalTypeOptions: { maxLength: 3 } }
`);
    const report = await runContractTest(contract, { server: 'files', base: temp });
    expect(byId(report, 'people.address.city.field_required')).toMatchObject({
      failedRows: 1,
      samples: [{ row: 2 }],
    });
    expect(byId(report, 'people.tags.field_constraint')).toMatchObject({ result: 'failed', failedRows: 1 });
    expect(byId(report, 'people.tags[].field_max_length')).toMatchObject({
      failedRows: 1,
      samples: ['toolong'],
    });
  });

  it('applies a row filter to every check', async () => {
    const contract = ordersContract(`  - name: orders
    quality:
      - metric: rowCount
        mustBe: 3
    properties:
      - name: id
        logicalType: integer
`);
    expect((await run(contract)).result).toBe('failed');
    const filtered = await run(contract, { filter: 'id <= 2' });
    expect(filtered.result).toBe('passed');
    expect(byId(filtered, 'orders.*.quality[0]')).toMatchObject({ type: 'row_count', measured: 3 });
  });

  it('reports a filter naming an unknown column as an error, not a pass or a fail', async () => {
    const report = await run(
      ordersContract(`  - name: orders
    properties:
      - name: id
        logicalType: integer
`),
      { filter: 'no_such_column = 1' },
    );
    expect(report.result).toBe('error');
    expect(check(report, (candidate) => candidate.result === 'error')).toMatchObject({
      type: 'data_source',
      code: 'REFINERY_ERR_CONTRACT_FILTER',
    });
    expect(exitCodeOf(report.result)).toBe(3);
  });

  it('reports files that cannot be read as an error', async () => {
    const contract = contractOf(`apiVersion: v3.0.2
kind: DataContract
id: gone
version: 1.0.0
status: active
servers:
  - { server: gone, type: local, format: csv, path: ./missing/*.csv }
schema:
  - name: gone
    properties: [{ name: a, logicalType: string }]
`);
    const report = await runContractTest(contract, { server: 'gone', base: temp });
    expect(report.result).toBe('error');
    expect(report.checks[0]?.code).toBe('REFINERY_ERR_CONTRACT_SERVER');
  });

  it('refuses a server the contract does not have, and servers that are not local files', async () => {
    const contract = contractOf(`apiVersion: v3.0.2
kind: DataContract
id: remote
version: 1.0.0
status: active
servers:
  - { server: warehouse, type: snowflake }
schema:
  - name: t
`);
    await expect(runContractTest(contract, { server: 'nope' })).rejects.toMatchObject({
      code: 'REFINERY_ERR_CONTRACT_SERVER',
    });
    await expect(runContractTest(contract, { server: 'warehouse' })).rejects.toMatchObject({
      code: 'REFINERY_ERR_CONTRACT_SERVER',
    });
  });
});

describe('quality rules', () => {
  it('measures library metrics with every operator, in rows and in percent', async () => {
    // region: 2 nulls of 10 rows (20 %); amount: 9 duplicates; email: 2 invalid.
    const report = await run(
      ordersContract(`  - name: orders
    quality:
      - { metric: rowCount, mustBe: 10 }
      - { metric: rowCount, mustNotBe: 10 }
      - { metric: rowCount, mustBeGreaterThan: 9 }
      - { metric: rowCount, mustBeGreaterThan: 10 }
      - { metric: rowCount, mustBeGreaterOrEqualTo: 10 }
      - { metric: rowCount, mustBeLessThan: 10 }
      - { metric: rowCount, mustBeLessOrEqualTo: 10 }
      - { metric: rowCount, mustBeBetween: [5, 10] }
      - { metric: rowCount, mustNotBeBetween: [5, 10] }
      - { metric: duplicateValues, arguments: { properties: [id, email] } }
    properties:
      - name: region
        quality:
          - { metric: nullValues, mustBe: 2 }
          - { metric: nullValues, unit: percent, mustBeLessThan: 25 }
          - { metric: nullValues, unit: percent, mustBeLessThan: 10 }
          - { metric: missingValues, arguments: { missingValues: [US] } }
          - { metric: missingValues, arguments: { missingValues: [US] }, mustBe: 4 }
      - name: amount
        quality:
          - { metric: duplicateValues, mustBeLessOrEqualTo: 9 }
          - { metric: duplicateValues }
      - name: email
        quality:
          - { metric: invalidValues, arguments: { pattern: "@" }, mustBe: 2 }
`),
    );
    const outcome = (id: string) => byId(report, id).result;
    const expected: Record<string, string> = {
      'orders.*.quality[0]': 'passed',
      'orders.*.quality[1]': 'failed',
      'orders.*.quality[2]': 'passed',
      'orders.*.quality[3]': 'failed',
      'orders.*.quality[4]': 'passed',
      'orders.*.quality[5]': 'failed',
      'orders.*.quality[6]': 'passed',
      'orders.*.quality[7]': 'passed',
      'orders.*.quality[8]': 'failed',
      'orders.*.quality[9]': 'passed',
      'orders.region.quality[0]': 'passed',
      'orders.region.quality[1]': 'passed',
      'orders.region.quality[2]': 'failed',
      'orders.region.quality[3]': 'failed',
      'orders.region.quality[4]': 'passed',
      'orders.amount.quality[0]': 'passed',
      'orders.amount.quality[1]': 'failed',
      'orders.email.quality[0]': 'passed',
    };
    expect(Object.fromEntries(Object.keys(expected).map((id) => [id, outcome(id)]))).toEqual(expected);
    expect(byId(report, 'orders.region.quality[1]').measured).toBe(20);
    expect(byId(report, 'orders.region.quality[0]').samples).toEqual([{ row: 3 }, { row: 5 }]);
  });

  it('turns a failed rule of severity warning into a warning, which does not fail the run', async () => {
    const report = await run(
      ordersContract(`  - name: orders
    quality:
      - { metric: rowCount, mustBeGreaterThan: 100, severity: warning }
    properties:
      - name: id
`),
    );
    expect(byId(report, 'orders.*.quality[0]').result).toBe('warning');
    expect(report.result).toBe('warning');
    expect(exitCodeOf(report.result)).toBe(0);
  });

  it('runs sql rules on the data, with the object name and placeholders, and skips text and custom rules', async () => {
    const contract = ordersContract(`  - name: orders
    quality:
      - { type: sql, query: "SELECT count(*) FROM orders WHERE amount > 100", mustBe: 1 }
      - { type: sql, query: "SELECT max(amount) FROM \${object}", mustBeLessThan: 100 }
      - { type: sql, query: "SELECT count(*) FROM {model} WHERE no_such_column", mustBe: 0 }
      - { type: text, description: "Amounts are in euros" }
      - { type: custom, engine: soda, implementation: "row_count > 0" }
    properties:
      - name: id
`);
    const report = await run(contract);
    expect(byId(report, 'orders.*.quality[0]')).toMatchObject({ result: 'passed', measured: 1 });
    expect(byId(report, 'orders.*.quality[1]')).toMatchObject({ result: 'failed', measured: 200 });
    expect(byId(report, 'orders.*.quality[2]').result).toBe('error');
    expect(byId(report, 'orders.*.quality[3]').result).toBe('skipped');
    expect(byId(report, 'orders.*.quality[4]').result).toBe('skipped');
    const strict = await run(contract, { strict: true });
    expect(byId(strict, 'orders.*.quality[4]')).toMatchObject({ result: 'warning' });
    expect(byId(strict, 'orders.*.quality[4]').reason).toContain('not executed by Refinery');
  });

  it('refuses a sql rule that is not a SELECT', async () => {
    const report = await run(
      ordersContract(`  - name: orders
    quality:
      - { type: sql, query: "CREATE TABLE x AS SELECT 1", mustBe: 0 }
`),
    );
    expect(byId(report, 'orders.*.quality[0]').result).toBe('error');
  });

  it('compares with every ODCS operator', () => {
    expect(meetsThreshold(3, { mustBe: 3 })).toBe(true);
    expect(meetsThreshold('3', { mustBe: 3 })).toBe(true);
    expect(meetsThreshold('ok', { mustBe: 'ok' })).toBe(true);
    expect(meetsThreshold(3, { mustNotBe: 3 })).toBe(false);
    expect(meetsThreshold(3, { mustBeGreaterThan: 3 })).toBe(false);
    expect(meetsThreshold(3, { mustBeGreaterOrEqualTo: 3 })).toBe(true);
    expect(meetsThreshold(3, { mustBeLessThan: 3 })).toBe(false);
    expect(meetsThreshold(3, { mustBeLessOrEqualTo: 3 })).toBe(true);
    expect(meetsThreshold(3, { mustBeBetween: [3, 4] })).toBe(true);
    expect(meetsThreshold(5, { mustBeBetween: [3, 4] })).toBe(false);
    expect(meetsThreshold(4, { mustNotBeBetween: [3, 4] })).toBe(false);
    expect(meetsThreshold(2, { mustNotBeBetween: [3, 4] })).toBe(true);
    expect(meetsThreshold(null, { mustBeGreaterThan: 0 })).toBe(false);
    expect(meetsThreshold(5, { mustBeGreaterThan: 1, mustBeLessThan: 5 })).toBe(false);
  });
});

describe('SLA checks', () => {
  it('checks freshness and retention against the newest and oldest timestamps', async () => {
    const report = await run(
      ordersContract(
        `  - name: orders
    properties:
      - name: id
`,
        `slaProperties:
  - { property: freshness, value: 1, unit: d, element: orders.ordered_at }
  - { property: latency, value: 1, unit: h, element: orders.ordered_at }
  - { property: retention, value: 30, unit: days, element: orders.ordered_at }
  - { property: retention, value: 5, unit: d, element: ordered_at }
  - { property: frequency, value: 1, unit: d }
  - { property: freshness, value: 1, unit: d, element: shipments.shipped_at }
`,
      ),
    );
    const sla = report.checks.filter((candidate) => candidate.type.startsWith('sla'));
    expect(sla.map((candidate) => [candidate.type, candidate.result])).toEqual([
      ['sla_freshness', 'passed'],
      ['sla_freshness', 'failed'],
      ['sla_retention', 'passed'],
      ['sla_retention', 'failed'],
      ['sla', 'skipped'],
      ['sla_freshness', 'failed'],
    ]);
    expect(sla[0]?.measured).toBe('2025-03-01T10:00:00.000Z');
  });
});

describe('a contract from someone else', () => {
  it('cannot read files outside the server folder through a SQL rule or the row filter', async () => {
    const contract = ordersContract(`  - name: orders
    properties:
      - name: id
        logicalType: integer
    quality:
      - { type: sql, query: "SELECT length(content) FROM read_text('/etc/hostname')", mustBeGreaterThan: 0 }
`);
    const report = await run(contract);
    const sql = check(report, (c) => c.type === 'quality');
    expect(sql.result).toBe('error');
    expect(sql.reason).toMatch(/disabled|not allowed|permission|Permission/i);
    const filtered = await run(contract, { filter: "id IN (SELECT 1 FROM read_text('/etc/hostname'))" });
    expect(filtered.result).toBe('error');
  });
});

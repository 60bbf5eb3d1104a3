import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readContract } from '../../src/contracts/contract-model.js';
import { parseOdcsText } from '../../src/contracts/odcs-source.js';
import { runContractTest } from '../../src/contracts/testing/run-contract-test.js';
import { isBuilt, runCli } from '../helpers/cli-process.js';
import { basicAuth, startTestWorkspace, type TestWorkspace } from '../helpers/test-workspace.js';

const temp = mkdtempSync(join(tmpdir(), 'refinery-contract-test-cli-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** Runs the CLI with no REFINERY_DIR inherited from the environment running the tests. */
function cli(args: string[], cwd = temp) {
  return runCli(args, { cwd, env: { REFINERY_DIR: '' } });
}

// The reference fixtures live beside the repository in development only; a fresh clone has none.
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const reference = join(resolve(repoRoot, '..', 'shared'), 'conformance', 'datacontract-cli');
const hasReference = existsSync(join(reference, 'fixtures', 'row-filter', 'datacontract.yaml'));
if (!hasReference) {
  console.warn(`Skipping the contract test CLI runs on reference fixtures: none at ${reference}.`);
}

const PRODUCTS_CONTRACT = `apiVersion: v3.0.2
kind: DataContract
id: products-file
version: 1.0.0
status: active
servers:
  - server: local
    type: local
    format: csv
    path: ./data/products.csv
schema:
  - name: products
    quality:
      - metric: rowCount
        mustBeGreaterThan: 0
    properties:
      - name: sku
        logicalType: string
        required: true
        unique: true
      - name: price
        logicalType: number
        logicalTypeOptions:
          minimum: 0
`;

describe.skipIf(!isBuilt)('refinery contract test (needs `npm run build`)', () => {
  beforeAll(() => {
    writeFileSync(join(temp, 'products.odcs.yaml'), PRODUCTS_CONTRACT);
    const data = join(temp, 'data');
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, 'products.csv'), 'sku,price\nP1,3.5\nP2,4\nP3,0\n');
    writeFileSync(join(data, 'bad-products.csv'), 'sku,price\nP1,3.5\nP1,-4\n,2\n');
  });

  it('exits 0 and prints the checks when the data keeps the contract', async () => {
    const result = await cli(['contract', 'test', 'products.odcs.yaml', '--server', 'local']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^passed +Field 'sku' is unique/m);
    expect(result.stdout.trimEnd().split('\n').at(-1)).toMatch(/^passed: \d+ of \d+ checks passed$/);
  });

  it('exits 1 when data breaks the contract, naming each failed check with counts', async () => {
    const contract = join(temp, 'bad.odcs.yaml');
    writeFileSync(contract, PRODUCTS_CONTRACT.replace('./data/products.csv', './data/bad-products.csv'));
    const result = await cli(['contract', 'test', contract, '--server', 'local', '--json']);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as {
      result: string;
      checks: { id: string; result: string; failedRows?: number }[];
    };
    expect(report.result).toBe('failed');
    const failed = Object.fromEntries(
      report.checks.filter((check) => check.result === 'failed').map((check) => [check.id, check.failedRows]),
    );
    expect(failed).toEqual({
      'products.sku.field_required': 1,
      'products.sku.field_unique': 1,
      'products.price.field_min': 1,
    });
  });

  it('resolves relative server paths against --base', async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'refinery-contract-test-cwd-'));
    try {
      const result = await cli(
        ['contract', 'test', join(temp, 'products.odcs.yaml'), '--server', 'local', '--base', temp],
        elsewhere,
      );
      expect(result.code).toBe(0);
      const missing = await cli(
        ['contract', 'test', join(temp, 'products.odcs.yaml'), '--server', 'local'],
        elsewhere,
      );
      expect(missing.code).toBe(3);
      expect(missing.stdout).toContain('REFINERY_ERR_CONTRACT_SERVER');
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('exits 3 for a row filter naming an unknown column and for a server the contract lacks', async () => {
    const filter = await cli([
      'contract',
      'test',
      'products.odcs.yaml',
      '--server',
      'local',
      '--filter',
      'nope = 1',
    ]);
    expect(filter.code).toBe(3);
    expect(filter.stdout).toContain('REFINERY_ERR_CONTRACT_FILTER');
    const server = await cli(['contract', 'test', 'products.odcs.yaml', '--server', 's3-prod']);
    expect(server.code).toBe(3);
    expect(server.stderr).toContain('REFINERY_ERR_CONTRACT_SERVER');
  });

  it('exits 3 for a contract it cannot find', async () => {
    const result = await cli(['contract', 'test', 'no-such-contract', '--server', 'local', '--dir', temp]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('REFINERY_ERR_CONTRACT_NOT_FOUND');
  });

  describe.skipIf(!hasReference)('on the datacontract-cli row-filter fixture', () => {
    const contract = 'fixtures/row-filter/datacontract.yaml';

    it('fails without a filter (five rows, rowCount must be 3)', async () => {
      const result = await cli(['contract', 'test', contract, '--server', 'local'], reference);
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/^failed +rowCount must be 3 .*5 rows/m);
    });

    it('passes with the row filter order_id <= 2', async () => {
      const result = await cli(
        ['contract', 'test', contract, '--server', 'local', '--filter', 'order_id <= 2'],
        reference,
      );
      expect(result.code).toBe(0);
    });

    it('is an error with a filter naming an unknown column', async () => {
      const result = await cli(
        ['contract', 'test', contract, '--server', 'local', '--filter', 'customer_id <= 2', '--json'],
        reference,
      );
      expect(result.code).toBe(3);
      expect(JSON.parse(result.stdout)).toMatchObject({ result: 'error' });
    });
  });
});

// Warn mode stores violating events (flagged), so `contract test` finds them in the events relation.
const ORDER_CONTRACT = `apiVersion: v3.1.0
kind: DataContract
id: order-completed
version: 1.0.0
status: active
customProperties:
  - property: refinery.mode
    value: warn
schema:
  - name: Order Completed
    physicalType: track
    properties:
      - name: order_id
        logicalType: string
        required: true
      - name: currency
        logicalType: string
        quality:
          - metric: invalidValues
            arguments:
              validValues: [EUR, USD]
            mustBe: 0
`;

describe('refinery contract test on stored events', () => {
  let ws: TestWorkspace;

  beforeAll(async () => {
    ws = await startTestWorkspace({ contracts: { 'order-completed.odcs.yaml': ORDER_CONTRACT } });
    const order = (id: string, properties: Record<string, unknown>) => ({
      type: 'track',
      event: 'Order Completed',
      userId: 'u1',
      messageId: id,
      properties,
    });
    const response = await ws.server.app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: { 'content-type': 'application/json', authorization: basicAuth(ws.writeKey) },
      payload: JSON.stringify({
        batch: [
          order('ok-1', { order_id: 'A1', currency: 'EUR' }),
          order('ok-2', { order_id: 'A2', currency: 'USD' }),
          order('no-id', { currency: 'EUR' }),
          order('bad-currency-1', { order_id: 'A4', currency: 'GBP' }),
          order('bad-currency-2', { order_id: 'A5', currency: 'JPY' }),
          { type: 'track', event: 'Cart Viewed', userId: 'u1', messageId: 'other', properties: {} },
        ],
      }),
    });
    expect(response.statusCode).toBe(200);
    await ws.drain();
  });
  afterAll(async () => {
    await ws?.close();
  });

  it('pages through the stored events in pages of any size, on either engine', async () => {
    const contract = readContract(parseOdcsText(ORDER_CONTRACT, 'order-completed.odcs.yaml'));
    const query = (sql: string) => ws.server.store.readOnlyQuery(sql, { timeoutMs: 30_000, maxRows: 1_000 });
    const report = await runContractTest(contract, { query, pageRows: 2 });
    const failed = report.checks.filter((check) => check.result === 'failed');
    expect(failed.map((check) => [check.id, check.failedRows, check.samples])).toEqual([
      ['Order Completed.order_id.field_required', 1, [{ message_id: 'no-id' }]],
      ['Order Completed.currency.quality[0]', 2, ['GBP', 'JPY']],
    ]);
    const filtered = await runContractTest(contract, { query, pageRows: 2, filter: 'no_such_column = 1' });
    expect(filtered.checks[0]).toMatchObject({ result: 'error', code: 'REFINERY_ERR_CONTRACT_FILTER' });
  });

  describe.skipIf(!isBuilt)('through the CLI (needs `npm run build`)', () => {
    it('exits 1 naming the failing checks with their counts, found by contract id', async () => {
      const result = await cli(['contract', 'test', 'order-completed', '--dir', ws.dir]);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(
        /^failed +Field 'order_id' is required +order_id +1 of 5 rows have no value.*"no-id"/m,
      );
      expect(result.stdout).toMatch(
        /^failed +currency invalidValues must be 0 +currency +2 of 5 rows.*"GBP", "JPY"/m,
      );
      expect(result.stdout.trimEnd().split('\n').at(-1)).toMatch(/^failed: 2 of \d+ checks failed$/);
    });

    it('passes on the events a row filter selects', async () => {
      const result = await cli([
        'contract',
        'test',
        'order-completed.odcs.yaml',
        '--dir',
        ws.dir,
        '--filter',
        "message_id IN ('ok-1', 'ok-2')",
        '--json',
      ]);
      expect(result.code).toBe(0);
      const report = JSON.parse(result.stdout) as { server: string | null; result: string };
      expect(report).toMatchObject({ server: null, result: 'passed' });
    });
  });
});

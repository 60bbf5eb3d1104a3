import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type Contract, readContract } from '../../src/contracts/contract-model.js';
import { readOdcsFile } from '../../src/contracts/odcs-source.js';
import type { ContractTestReport } from '../../src/contracts/testing/check-result.js';
import { runContractTest } from '../../src/contracts/testing/run-contract-test.js';

// The reference fixtures live beside the repository in development only; a fresh clone has none. Their
// server paths are relative to this folder, as datacontract-cli resolves them against its working folder.
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const base = join(resolve(repoRoot, '..', 'shared'), 'conformance', 'datacontract-cli');
const available = existsSync(join(base, 'fixtures', 'schema-evolution'));
if (!available) {
  console.warn(`Skipping the contract test conformance cases: no reference fixtures at ${base}.`);
}

function contract(file: string): Contract {
  return readContract(readOdcsFile(join(base, 'fixtures', file)));
}

function test(file: string, server: string, filter?: string): Promise<ContractTestReport> {
  return runContractTest(contract(file), { server, base, filter });
}

function failedIds(report: ContractTestReport): string[] {
  return report.checks.filter((check) => check.result === 'failed').map((check) => check.id);
}

const CITIES_V2 = 'schema-evolution/odcs-datacontract-cities-version-2.yaml';
const CITIES_V3 = 'schema-evolution/odcs-datacontract-cities-version-3.yaml';

describe.skipIf(!available)('contract test matches datacontract-cli on its reference fixtures', () => {
  describe('schema evolution: cities v2 (population optional, 10,000 to 5,000,000)', () => {
    it.each(['historical-csv', 'historical-parquet', 'historical-json'])(
      'fails only the presence check of population on %s (files without the column)',
      async (server) => {
        const report = await test(CITIES_V2, server);
        expect(report.result).toBe('failed');
        expect(failedIds(report)).toEqual(['cities.population.field_is_present']);
      },
    );

    it.each([
      'current-csv',
      'current-parquet',
      'current-json',
      'mixed-schema-csv',
      'mixed-schema-parquet',
      'mixed-schema-json',
    ])('passes on %s', async (server) => {
      const report = await test(CITIES_V2, server);
      expect(report.checks.filter((check) => check.result !== 'passed')).toEqual([]);
      expect(report.result).toBe('passed');
    });

    it.each(['current-csv-invalid', 'current-parquet-invalid'])(
      'fails the minimum of population on %s (a population of 9,000)',
      async (server) => {
        const report = await test(CITIES_V2, server);
        expect(report.result).toBe('failed');
        expect(failedIds(report)).toEqual(['cities.population.field_min']);
        expect(report.checks.find((check) => check.id === 'cities.population.field_min')).toMatchObject({
          failedRows: 1,
          samples: [9000],
        });
      },
    );
  });

  describe('schema evolution: cities v3 (population required)', () => {
    it.each(['historical-csv', 'historical-parquet'])('fails on %s', async (server) => {
      const report = await test(CITIES_V3, server);
      expect(report.result).toBe('failed');
      expect(failedIds(report)).toEqual(['cities.population.field_is_present']);
    });
  });

  describe('row filter: rowCount must be 3 over five orders', () => {
    it('fails without a filter', async () => {
      const report = await test('row-filter/datacontract.yaml', 'local');
      expect(report.result).toBe('failed');
      expect(report.checks.find((check) => check.type === 'row_count')).toMatchObject({
        result: 'failed',
        measured: 5,
      });
    });

    it('passes with the filter order_id <= 2', async () => {
      const report = await test('row-filter/datacontract.yaml', 'local', 'order_id <= 2');
      expect(report.result).toBe('passed');
      expect(report.checks.find((check) => check.type === 'row_count')).toMatchObject({ measured: 3 });
    });

    it('is an error, not a pass or a fail, with a filter naming an unknown column', async () => {
      const report = await test('row-filter/datacontract.yaml', 'local', 'no_such_column <= 2');
      expect(report.result).toBe('error');
      expect(report.checks.some((check) => check.code === 'REFINERY_ERR_CONTRACT_FILTER')).toBe(true);
    });
  });

  describe('failed samples', () => {
    it('fails, naming each broken rule with counts and samples, never echoing the PII email', async () => {
      const report = await test('failed_samples/orders.odcs.yaml', 'local');
      expect(report.result).toBe('failed');
      const byId = (id: string) => report.checks.find((check) => check.id === id);
      expect(byId('orders.region.field_required')).toMatchObject({
        result: 'failed',
        failedRows: 2,
        samples: [{ id: 3 }, { id: 5 }],
      });
      expect(byId('orders.amount.field_max')).toMatchObject({
        result: 'failed',
        failedRows: 1,
        samples: [200],
      });
      expect(byId('orders.email.field_pattern')).toMatchObject({
        result: 'failed',
        failedRows: 6,
        samples: ['(classified)'],
      });
      expect(byId('orders.id.field_unique')).toMatchObject({ result: 'failed', failedRows: 1, samples: [2] });
      expect(failedIds(report).sort()).toEqual(
        [
          'orders.amount.field_max',
          'orders.email.field_pattern',
          'orders.id.field_unique',
          'orders.region.field_required',
        ].sort(),
      );
      const text = JSON.stringify(report);
      for (const email of ['no-at', 'also-no-at', 'bad3', 'bad6']) expect(text).not.toContain(email);
    });
  });
});

import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ContractTestReport } from '../../src/contracts/testing/check-result.js';
import { isBuilt, runCli } from '../helpers/cli-process.js';

/*
 * `refinery contract test` held to what datacontract-cli reports on its own fixtures, through the command a
 * user types (a library call once passed while the command refused the same contract). The fixtures live
 * beside the repository in development only; a fresh clone has none. Their server paths are relative to
 * their folder, as datacontract-cli resolves them against its working folder: the CLI runs there.
 */
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const base = join(resolve(repoRoot, '..', 'shared'), 'conformance', 'datacontract-cli');
const available = existsSync(join(base, 'fixtures', 'schema-evolution'));
const skipReason = !available
  ? `no reference fixtures at ${base} (../shared beside the repository)`
  : !isBuilt
    ? 'the CLI is not built (run `npx tsc -p tsconfig.build.json`)'
    : undefined;
if (skipReason) console.warn(`Skipping the contract test conformance cases: ${skipReason}.`);

/** The exit code a pipeline gates on, for each outcome. */
const EXIT_CODE = { passed: 0, warning: 0, failed: 1, error: 3 } as const;

/** Runs `refinery contract test FILE --server NAME --json` in the fixtures' folder and reads its report. */
async function contractTest(file: string, server: string, filter?: string): Promise<ContractTestReport> {
  const args = ['contract', 'test', join('fixtures', file), '--server', server, '--json'];
  if (filter !== undefined) args.push('--filter', filter);
  const run = await runCli(args, { cwd: base, env: { REFINERY_DIR: '' } });
  let report: ContractTestReport;
  try {
    report = JSON.parse(run.stdout) as ContractTestReport;
  } catch {
    throw new Error(`refinery ${args.join(' ')} printed no report (exit ${run.code}):\n${run.stderr}`);
  }
  expect(run.code, run.stderr).toBe(EXIT_CODE[report.result]);
  return report;
}

function failedIds(report: ContractTestReport): string[] {
  return report.checks.filter((check) => check.result === 'failed').map((check) => check.id);
}

const CITIES_V2 = 'schema-evolution/odcs-datacontract-cities-version-2.yaml';
const CITIES_V3 = 'schema-evolution/odcs-datacontract-cities-version-3.yaml';
const TIMEOUT = 60_000;

describe.skipIf(skipReason !== undefined)(
  'refinery contract test matches datacontract-cli on its reference fixtures (CLI)',
  () => {
    describe('schema evolution: cities v2 (population optional, 10,000 to 5,000,000)', () => {
      it.each(['historical-csv', 'historical-parquet', 'historical-json'])(
        'fails only the presence check of population on %s (files without the column)',
        async (server) => {
          const report = await contractTest(CITIES_V2, server);
          expect(report.result).toBe('failed');
          expect(failedIds(report)).toEqual(['cities.population.field_is_present']);
        },
        TIMEOUT,
      );

      // The json servers carry `delimiter: new_line`, a field ODCS v3.1 does not define for `local`.
      it.each([
        'current-csv',
        'current-parquet',
        'current-json',
        'mixed-schema-csv',
        'mixed-schema-parquet',
        'mixed-schema-json',
      ])(
        'passes on %s',
        async (server) => {
          const report = await contractTest(CITIES_V2, server);
          expect(report.checks.filter((check) => check.result !== 'passed')).toEqual([]);
          expect(report.result).toBe('passed');
        },
        TIMEOUT,
      );

      it.each(['current-csv-invalid', 'current-parquet-invalid'])(
        'fails the minimum of population on %s (a population of 9,000)',
        async (server) => {
          const report = await contractTest(CITIES_V2, server);
          expect(report.result).toBe('failed');
          expect(failedIds(report)).toEqual(['cities.population.field_min']);
          expect(report.checks.find((check) => check.id === 'cities.population.field_min')).toMatchObject({
            failedRows: 1,
            samples: [9000],
          });
        },
        TIMEOUT,
      );
    });

    describe('schema evolution: cities v3 (population required)', () => {
      it.each(['historical-csv', 'historical-parquet'])(
        'fails on %s',
        async (server) => {
          const report = await contractTest(CITIES_V3, server);
          expect(report.result).toBe('failed');
          expect(failedIds(report)).toEqual(['cities.population.field_is_present']);
        },
        TIMEOUT,
      );
    });

    describe('row filter: rowCount must be 3 over five orders', () => {
      it(
        'fails without a filter',
        async () => {
          const report = await contractTest('row-filter/datacontract.yaml', 'local');
          expect(report.result).toBe('failed');
          expect(report.checks.find((check) => check.type === 'row_count')).toMatchObject({
            result: 'failed',
            measured: 5,
          });
        },
        TIMEOUT,
      );

      it(
        'passes with the filter order_id <= 2',
        async () => {
          const report = await contractTest('row-filter/datacontract.yaml', 'local', 'order_id <= 2');
          expect(report.result).toBe('passed');
          expect(report.checks.find((check) => check.type === 'row_count')).toMatchObject({ measured: 3 });
        },
        TIMEOUT,
      );

      it(
        'is an error (exit 3), not a pass or a fail, with a filter naming an unknown column',
        async () => {
          const report = await contractTest('row-filter/datacontract.yaml', 'local', 'no_such_column <= 2');
          expect(report.result).toBe('error');
          expect(report.checks.some((check) => check.code === 'REFINERY_ERR_CONTRACT_FILTER')).toBe(true);
        },
        TIMEOUT,
      );
    });

    describe('failed samples', () => {
      it(
        'fails, naming each broken rule with counts and samples, never echoing the PII email',
        async () => {
          const report = await contractTest('failed_samples/orders.odcs.yaml', 'local');
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
          expect(byId('orders.id.field_unique')).toMatchObject({
            result: 'failed',
            failedRows: 1,
            samples: [2],
          });
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
        },
        TIMEOUT,
      );
    });
  },
);

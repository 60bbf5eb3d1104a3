import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ContractDiff } from '../../src/contracts/diff/contract-diff.js';
import { isBuilt, runCli } from '../helpers/cli-process.js';

// The reference fixtures live beside the repository in development only; a fresh clone has none. The diff
// is what `refinery contract diff` prints, the command a user types (it needs the build).
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const fixtures = join(
  resolve(repoRoot, '..', 'shared'),
  'conformance',
  'datacontract-cli',
  'fixtures',
  'changelog',
);
const available = existsSync(join(fixtures, 'golden_changelog_text.txt'));
const skipReason = !available
  ? `no reference fixtures at ${fixtures}`
  : !isBuilt
    ? 'the CLI is not built (run `npx tsc -p tsconfig.build.json`)'
    : undefined;
if (skipReason) console.warn(`Skipping the contract diff conformance tests: ${skipReason}.`);

/**
 * Reads the rows of every box-drawn table in a text: one array of trimmed cells per row, header first.
 * A row whose first cell is blank continues the row above (a wrapped cell), and is joined onto it.
 */
function parseTables(text: string): string[][][] {
  const tables: string[][][] = [];
  let current: string[][] | null = null;
  for (const line of text.split('\n')) {
    if (line.startsWith('╭')) {
      current = [];
      tables.push(current);
    } else if (line.startsWith('│') && current) {
      const cells = line
        .split('│')
        .slice(1, -1)
        .map((cell) => cell.trim());
      const previous = current[current.length - 1];
      if (cells[0] === '' && previous) {
        cells.forEach((cell, index) => {
          if (cell) previous[index] = previous[index] ? `${previous[index]} ${cell}` : cell;
        });
      } else {
        current.push(cells);
      }
    }
  }
  return tables;
}

/** The reference tool prints booleans as Python does (`True`); YAML and Refinery say `true`. */
function normaliseCell(cell: string): string {
  return cell === 'True' || cell === 'False' ? cell.toLowerCase() : cell;
}

describe.skipIf(skipReason !== undefined)(
  'refinery contract diff against the reference tool (datacontract-cli changelog)',
  () => {
    const files = ['changelog_integration_v1.yaml', 'changelog_integration_v2.yaml'].map((name) =>
      join(fixtures, 'integration', name),
    );
    const golden = () => readFileSync(join(fixtures, 'golden_changelog_text.txt'), 'utf8');
    let text: string;
    let result: ContractDiff;

    beforeAll(async () => {
      const printed = await runCli(['contract', 'diff', ...files], { env: { REFINERY_DIR: '' } });
      const json = await runCli(['contract', 'diff', '--json', ...files], { env: { REFINERY_DIR: '' } });
      // Exit 1: the change is breaking, which a CI step gates on.
      expect(printed.code, printed.stderr).toBe(1);
      expect(json.code, json.stderr).toBe(1);
      text = printed.stdout;
      result = JSON.parse(json.stdout) as ContractDiff;
    }, 60_000);

    it('counts 2 added, 5 updated and 1 removed change, as the reference summary line does', () => {
      expect(result.counts).toEqual({ added: 2, updated: 5, removed: 1 });
      const summaryLine = golden()
        .split('\n')
        .find((line) => line.startsWith('[ '));
      expect(text).toContain(`${summaryLine!.trim()}\n`);
    });

    it('lists the same summary rows in the same order, with the same kind of change', () => {
      const [goldenSummary] = parseTables(golden());
      const [ourSummary] = parseTables(text);
      expect(goldenSummary![0]).toEqual(['Change', 'Field']);
      expect(ourSummary![0]).toEqual(['Change', 'Field', 'Breaking?']);
      expect(ourSummary!.slice(1).map((row) => row.slice(0, 2))).toEqual(goldenSummary!.slice(1));
    });

    it('lists the same detail rows in the same order, with the same old and new values', () => {
      const [, goldenDetails] = parseTables(golden());
      const [, ourDetails] = parseTables(text);
      expect(goldenDetails![0]).toEqual(['Change', 'Path', 'Old Value', 'New Value']);
      expect(ourDetails![0]).toEqual(goldenDetails![0]);
      const normalise = (rows: string[][]) => rows.slice(1).map((row) => row.map(normaliseCell));
      expect(goldenDetails!.length).toBeGreaterThan(40);
      expect(normalise(ourDetails!)).toEqual(normalise(goldenDetails!));
    });

    it('flags the removal of customer_id and the string-to-date change of order_date as breaking', () => {
      const change = (path: string) => result.changes.find((candidate) => candidate.path === path);
      expect(change('schema.orders.properties.customer_id')).toMatchObject({
        kind: 'removed',
        severity: 'breaking',
      });
      expect(change('schema.orders.properties.order_date')).toMatchObject({
        kind: 'updated',
        severity: 'breaking',
      });
      expect(result.details.find((detail) => detail.path.endsWith('order_date.logicalType'))).toMatchObject({
        oldValue: 'string',
        newValue: 'date',
        severity: 'breaking',
      });
      // Additions of an optional property and of a whole object, a version bump and an SLA value are not.
      for (const path of [
        'schema.customers',
        'schema.orders.properties.region',
        'slaProperties.availability',
        'version',
        'schema.orders.properties.order_id',
      ]) {
        expect(change(path)?.severity, path).toBe('non-breaking');
      }
      expect(text.trimEnd().split('\n').at(-1)).toBe(`${result.breakingCount} breaking changes`);
    });
  },
);

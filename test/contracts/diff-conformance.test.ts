import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { diffContracts } from '../../src/contracts/diff/contract-diff.js';
import { renderContractDiff } from '../../src/contracts/diff/render-diff.js';
import { readOdcsFile } from '../../src/contracts/odcs-source.js';

// The reference fixtures live beside the repository in development only; a fresh clone has none.
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const fixtures = join(
  resolve(repoRoot, '..', 'shared'),
  'conformance',
  'datacontract-cli',
  'fixtures',
  'changelog',
);
const available = existsSync(join(fixtures, 'golden_changelog_text.txt'));
if (!available) {
  console.warn(`Skipping the contract diff conformance tests: no reference fixtures at ${fixtures}.`);
}

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

describe.skipIf(!available)('contract diff against the reference tool (datacontract-cli changelog)', () => {
  const load = (name: string) => readOdcsFile(join(fixtures, 'integration', name)).value;
  const diff = () =>
    diffContracts(load('changelog_integration_v1.yaml'), load('changelog_integration_v2.yaml'));
  const golden = () => readFileSync(join(fixtures, 'golden_changelog_text.txt'), 'utf8');

  it('counts 2 added, 5 updated and 1 removed change, as the reference summary line does', () => {
    const result = diff();
    expect(result.counts).toEqual({ added: 2, updated: 5, removed: 1 });
    const summaryLine = golden()
      .split('\n')
      .find((line) => line.startsWith('[ '));
    expect(renderContractDiff(result)).toContain(`${summaryLine!.trim()}\n`);
  });

  it('lists the same summary rows in the same order, with the same kind of change', () => {
    const [goldenSummary] = parseTables(golden());
    const [ourSummary] = parseTables(renderContractDiff(diff()));
    expect(goldenSummary![0]).toEqual(['Change', 'Field']);
    expect(ourSummary![0]).toEqual(['Change', 'Field', 'Breaking?']);
    expect(ourSummary!.slice(1).map((row) => row.slice(0, 2))).toEqual(goldenSummary!.slice(1));
  });

  it('lists the same detail rows in the same order, with the same old and new values', () => {
    const [, goldenDetails] = parseTables(golden());
    const [, ourDetails] = parseTables(renderContractDiff(diff()));
    expect(goldenDetails![0]).toEqual(['Change', 'Path', 'Old Value', 'New Value']);
    expect(ourDetails![0]).toEqual(goldenDetails![0]);
    const normalise = (rows: string[][]) => rows.slice(1).map((row) => row.map(normaliseCell));
    expect(goldenDetails!.length).toBeGreaterThan(40);
    expect(normalise(ourDetails!)).toEqual(normalise(goldenDetails!));
  });

  it('flags the removal of customer_id and the string-to-date change of order_date as breaking', () => {
    const result = diff();
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
    expect(renderContractDiff(result).trimEnd().split('\n').at(-1)).toBe(
      `${result.breakingCount} breaking changes`,
    );
  });
});

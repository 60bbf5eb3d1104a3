import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isBuilt, runCli } from '../helpers/cli-process.js';

const temp = mkdtempSync(join(tmpdir(), 'refinery-contract-lint-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

function cli(args: string[]) {
  return runCli(args, { cwd: temp, env: { REFINERY_DIR: '' } });
}

function contractFile(name: string, yaml: string): string {
  const file = join(temp, name);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, yaml);
  return file;
}

const VALID = `apiVersion: v3.1.0
kind: DataContract
id: orders
version: 1.0.0
status: active
schema:
  - name: orders
    properties:
      - name: order_id
        logicalType: string
        required: true
`;

/** `status` missing (reported on line 1) and a non-string description on line 7. */
const INVALID = `apiVersion: v3.1.0
kind: DataContract
id: orders
version: 1.0.0
schema:
  - name: orders
    description: 42
`;

/** Valid, but with a server Refinery cannot test: a warning only. */
const WITH_WARNING = `${VALID}servers:
  - server: warehouse
    type: bigquery
    project: shop
    dataset: sales
`;

describe.skipIf(!isBuilt)('refinery contract lint in a child process (needs `npm run build`)', () => {
  it('exits 0 and ticks a valid contract', async () => {
    const file = contractFile('valid.odcs.yaml', VALID);
    const result = await cli(['contract', 'lint', file]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(`✓ ${file}`);
  });

  it('exits 1 and names file, line and field for each problem of an invalid contract', async () => {
    const file = contractFile('invalid.odcs.yaml', INVALID);
    const result = await cli(['contract', 'lint', file]);
    expect(result.code).toBe(1);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`✗ ${file} (2 errors)`);
    expect(lines.slice(1)).toEqual([
      `  ${file}:1  status  \`status\` is required`,
      `  ${file}:7  schema[0].description  \`description\` must be a string, not 42`,
    ]);
  });

  it('exits 0 when a contract has warnings only, and marks them', async () => {
    const file = contractFile('warning.odcs.yaml', WITH_WARNING);
    const result = await cli(['contract', 'lint', file]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`✓ ${file} (1 warning)`);
    expect(result.stdout).toMatch(
      new RegExp(`${file}:14 {2}servers\\[0\\]\\.type {2}warning: server \`warehouse\``),
    );
  });

  it('prints one report per file as JSON with --json', async () => {
    const valid = contractFile('json/valid.odcs.yaml', VALID);
    const invalid = contractFile('json/invalid.odcs.yaml', INVALID);
    const result = await cli(['contract', 'lint', valid, invalid, '--json']);
    expect(result.code).toBe(1);
    const reports = JSON.parse(result.stdout) as unknown[];
    expect(reports).toEqual([
      { file: valid, valid: true, apiVersion: 'v3.1.0', errors: [], warnings: [] },
      {
        file: invalid,
        valid: false,
        apiVersion: 'v3.1.0',
        errors: [
          { line: 1, path: 'status', message: '`status` is required', severity: 'error' },
          {
            line: 7,
            path: 'schema[0].description',
            message: '`description` must be a string, not 42',
            severity: 'error',
          },
        ],
        warnings: [],
      },
    ]);
  });

  it('lints every YAML file in a folder', async () => {
    const folder = join(temp, 'folder');
    const valid = contractFile('folder/orders.yaml', VALID);
    const invalid = contractFile('folder/nested/broken.yml', INVALID);
    contractFile('folder/notes.txt', 'not a contract');
    const result = await cli(['contract', 'lint', folder, '--json']);
    expect(result.code).toBe(1);
    const reports = JSON.parse(result.stdout) as { file: string; valid: boolean }[];
    expect(reports.map(({ file, valid }) => ({ file, valid }))).toEqual([
      { file: invalid, valid: false },
      { file: valid, valid: true },
    ]);
  });

  it('checks against the JSON Schema given with --schema', async () => {
    const file = contractFile('extra.odcs.yaml', `${VALID}change_management:\n  process: GitOps\n`);
    const schema = join(temp, 'extra.schema.json');
    writeFileSync(
      schema,
      JSON.stringify({ type: 'object', required: ['apiVersion', 'kind', 'id'], additionalProperties: true }),
    );
    const standard = await cli(['contract', 'lint', file]);
    expect(standard.code).toBe(1);
    expect(standard.stdout).toContain('unknown top-level field `change_management`');
    const custom = await cli(['contract', 'lint', file, '--schema', schema]);
    expect(custom.code).toBe(0);
    expect(custom.stdout).toContain(`✓ ${file} (1 warning)`);
  });

  it('explains a Data Contract Specification file instead of listing schema errors', async () => {
    const file = contractFile(
      'old.datacontract.yaml',
      'dataContractSpecification: 1.2.1\nid: orders\ninfo:\n  title: Orders\n  version: 1.0.0\n',
    );
    const result = await cli(['contract', 'lint', file]);
    expect(result.code).toBe(1);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(
      `${file}:1  dataContractSpecification  this is a Data Contract Specification file`,
    );
  });

  it('fails with a clear message for a path that does not exist', async () => {
    const result = await cli(['contract', 'lint', join(temp, 'missing.yaml')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('REFINERY_ERR_CONTRACT_NOT_FOUND');
  });
});

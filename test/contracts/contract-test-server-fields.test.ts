import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isBuilt, runCli } from '../helpers/cli-process.js';

/*
 * `refinery contract test` once refused a contract whose `local` server had a `delimiter` (ODCS v3.1 does not
 * define one there; v3.0 left server entries open and datacontract-cli reads them). Driven through the CLI,
 * where the refusal was; needs the build.
 */

const temp = mkdtempSync(join(tmpdir(), 'refinery-server-fields-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

function contract(server: string): string {
  return `apiVersion: v3.1.0
kind: DataContract
id: notes
version: 1.0.0
status: active
servers:
${server}
schema:
  - name: notes
    properties:
      - name: id
        logicalType: integer
        required: true
        unique: true
      - name: note
        logicalType: string
        required: true
`;
}

const TILDE_SERVER = `  - server: files
    type: local
    format: csv
    path: ./notes.csv
    delimiter: "~"`;

function cli(args: string[]) {
  return runCli(args, { cwd: temp, env: { REFINERY_DIR: '' } });
}

async function testContract(file: string, text: string) {
  writeFileSync(join(temp, file), text);
  const run = await cli(['contract', 'test', file, '--server', 'files', '--json']);
  return { ...run, report: run.stdout ? (JSON.parse(run.stdout) as Record<string, unknown>) : null };
}

describe.skipIf(!isBuilt)('refinery contract test on servers with fields ODCS v3.1 does not define', () => {
  beforeAll(() => {
    // A separator DuckDB's sniffer does not try (it tries , | ; and tab): read right only when declared.
    writeFileSync(join(temp, 'notes.csv'), 'id~note\n1~a;b\n2~c,d\n');
    writeFileSync(join(temp, 'notes.tsv'), 'id\tnote\n1\ta;b\n2\tc;d\n');
    writeFileSync(join(temp, 'notes.json'), '[{"id":1,"note":"a"},{"id":2,"note":"b"}]');
  });

  it('tests a local csv server with a delimiter, and reads the file by that delimiter', async () => {
    const { code, stderr, report } = await testContract('tilde.odcs.yaml', contract(TILDE_SERVER));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(report?.result).toBe('passed');
  });

  it('would read the same file wrongly without the delimiter (so the one above was honoured)', async () => {
    const { code, report } = await testContract(
      'sniffed.odcs.yaml',
      contract(TILDE_SERVER.replace('\n    delimiter: "~"', '')),
    );
    expect(code).toBe(1);
    expect(report?.result).toBe('failed');
  });

  it('takes "tab" for a tab, and reads a json array with delimiter: array', async () => {
    const tab = await testContract(
      'tab.odcs.yaml',
      contract(TILDE_SERVER.replace('./notes.csv', './notes.tsv').replace('"~"', 'tab')),
    );
    expect(tab.code, tab.stderr).toBe(0);
    const array = await testContract(
      'array.odcs.yaml',
      contract(
        TILDE_SERVER.replace('format: csv', 'format: json')
          .replace('./notes.csv', './notes.json')
          .replace('"~"', 'array'),
      ),
    );
    expect(array.code, array.stderr).toBe(0);
    expect(array.report?.result).toBe('passed');
  });

  it('refuses a csv delimiter it cannot use with exit 3 and a stable code, instead of guessing', async () => {
    const { code, stderr } = await testContract(
      'double.odcs.yaml',
      contract(TILDE_SERVER.replace('"~"', '"||"')),
    );
    expect(code).toBe(3);
    expect(stderr).toContain('REFINERY_ERR_CONTRACT_SERVER');
  });

  it('still refuses, with exit 3, a server that lacks what its type needs', async () => {
    const { code, stderr } = await testContract(
      'no-path.odcs.yaml',
      contract(TILDE_SERVER.replace('\n    path: ./notes.csv', '')),
    );
    expect(code).toBe(3);
    expect(stderr).toContain('a `local` server needs `path`');
  });

  it('leaves refinery contract lint reporting the field as the standard does', async () => {
    writeFileSync(join(temp, 'lint.odcs.yaml'), contract(TILDE_SERVER));
    const run = await cli(['contract', 'lint', 'lint.odcs.yaml', '--json']);
    expect(run.code).toBe(1);
    const [report] = JSON.parse(run.stdout) as { errors: { path: string }[] }[];
    expect(report?.errors.map((finding) => finding.path)).toEqual(['servers[0].delimiter']);
  });
});

import { readFileSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { type LintFinding, type LintReport, lintContractFile } from '../../contracts/lint/lint-contract.js';
import { contractFilesIn } from '../../contracts/load-contracts.js';
import { RefineryError } from '../../core/errors.js';
import { printJson } from '../output.js';

/** `refinery contract lint <files...>`: ODCS schema and Refinery checks, every finding with its line. */
export function registerContractLintCommand(contract: Command): void {
  contract
    .command('lint <files...>')
    .description('check ODCS v3 contract files (or folders of them) and report every problem with its line')
    .option('--schema <file>', 'check against this JSON Schema instead of the built-in ODCS v3 schema')
    .option('--json', 'print the reports as a JSON array')
    .action((paths: string[], options: { schema?: string; json?: boolean }) => {
      const customSchema = options.schema ? readSchemaFile(options.schema) : undefined;
      const reports = contractFiles(paths).map((file) =>
        lintContractFile(file, customSchema ? { customSchema } : {}),
      );
      if (options.json) printJson(reports);
      else printReports(reports);
      if (reports.some((report) => !report.valid)) process.exitCode = 1;
    });
}

/** The files to lint: each file as given, and the `*.yaml`/`*.yml` files under each folder. */
function contractFiles(paths: readonly string[]): string[] {
  return paths.flatMap((path) => {
    let isFolder: boolean;
    try {
      isFolder = statSync(path).isDirectory();
    } catch (problem) {
      throw new RefineryError(
        'REFINERY_ERR_CONTRACT_NOT_FOUND',
        `No file or folder ${path}.`,
        { field: path },
        {
          cause: problem,
        },
      );
    }
    if (!isFolder) return [path];
    const files = contractFilesIn(path);
    if (files.length === 0) {
      throw new RefineryError('REFINERY_ERR_CONTRACT_NOT_FOUND', `No .yaml or .yml files in ${path}.`, {
        field: path,
      });
    }
    return files;
  });
}

function readSchemaFile(file: string): object {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (problem) {
    throw new RefineryError(
      'REFINERY_ERR_INVALID_FIELD',
      `Cannot use ${file} as --schema: ${(problem as Error).message}`,
      { field: 'schema' },
      { cause: problem },
    );
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new RefineryError('REFINERY_ERR_INVALID_FIELD', `${file} does not hold a JSON Schema object.`, {
      field: 'schema',
    });
  }
  return parsed;
}

function printReports(reports: readonly LintReport[]): void {
  for (const report of reports) {
    const counts = [
      report.errors.length > 0 ? plural(report.errors.length, 'error') : '',
      report.warnings.length > 0 ? plural(report.warnings.length, 'warning') : '',
    ].filter(Boolean);
    console.log(
      `${report.valid ? '✓' : '✗'} ${report.file}${counts.length > 0 ? ` (${counts.join(', ')})` : ''}`,
    );
    const findings = [...report.errors, ...report.warnings].sort((a, b) => a.line - b.line);
    for (const finding of findings) console.log(`  ${formatFinding(report.file, finding)}`);
  }
  if (reports.length > 1) {
    const failed = reports.filter((report) => !report.valid).length;
    console.error(
      `${plural(reports.length, 'file')}: ${reports.length - failed} valid, ${failed} with errors`,
    );
  }
}

/** `file:LINE  path  message`, warnings marked. */
function formatFinding(file: string, finding: LintFinding): string {
  const parts = [`${file}:${finding.line}`];
  if (finding.path) parts.push(finding.path);
  parts.push(finding.severity === 'warning' ? `warning: ${finding.message}` : finding.message);
  return parts.join('  ');
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

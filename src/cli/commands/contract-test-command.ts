import { existsSync, statSync } from 'node:fs';
import { basename, extname, join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import type { Contract } from '../../contracts/contract-model.js';
import { contractFilesIn, loadContractFile } from '../../contracts/load-contracts.js';
import { readOdcsFile } from '../../contracts/odcs-source.js';
import { type ContractTestReport, exitCodeOf } from '../../contracts/testing/check-result.js';
import { renderTestReport } from '../../contracts/testing/render-test-report.js';
import { runContractTest } from '../../contracts/testing/run-contract-test.js';
import { isRefineryError, RefineryError } from '../../core/errors.js';
import { workspaceDir, workspaceTarget } from '../main.js';
import { printJson } from '../output.js';
import { withWorkspaceAccess } from '../workspace-access.js';

interface ContractTestCommandOptions {
  server?: string;
  filter?: string;
  json?: boolean;
  base?: string;
  strict?: boolean;
}

/**
 * `refinery contract test <contract>`: runs a contract's schema, quality and SLA checks against a local
 * server's files (`--server`) or the workspace's stored data. Exit code 0 passed (warnings and skipped checks
 * allowed), 1 failed, 3 the test could not run, so it can gate a pipeline.
 */
export function registerContractTestCommand(contract: Command, program: Command): void {
  contract
    .command('test <contract>')
    .description(
      "test data against a contract (a file, or a file name or id in contracts/): a server's files with --server, else the workspace's stored events and datasets",
    )
    .option('--server <name>', "test the files of this entry of the contract's servers (type: local)")
    .option('--filter <sql>', 'test only the rows matching this SQL condition, e.g. "order_id <= 2"')
    .option('--base <dir>', 'folder relative server paths resolve against (default: the current folder)')
    .option('--strict', 'report text and custom quality rules, which Refinery cannot run, as warnings')
    .option('--json', 'print the report as JSON')
    .action(async (reference: string, options: ContractTestCommandOptions) => {
      try {
        const report = await testContract(reference, options, program.opts());
        if (options.json) printJson(report);
        else process.stdout.write(renderTestReport(report));
        process.exitCode = exitCodeOf(report.result);
      } catch (error) {
        if (!isRefineryError(error)) throw error;
        // Not being able to test is its own outcome (3): a pipeline must not read it as "data is bad".
        if (options.json) printJson({ result: 'error', error: error.toJSON() });
        process.stderr.write(`refinery: ${error.message}\n  (${error.code})\n`);
        process.exitCode = 3;
      }
    });
}

async function testContract(
  reference: string,
  options: ContractTestCommandOptions,
  global: { dir?: string; store?: string },
): Promise<ContractTestReport> {
  const contract = loadContract(reference, global);
  const run = {
    filter: options.filter,
    strict: options.strict === true,
    base: resolve(options.base ?? process.cwd()),
  };
  if (options.server !== undefined) return runContractTest(contract, { ...run, server: options.server });
  return withWorkspaceAccess(workspaceTarget(global), (access) =>
    runContractTest(contract, { ...run, query: (sql) => access.query(sql) }),
  );
}

/** A contract file as given, else a file name (with or without extension) or contract id in `contracts/`. */
function loadContract(reference: string, global: { dir?: string }): Contract {
  if (existsSync(reference) && statSync(reference).isFile()) return loadContractFile(reference);
  const workspace = workspaceDir(global);
  const folder = join(workspace, 'contracts');
  const files = contractFilesIn(folder);
  const byName = files.find((file) => {
    const name = relative(folder, file);
    return (
      name === reference || name.slice(0, -extname(name).length) === reference || basename(file) === reference
    );
  });
  const file = byName ?? files.find((candidate) => contractIdOf(candidate) === reference);
  if (!file) {
    throw new RefineryError(
      'REFINERY_ERR_CONTRACT_NOT_FOUND',
      `No contract "${reference}": it is not a file, nor a file name or contract id in ${folder}.`,
      { field: 'contract' },
    );
  }
  return loadContractFile(file, relative(workspace, file));
}

function contractIdOf(file: string): string | null {
  try {
    const value = readOdcsFile(file).value as { id?: unknown } | null;
    return typeof value?.id === 'string' ? value.id : null;
  } catch {
    return null;
  }
}

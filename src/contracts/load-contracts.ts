import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { UndeclaredEventPolicy } from '../config/workspace-config.js';
import { isRefineryError, RefineryError } from '../core/errors.js';
import { type Contract, readContract } from './contract-model.js';
import { ContractSet } from './contract-set.js';
import { lintContractSource } from './lint/lint-contract.js';
import { readOdcsFile } from './odcs-source.js';

/** Contract files in a workspace's `contracts/` folder (sub-folders included), sorted for stable output. */
export function contractFilesIn(folder: string): string[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder, { recursive: true, encoding: 'utf8' })
    .filter((name) => /\.ya?ml$/i.test(name))
    .map((name) => join(folder, name))
    .filter((file) => statSync(file).isFile())
    .sort();
}

/** A fingerprint of the folder's files (names, sizes, times), cheap enough to poll for changes. */
export function contractFolderFingerprint(folder: string): string {
  return contractFilesIn(folder)
    .map((file) => {
      const stat = statSync(file);
      return `${file}:${stat.size}:${stat.mtimeMs}`;
    })
    .join('|');
}

/** Reads, lints and compiles one contract file; throws a RefineryError naming file and line. */
export function loadContractFile(file: string, displayName = file): Contract {
  const named = readOdcsFile(file, displayName);
  // A server field ODCS v3.1 does not define (a `delimiter` on a `local` server) is no reason to refuse a
  // contract that v3.0 and datacontract-cli accept; `refinery contract lint` still reports it.
  const report = lintContractSource(named, { undefinedServerFields: 'warning' });
  const first = report.errors[0];
  if (first) {
    const more =
      report.errors.length > 1 ? ` (and ${report.errors.length - 1} more; run refinery contract lint)` : '';
    throw new RefineryError(
      'REFINERY_ERR_CONTRACT_INVALID',
      `${displayName}:${first.line}: ${first.path ? `${first.path}: ` : ''}${first.message}${more}`,
      { field: first.path, line: first.line, file: displayName },
    );
  }
  return readContract(named);
}

/**
 * Loads every contract of a workspace into one compiled set. Any invalid file or conflict fails the
 * whole load: enforcing half a folder would quarantine or pass events by accident.
 */
export function loadContractSet(workspaceRoot: string, undeclared: UndeclaredEventPolicy): ContractSet {
  const folder = join(workspaceRoot, 'contracts');
  const contracts: Contract[] = [];
  for (const file of contractFilesIn(folder)) {
    try {
      contracts.push(loadContractFile(file, relative(workspaceRoot, file)));
    } catch (error) {
      if (isRefineryError(error)) throw error;
      throw new RefineryError(
        'REFINERY_ERR_CONTRACT_INVALID',
        `${relative(workspaceRoot, file)}: ${String(error)}`,
        {
          field: relative(workspaceRoot, file),
        },
      );
    }
  }
  return new ContractSet(contracts, undeclared);
}

import type { Command } from 'commander';
import { readContract } from '../../contracts/contract-model.js';
import { diffContracts } from '../../contracts/diff/contract-diff.js';
import { renderContractDiff } from '../../contracts/diff/render-diff.js';
import { type OdcsSource, readOdcsFile } from '../../contracts/odcs-source.js';
import { printJson } from '../output.js';

/** `refinery contract diff OLD NEW`: what changed between two versions of a contract; exit 1 when breaking. */
export function registerContractDiffCommand(contract: Command): void {
  contract
    .command('diff <old> <new>')
    .description(
      'compare two versions of an ODCS contract file; exits 1 when a change is breaking, so CI can gate on it',
    )
    .option('--json', 'print {counts, breakingCount, changes, details} as JSON')
    .action((oldFile: string, newFile: string, options: { json?: boolean }) => {
      const before = readOdcsFileForDiff(oldFile);
      const after = readOdcsFileForDiff(newFile);
      const diff = diffContracts(before.value, after.value);
      if (options.json) printJson(diff);
      else process.stdout.write(renderContractDiff(diff));
      if (diff.breakingCount > 0) process.exitCode = 1;
    });
}

/**
 * Reads a contract to compare. A file that is no mapping, or one in the older Data Contract Specification
 * format, is refused with the model's clear error; anything else is compared as it is, so a diff still
 * works on a contract Refinery could not act on.
 */
function readOdcsFileForDiff(file: string): OdcsSource {
  const source = readOdcsFile(file);
  const root = source.value;
  if (
    root === null ||
    typeof root !== 'object' ||
    Array.isArray(root) ||
    'dataContractSpecification' in root
  ) {
    readContract(source);
  }
  return source;
}

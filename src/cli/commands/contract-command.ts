import type { Command } from 'commander';
import { workspaceTarget } from '../main.js';
import { printJson, printTable } from '../output.js';
import { withWorkspaceAccess } from '../workspace-access.js';
import { registerContractDiffCommand } from './contract-diff-command.js';
import { registerContractInferCommand } from './contract-infer-command.js';
import { registerContractLintCommand } from './contract-lint-command.js';
import { registerContractTestCommand } from './contract-test-command.js';

/** `refinery contract …`: list, lint, test, diff and infer ODCS data contracts. */
export function registerContractCommand(program: Command): void {
  const contract = program
    .command('contract')
    .description('data contracts (ODCS v3) in contracts/: list, lint, test, diff, infer');
  contract
    .command('list')
    .description('the contracts in force and what each governs, with its mode')
    .option('--json', 'print as JSON')
    .action(async (options: { json?: boolean }) => {
      await withWorkspaceAccess(workspaceTarget(program.opts()), async (access) => {
        const overview = await access.contracts();
        if (options.json) {
          printJson(overview);
          return;
        }
        console.log(`undeclared events: ${overview.undeclared}`);
        if (overview.load?.error) console.log(`last reload refused: ${overview.load.error.message}`);
        printTable(
          overview.contracts.flatMap((c) =>
            c.governs.map((g) => ({
              contract: c.id,
              version: c.version,
              file: c.file,
              kind: g.kind,
              governs: g.target ?? `every ${g.kind}`,
              mode: g.mode,
              properties: `${g.properties} (${g.requiredProperties} required)`,
            })),
          ),
        );
      });
    });
  registerContractLintCommand(contract);
  registerContractTestCommand(contract, program);
  registerContractDiffCommand(contract);
  registerContractInferCommand(contract, program);
}

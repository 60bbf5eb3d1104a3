import type { Command } from 'commander';
import { workspaceTarget } from '../main.js';
import { printJson, printTable } from '../output.js';
import { withWorkspaceAccess } from '../workspace-access.js';

export function registerQueryCommand(program: Command): void {
  program
    .command('query <sql>')
    .description('run one read-only SELECT over the public views (events, orders, customers, products, …)')
    .option('--json', 'print {columns, rows, truncated} as JSON')
    .action(async (sql: string, options: { json?: boolean }) => {
      await withWorkspaceAccess(workspaceTarget(program.opts()), async (access) => {
        const result = await access.query(sql);
        if (options.json) printJson(result);
        else {
          printTable(
            result.rows,
            result.columns.map((c) => c.name),
          );
          console.error(
            `(${result.rows.length} row${result.rows.length === 1 ? '' : 's'}${result.truncated ? ', truncated' : ''})`,
          );
        }
      });
    });
}

import { resolve } from 'node:path';
import type { Command } from 'commander';
import { initWorkspace } from '../../workspace/init-workspace.js';
import { printJson } from '../output.js';

export function registerInitCommand(program: Command): void {
  program
    .command('init [dir]')
    .description('create a workspace: refinery.yaml and data/')
    .option('--name <name>', 'workspace name (default: the folder name)')
    .option('--force', 'replace an existing refinery.yaml')
    .option('--json', 'print the result as JSON')
    .action((dir: string | undefined, options: { name?: string; force?: boolean; json?: boolean }) => {
      const target = resolve(dir ?? program.opts<{ dir?: string }>().dir ?? '.');
      const result = initWorkspace(target, {
        ...(options.name ? { name: options.name } : {}),
        ...(options.force ? { force: true } : {}),
      });
      if (options.json) printJson(result);
      else {
        console.log(`Created ${result.configFile}`);
        console.log(
          `Next: refinery serve --dir ${target}   (then: refinery keys create --kind write --dir ${target})`,
        );
      }
    });
}

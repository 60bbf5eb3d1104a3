import type { Command } from 'commander';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('build a synthetic bakery, ingest it through the real paths, and serve the dashboard');
}

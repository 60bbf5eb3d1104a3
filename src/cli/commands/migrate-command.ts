import type { Command } from 'commander';
import { RefineryError } from '../../core/errors.js';
import { migrateWorkspace, redact } from '../../migrate/migrate-workspace.js';
import { switchStoreUrl } from '../../migrate/switch-store.js';
import { workspaceDir } from '../main.js';
import { printJson, printTable, progressBar } from '../output.js';

export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description("copy the workspace's DuckDB data into ClickHouse (stop the server first)")
    .requiredOption('--to <engine>', 'clickhouse')
    .requiredOption('--url <url>', 'the ClickHouse store, e.g. clickhouse://127.0.0.1:8123/shop')
    .option('--switch', 'afterwards, set store.url in refinery.yaml to the new store')
    .option('--json', 'print the report as JSON')
    .action(async (options: { to: string; url: string; switch?: boolean; json?: boolean }) => {
      if (options.to !== 'clickhouse') program.error('--to must be clickhouse', { exitCode: 2 });
      const dir = workspaceDir(program.opts());
      const bar = progressBar('Migrating', !options.json);
      let report: Awaited<ReturnType<typeof migrateWorkspace>>;
      try {
        report = await migrateWorkspace({
          dir,
          url: options.url,
          onProgress: (progress) => bar.update(progress.fraction, progress.table),
        });
      } finally {
        bar.stop();
      }
      const switched = report.ok && options.switch ? switchStoreUrl(dir, options.url) : undefined;
      if (options.json) {
        printJson({ ...report, ...(switched ? { switched } : {}) });
      } else {
        console.log(`Copied ${report.from} into ${report.to}.`);
        printTable(
          report.checks.map((check) => ({
            relation: check.relation,
            duckdb: check.source,
            clickhouse: check.target,
            check: check.ok ? 'ok' : 'DIFFERS',
          })),
        );
      }
      if (!report.ok) {
        const differing = report.checks.filter((check) => !check.ok);
        throw new RefineryError(
          'REFINERY_ERR_MIGRATE_COUNTS_DIFFER',
          `The count check failed for ${differing
            .map((check) => `${check.relation} (DuckDB ${check.source}, ClickHouse ${check.target})`)
            .join(', ')}. refinery.yaml was left unchanged.`,
          { checks: differing },
        );
      }
      if (options.json) return;
      if (switched) {
        console.log(`refinery.yaml now uses ${redact(options.url)}; start the server as usual.`);
      } else {
        console.log('To use ClickHouse from now on, set the store in refinery.yaml:');
        console.log('  store:');
        console.log(`    url: ${options.url}`);
        console.log(
          'or run this command again with --switch (or pass --store to each command to try it first).',
        );
      }
    });
}

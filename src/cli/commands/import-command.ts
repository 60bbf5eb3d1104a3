import { resolve } from 'node:path';
import type { Command } from 'commander';
import { IMPORT_TARGETS, type ImportTarget } from '../../store/import-types.js';
import { workspaceTarget } from '../main.js';
import { printJson, printTable, progressBar } from '../output.js';
import { openWorkspaceAccess } from '../workspace-access.js';

export function registerImportCommand(program: Command): void {
  program
    .command('import <file>')
    .description(
      'import a CSV/TSV/NDJSON/JSON/Parquet file (gzip too) as events, orders, customers or products',
    )
    .requiredOption('--as <target>', IMPORT_TARGETS.join(' | '))
    .option(
      '--map <col=field...>',
      'file column → target field (repeatable); other columns are matched by name',
    )
    .option('--format <format>', 'csv | tsv | ndjson | json | parquet (default: from the extension)')
    .option('--json', 'print the report as JSON')
    .action(
      async (file: string, options: { as: string; map?: string[]; format?: string; json?: boolean }) => {
        if (!(IMPORT_TARGETS as readonly string[]).includes(options.as)) {
          program.error(`--as must be one of ${IMPORT_TARGETS.join(', ')}`, { exitCode: 2 });
        }
        const access = await openWorkspaceAccess(workspaceTarget(program.opts()));
        const bar = progressBar(`Importing ${file}`, !options.json);
        try {
          const report = await access.importFile(
            {
              file: resolve(file),
              target: options.as as ImportTarget,
              ...(options.format ? { format: options.format } : {}),
              map: options.map ?? [],
            },
            (progress) => bar.update(progress.fraction, progress.phase),
          );
          bar.stop();
          if (options.json) printJson(report);
          else {
            console.log(
              `Imported ${report.imported} of ${report.rowsRead} rows into ${report.target}; ${report.rejected} rejected (import ${report.importId}).`,
            );
            if (report.sampleRejects.length > 0) {
              console.log('Rejected rows (all are in the import_rejects table):');
              printTable(
                report.sampleRejects.map((r) => ({ line: r.line, field: r.field, reason: r.reason })),
              );
            }
          }
          if (report.rejected > 0) process.exitCode = 3;
        } finally {
          bar.stop();
          await access.close();
        }
      },
    );
}

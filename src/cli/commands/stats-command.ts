import type { Command } from 'commander';
import { workspaceTarget } from '../main.js';
import { printJson, printTable } from '../output.js';
import { withWorkspaceAccess } from '../workspace-access.js';

interface Stats {
  workspace: string;
  store: { engine: string };
  events: { total: number; rejected: number };
  ingest?: { acceptedTotal: number; eventsPerSecond: number };
  loader?: {
    lagEvents: number;
    lagSeconds: number;
    pendingSegments: number;
    walBytes: number;
    lastError: string | null;
  };
  server: { url: string; pid: number } | null;
  bySource: { name: string; count: number }[];
}

export function registerStatsCommand(program: Command): void {
  program
    .command('stats')
    .description('event counts, and with a running server its ingest rate and loader lag')
    .option('--json', 'print as JSON')
    .action(async (options: { json?: boolean }) => {
      await withWorkspaceAccess(workspaceTarget(program.opts()), async (access) => {
        const stats = (await access.stats()) as unknown as Stats;
        if (options.json) {
          printJson(stats);
          return;
        }
        console.log(`${stats.workspace} (${stats.store.engine})`);
        console.log(`  events     ${stats.events.total} stored, ${stats.events.rejected} rejected`);
        if (stats.server && stats.ingest && stats.loader) {
          console.log(`  server     ${stats.server.url} (pid ${stats.server.pid})`);
          console.log(
            `  ingest     ${stats.ingest.eventsPerSecond.toFixed(1)} events/s now, ${stats.ingest.acceptedTotal} accepted since start`,
          );
          console.log(
            `  loader     ${stats.loader.lagEvents} events behind (${stats.loader.lagSeconds.toFixed(1)} s, ${stats.loader.pendingSegments} segments, ${stats.loader.walBytes} bytes in the log)${stats.loader.lastError ? `; last error: ${stats.loader.lastError}` : ''}`,
          );
        } else {
          console.log('  server     not running');
        }
        if (stats.bySource.length > 0)
          printTable(stats.bySource.map((s) => ({ source: s.name, events: s.count })));
      });
    });
}

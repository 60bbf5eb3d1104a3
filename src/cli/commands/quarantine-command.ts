import { readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { withoutStatus } from '../../contracts/quarantine-rows.js';
import { RefineryError } from '../../core/errors.js';
import type { QuarantineFilter } from '../../store/store.js';
import { workspaceTarget } from '../main.js';
import { printJson, printTable } from '../output.js';
import { withWorkspaceAccess } from '../workspace-access.js';

interface FilterOptions {
  status?: string;
  contract?: string;
  event?: string;
  type?: string;
  rule?: string;
  source?: string;
  from?: string;
  to?: string;
}

function withFilterOptions(command: Command, statusDefault?: string): Command {
  return command
    .addOption(
      new Option('--status <status>', 'held, replayed or discarded')
        .choices(['held', 'replayed', 'discarded'])
        .default(statusDefault),
    )
    .option('--contract <id>', 'held by this contract')
    .option('--event <name>', 'track event name, or page/screen name')
    .option('--type <type>', 'call type: track, identify, page, …')
    .option('--rule <rule>', 'held for a violation of this rule (required, validValues, undeclared, …)')
    .option('--source <name>', 'from this source')
    .option('--from <time>', 'received at or after (ISO 8601)')
    .option('--to <time>', 'received before (ISO 8601)');
}

function filterOf(options: FilterOptions, ids: readonly string[] = []): QuarantineFilter {
  const filter: Record<string, unknown> = {};
  for (const key of ['status', 'contract', 'event', 'type', 'rule', 'source'] as const) {
    if (options[key]) filter[key] = options[key];
  }
  for (const key of ['from', 'to'] as const) {
    const value = options[key];
    if (!value) continue;
    const date = new Date(value);
    if (Number.isNaN(date.getTime())) {
      throw new RefineryError('REFINERY_ERR_INVALID_FIELD', `--${key} must be an ISO 8601 date-time.`, {
        field: key,
      });
    }
    filter[key] = date;
  }
  if (ids.length > 0) filter.ids = [...ids];
  return filter as QuarantineFilter;
}

/**
 * Every decision names its events: ids, a filter, or --all. A bare `replay` must not touch everything.
 * `filter` is a decision's, without a status: decisions apply to held events whatever --status says.
 */
function assertSelection(filter: QuarantineFilter, all: boolean | undefined, verb: string): void {
  if (Object.keys(filter).length === 0 && !all) {
    throw new RefineryError(
      'REFINERY_ERR_MISSING_FIELD',
      `Say which events to ${verb}: ids, a filter such as --contract or --event, or --all.`,
      { field: 'ids' },
    );
  }
}

/** `refinery quarantine list|show|replay|discard|export`. */
export function registerQuarantineCommand(program: Command): void {
  const quarantine = program
    .command('quarantine')
    .description('events held back by enforced contracts: browse, export, replay after a fix, or discard');

  withFilterOptions(quarantine.command('list').description('quarantined events, newest first'), 'held')
    .option('--limit <n>', 'how many', '50')
    .option('--offset <n>', 'skip this many', '0')
    .option('--json', 'print as JSON')
    .action(async (options: FilterOptions & { limit: string; offset: string; json?: boolean }) => {
      await withWorkspaceAccess(workspaceTarget(program.opts()), async (access) => {
        const page = await access.listQuarantined(filterOf(options), {
          limit: Number(options.limit) || 50,
          offset: Number(options.offset) || 0,
        });
        if (options.json) {
          printJson(page);
          return;
        }
        printTable(
          page.items.map((item) => ({
            id: item.id,
            received: item.receivedAt,
            event: item.event ?? item.type,
            contract: item.contract ?? '(undeclared)',
            status: item.status,
            violations: item.violations.map((v) => `${v.path} ${v.rule}`).join('; '),
          })),
        );
        console.error(page.counts.map((c) => `${c.count} ${c.status}`).join(', ') || 'quarantine is empty');
      });
    });

  quarantine
    .command('show <id>')
    .description('one quarantined event: payload and every violation')
    .option('--json', 'print as JSON')
    .action(async (id: string, options: { json?: boolean }) => {
      await withWorkspaceAccess(workspaceTarget(program.opts()), async (access) => {
        const item = await access.getQuarantined(id);
        if (options.json) {
          printJson(item);
          return;
        }
        console.log(
          `${item.id}  ${item.type} ${item.event ?? ''}  received ${item.receivedAt} from ${item.source}`,
        );
        console.log(
          `contract ${item.contract ?? '(none: undeclared)'} ${item.contractVersion ?? ''}  status ${item.status}${item.statusAt ? ` (${item.statusAt} by ${item.statusBy})` : ''}`,
        );
        printTable(
          item.violations.map((v) => ({
            path: v.path,
            rule: v.rule,
            message: v.message,
            value: v.value ?? '',
          })),
        );
        console.log(JSON.stringify(item.payload, null, 2));
      });
    });

  withFilterOptions(
    quarantine
      .command('replay [ids...]')
      .description('re-check held events against the contracts now in force; store those that pass'),
  )
    .option('--all', 'every held event')
    .option(
      '--from-file <file>',
      'replay corrected payloads: NDJSON lines {id, payload} (as `quarantine export` writes)',
    )
    .option('--force', 'store even events that still fail (they are flagged)')
    .option('--dry-run', 'only report what would happen')
    .option('--json', 'print as JSON')
    .action(
      async (
        ids: string[],
        options: FilterOptions & {
          all?: boolean;
          fromFile?: string;
          force?: boolean;
          dryRun?: boolean;
          json?: boolean;
        },
      ) => {
        const fixes = options.fromFile ? readFixes(options.fromFile) : undefined;
        const selected = fixes && ids.length === 0 ? [...fixes.keys()] : ids;
        const filter = withoutStatus(filterOf(options, selected));
        assertSelection(filter, options.all, 'replay');
        await withWorkspaceAccess(workspaceTarget(program.opts()), async (access) => {
          const report = await access.replayQuarantined({
            filter,
            force: options.force === true,
            dryRun: options.dryRun === true,
            ...(fixes ? { fixes } : {}),
          });
          if (options.json) printJson(report);
          else {
            console.log(
              `${report.dryRun ? 'dry run: ' : ''}${report.selected} held selected, ${report.replayed} replayed${report.alreadyStored ? ` (${report.alreadyStored} were already stored)` : ''}, ${report.stillFailing.length} still failing`,
            );
            for (const failing of report.stillFailing.slice(0, 20)) {
              console.log(
                `  ${failing.id}: ${failing.violations.map((v) => `${v.path} ${v.message}`).join('; ')}`,
              );
            }
          }
          if (report.stillFailing.length > 0) process.exitCode = 1;
        });
      },
    );

  withFilterOptions(
    quarantine
      .command('discard [ids...]')
      .description('mark held events discarded (kept on record, never stored)'),
  )
    .option('--all', 'every held event')
    .option('--json', 'print as JSON')
    .action(async (ids: string[], options: FilterOptions & { all?: boolean; json?: boolean }) => {
      const filter = withoutStatus(filterOf(options, ids));
      assertSelection(filter, options.all, 'discard');
      await withWorkspaceAccess(workspaceTarget(program.opts()), async (access) => {
        const report = await access.discardQuarantined({ filter });
        if (options.json) printJson(report);
        else console.log(`${report.discarded} discarded`);
      });
    });

  withFilterOptions(
    quarantine.command('export').description('write selected events with payloads to stdout'),
    'held',
  )
    .addOption(new Option('--format <format>', 'ndjson or csv').choices(['ndjson', 'csv']).default('ndjson'))
    .action(async (options: FilterOptions & { format: 'ndjson' | 'csv' }) => {
      await withWorkspaceAccess(workspaceTarget(program.opts()), async (access) => {
        for await (const chunk of access.exportQuarantined(filterOf(options), options.format))
          process.stdout.write(chunk);
      });
    });
}

function readFixes(file: string): Map<string, Record<string, unknown>> {
  const fixes = new Map<string, Record<string, unknown>>();
  const lines = readFileSync(file, 'utf8').split('\n');
  for (const [index, line] of lines.entries()) {
    if (!line.trim()) continue;
    let record: { id?: unknown; payload?: unknown };
    try {
      record = JSON.parse(line);
    } catch {
      throw new RefineryError('REFINERY_ERR_INVALID_FIELD', `${file}:${index + 1}: not valid JSON.`, {
        field: `${file}:${index + 1}`,
      });
    }
    if (typeof record.id !== 'string' || !record.payload || typeof record.payload !== 'object') {
      throw new RefineryError(
        'REFINERY_ERR_INVALID_FIELD',
        `${file}:${index + 1}: each line needs "id" and a "payload" object.`,
        {
          field: `${file}:${index + 1}`,
        },
      );
    }
    fixes.set(record.id, record.payload as Record<string, unknown>);
  }
  return fixes;
}

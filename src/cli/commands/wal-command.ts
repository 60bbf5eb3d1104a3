import { readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { RefineryError } from '../../core/errors.js';
import type { DamagedLineStatus } from '../../store/wal-format.js';
import { withDamagedLinesAccess } from '../damaged-lines-access.js';
import { workspaceTarget } from '../main.js';
import { printJson, printTable } from '../output.js';

/** `refinery wal damaged list|show|replay|discard`. */
export function registerWalCommand(program: Command): void {
  const wal = program.command('wal').description('the write-ahead log of collected events');
  const damaged = wal
    .command('damaged')
    .description(
      'log lines the loader set aside instead of loading: list, show, replay after a fix, discard',
    );

  damaged
    .command('list')
    .description('set-aside lines, oldest first, with why each was set aside')
    .addOption(
      new Option('--status <status>', 'held, replayed or discarded')
        .choices(['held', 'replayed', 'discarded'])
        .default('held'),
    )
    .option('--limit <n>', 'how many', '50')
    .option('--offset <n>', 'skip this many', '0')
    .option('--json', 'print as JSON')
    .action(async (options: { status: DamagedLineStatus; limit: string; offset: string; json?: boolean }) => {
      await withDamagedLinesAccess(workspaceTarget(program.opts()), async (access) => {
        const page = await access.list({
          status: options.status,
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
            damage: item.damage,
            reason: item.reason,
            status: item.status,
            found: item.foundAt,
            text: item.text,
          })),
        );
        console.error(page.counts.map((c) => `${c.count} ${c.status}`).join(', ') || 'no line was set aside');
      });
    });

  damaged
    .command('show <id>')
    .description('one set-aside line: why, and its text')
    .option('--json', 'print as JSON (with the exact bytes, base64)')
    .action(async (id: string, options: { json?: boolean }) => {
      await withDamagedLinesAccess(workspaceTarget(program.opts()), async (access) => {
        const item = await access.show(id);
        if (options.json) {
          printJson(item);
          return;
        }
        console.log(`${item.id}  ${item.damage}  ${item.status}  found ${item.foundAt}  ${item.bytes} bytes`);
        console.log(item.reason);
        console.log(item.text);
      });
    });

  damaged
    .command('replay <id>')
    .description('check a set-aside line again and load it (as stored, or corrected with --line-file)')
    .option('--line-file <file>', 'a file holding the corrected log record (one JSON object)')
    .option('--json', 'print as JSON')
    .action(async (id: string, options: { lineFile?: string; json?: boolean }) => {
      const corrected = options.lineFile ? readCorrectedLine(options.lineFile) : undefined;
      await withDamagedLinesAccess(workspaceTarget(program.opts()), async (access) => {
        const item = await access.replay(id, corrected);
        if (options.json) printJson(item);
        else console.log(`${item.id} ${item.status}`);
      });
    });

  damaged
    .command('discard <id>')
    .description('mark a set-aside line discarded (kept on record, never loaded)')
    .option('--json', 'print as JSON')
    .action(async (id: string, options: { json?: boolean }) => {
      await withDamagedLinesAccess(workspaceTarget(program.opts()), async (access) => {
        const item = await access.discard(id);
        if (options.json) printJson(item);
        else console.log(`${item.id} ${item.status}`);
      });
    });
}

function readCorrectedLine(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new RefineryError(
      'REFINERY_ERR_INVALID_FIELD',
      `Cannot read ${file}.`,
      { field: 'line-file' },
      { cause },
    );
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new RefineryError(
      'REFINERY_ERR_INVALID_FIELD',
      `${file} is not one JSON object: ${cause instanceof Error ? cause.message : String(cause)}`,
      { field: 'line-file' },
      { cause },
    );
  }
}

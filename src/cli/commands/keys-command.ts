import type { Command } from 'commander';
import { isApiKeyKind } from '../../access/api-keys.js';
import { KIND_SUMMARIES } from '../../access/roles.js';
import { API_KEY_KINDS } from '../../store/store.js';
import { workspaceTarget } from '../main.js';
import { printJson, printTable } from '../output.js';
import { withWorkspaceAccess } from '../workspace-access.js';

export function registerKeysCommand(program: Command): void {
  const keys = program
    .command('keys')
    .description(
      `manage write keys (sources) and API keys (${API_KEY_KINDS.filter((kind) => kind !== 'write').join(', ')})`,
    );
  keys
    .command('create')
    .description('create a key; it is printed once and stored only as a hash')
    .requiredOption('--kind <kind>', API_KEY_KINDS.join(' | '))
    .option('--name <name>', 'a name to recognise it by')
    .option('--source <source>', 'source a write key belongs to (default: the first in refinery.yaml)')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', `\nKinds (docs/roles.md has what each may do):\n${kindList()}`)
    .action(async (options: { kind: string; name?: string; source?: string; json?: boolean }) => {
      const kind = options.kind;
      if (!isApiKeyKind(kind)) {
        return keys.error(`--kind must be one of ${API_KEY_KINDS.join(', ')}, not "${kind}"`, {
          exitCode: 2,
        });
      }
      await withWorkspaceAccess(workspaceTarget(program.opts()), async (access) => {
        const created = await access.createKey({
          kind,
          ...(options.name ? { name: options.name } : {}),
          ...(options.source ? { source: options.source } : {}),
        });
        if (options.json) printJson(created);
        else {
          console.log(created.key);
          console.error(
            `(${created.kind} key "${created.name}"${created.source ? ` for source ${created.source}` : ''}; shown only now)`,
          );
        }
      });
    });
  keys
    .command('list')
    .description('list keys (never the keys themselves)')
    .option('--json', 'print as JSON')
    .action(async (options: { json?: boolean }) => {
      await withWorkspaceAccess(workspaceTarget(program.opts()), async (access) => {
        const list = await access.listKeys();
        if (options.json) printJson(list);
        else printTable(list, ['id', 'kind', 'name', 'source', 'prefix', 'createdAt', 'revokedAt']);
      });
    });
  keys
    .command('revoke <id>')
    .description('revoke a key by id')
    .option('--json', 'print as JSON')
    .action(async (id: string, options: { json?: boolean }) => {
      await withWorkspaceAccess(workspaceTarget(program.opts()), async (access) => {
        const revoked = await access.revokeKey(id);
        if (options.json) printJson({ id, revoked });
        else console.log(revoked ? `Revoked ${id}` : `No live key ${id}`);
        if (!revoked) process.exitCode = 1;
      });
    });
}

function kindList(): string {
  return API_KEY_KINDS.map((kind) => `  ${kind.padEnd(8)} ${KIND_SUMMARIES[kind]}`).join('\n');
}

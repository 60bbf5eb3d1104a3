import { userInfo } from 'node:os';
import { type Command, Option } from 'commander';
import { type AuditAnchor, storeMetadataAnchor } from '../../audit/audit-anchor.js';
import {
  AUDIT_ACTIONS,
  type AuditAction,
  type AuditActor,
  type AuditEntry,
} from '../../audit/audit-entry.js';
import { auditFolder } from '../../audit/audit-files.js';
import { AuditLog } from '../../audit/audit-log.js';
import { listAuditEntries } from '../../audit/audit-query.js';
import { type AuditVerification, verifyAuditLog } from '../../audit/verify-audit-log.js';
import { loadWorkspaceConfig, type WorkspaceConfig } from '../../config/workspace-config.js';
import { isRefineryError, RefineryError } from '../../core/errors.js';
import { findRunningServer } from '../../runtime/server-file.js';
import { openStore } from '../../store/open-store.js';
import type { Store } from '../../store/store.js';
import { type WorkspacePaths, workspacePaths } from '../../workspace/workspace-paths.js';
import { type WorkspaceTarget, workspaceTarget } from '../main.js';
import { printJson, printTable } from '../output.js';

/**
 * `refinery audit verify|list`. Both read `data/audit/` directly, so they work whether or not a server runs.
 * `verify` also checks the head kept in the store's metadata when it can open the store (not while a server
 * holds a DuckDB file), and records an `audit.verify` entry when the log is intact and no other process is
 * writing it.
 */
export function registerAuditCommand(program: Command): void {
  const audit = program
    .command('audit')
    .description('the hash-chained audit log of personal-data access, exports, erasures and key changes');

  audit
    .command('verify')
    .description('re-check every entry and the head anchors; exit 1 if the log was tampered with')
    .option('--no-store-anchor', "do not check the head kept in the store's metadata")
    .option('--json', 'print as JSON')
    .action(async (options: { storeAnchor: boolean; json?: boolean }) => {
      const workspace = workspaceOf(workspaceTarget(program.opts()));
      const folder = auditFolder(workspace.paths.data);
      const store = options.storeAnchor ? await openStoreForAnchor(workspace) : undefined;
      try {
        const anchor = store ? storeMetadataAnchor(store.metadata) : undefined;
        const result = await verifyAuditLog(folder, anchor);
        const recorded = result.ok ? await recordVerification(folder, anchor, result) : undefined;
        if (options.json) printJson({ folder, ...result, recorded: recorded ?? null });
        else printVerification(result, recorded, store !== undefined || !options.storeAnchor);
        if (!result.ok) process.exitCode = 1;
      } finally {
        await store?.checkpoint().catch(() => undefined);
        await store?.close();
      }
    });

  audit
    .command('list')
    .description('audit entries, newest first')
    .addOption(new Option('--action <action>', 'only this action').choices(AUDIT_ACTIONS))
    .option('--target <id>', 'only entries about this person, key or request id')
    .option('--actor <id>', 'only entries by this key id, command-line user or system component')
    .option('--from <time>', 'at or after (ISO 8601)')
    .option('--to <time>', 'before (ISO 8601)')
    .option('--before <seq>', 'only entries before this seq (to page back)')
    .option('--limit <n>', 'how many', '50')
    .option('--json', 'print as JSON')
    .action(async (options: ListOptions) => {
      const folder = auditFolder(workspaceOf(workspaceTarget(program.opts())).paths.data);
      const page = await listAuditEntries(folder, {
        ...(options.action ? { action: options.action } : {}),
        ...(options.target ? { target: options.target } : {}),
        ...(options.actor ? { actor: options.actor } : {}),
        ...(options.from ? { from: dateOption('from', options.from) } : {}),
        ...(options.to ? { to: dateOption('to', options.to) } : {}),
        ...(options.before ? { beforeSeq: positiveOption('before', options.before) } : {}),
        limit: positiveOption('limit', options.limit),
      });
      if (options.json) {
        printJson(page);
        return;
      }
      printTable(
        page.entries.map((entry) => ({
          seq: entry.seq,
          at: entry.at,
          action: entry.action,
          actor: describeActor(entry.actor),
          target: entry.target ?? '',
          detail: entry.detail,
        })),
        ['seq', 'at', 'action', 'actor', 'target', 'detail'],
      );
      if (page.unreadableLines > 0) {
        console.error(
          `${page.unreadableLines} line(s) are not readable entries and were skipped; run \`refinery audit verify\`.`,
        );
      }
    });
}

interface ListOptions {
  action?: AuditAction;
  target?: string;
  actor?: string;
  from?: string;
  to?: string;
  before?: string;
  limit: string;
  json?: boolean;
}

function workspaceOf(target: WorkspaceTarget): { config: WorkspaceConfig; paths: WorkspacePaths } {
  const config = loadWorkspaceConfig(target.dir, { storeUrl: target.storeUrl });
  return { config, paths: workspacePaths(target.dir, config) };
}

/** The store, to read the head anchored in it; undefined while a server holds a DuckDB file (one process only). */
async function openStoreForAnchor({
  config,
  paths,
}: ReturnType<typeof workspaceOf>): Promise<Store | undefined> {
  if (config.store.url.startsWith('duckdb:') && findRunningServer(paths.serverFile)) return undefined;
  return openStore(config.store.url, {
    databaseFile: paths.databaseFile,
    memoryLimit: config.store.memoryLimit,
  });
}

/** Appends `audit.verify`; skipped (undefined) when another process is the log's writer. */
async function recordVerification(
  folder: string,
  anchor: AuditAnchor | undefined,
  result: AuditVerification,
): Promise<AuditEntry | undefined> {
  let log: AuditLog;
  try {
    log = await AuditLog.open(folder, anchor ? { anchor } : {});
  } catch (error) {
    if (isRefineryError(error) && error.code === 'REFINERY_ERR_WORKSPACE_LOCKED') return undefined;
    throw error;
  }
  try {
    return await log.append({
      actor: cliActor(),
      action: 'audit.verify',
      target: null,
      detail: {
        ok: result.ok,
        entries: result.entries,
        anchors: Object.fromEntries(result.anchors.map((check) => [check.name, check.status])),
      },
    });
  } finally {
    await log.close();
  }
}

function printVerification(
  result: AuditVerification,
  recorded: AuditEntry | undefined,
  storeAnchorRead: boolean,
): void {
  if (result.firstBad) {
    const { file, line, seq, reason } = result.firstBad;
    const place = line > 0 ? `${file} line ${line}` : file;
    console.log(`audit log TAMPERED: ${place}${seq === undefined ? '' : ` (seq ${seq})`}: ${reason}`);
    console.log(
      result.entries === 1
        ? '1 entry before it is intact.'
        : `${result.entries} entries before it are intact.`,
    );
  } else {
    const head = result.head ? `, head seq ${result.head.seq} (${result.head.hash.slice(0, 12)}…)` : '';
    console.log(`audit log intact: ${result.entries} entries${head}`);
  }
  for (const check of result.anchors) {
    const lag = check.status === 'behind' ? ` by ${check.unanchored} entries` : '';
    const at = check.anchored ? ` (records seq ${check.anchored.seq})` : '';
    console.log(`  ${check.name}: ${check.status}${lag}${at}`);
  }
  if (!storeAnchorRead) console.log('  store metadata: not checked (a running server holds the database)');
  if (recorded) console.log(`verification recorded as seq ${recorded.seq}`);
}

function describeActor(actor: AuditActor): string {
  if ('keyId' in actor) return `${actor.keyName} (${actor.kind} key ${actor.keyId})`;
  if ('cli' in actor) return `cli:${actor.cli}`;
  return `system:${actor.system}`;
}

function cliActor(): AuditActor {
  try {
    return { cli: userInfo().username };
  } catch {
    // No passwd entry for this uid (common in containers).
    return { cli: `uid:${process.getuid?.() ?? 'unknown'}` };
  }
}

function dateOption(name: string, value: string): Date {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) {
    throw new RefineryError('REFINERY_ERR_INVALID_FIELD', `--${name} must be an ISO 8601 date-time.`, {
      field: name,
    });
  }
  return date;
}

function positiveOption(name: string, value: string): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < 1) {
    throw new RefineryError('REFINERY_ERR_INVALID_FIELD', `--${name} must be a positive whole number.`, {
      field: name,
    });
  }
  return number;
}

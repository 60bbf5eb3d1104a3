import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Argument, type Command, Option } from 'commander';
import { isRefineryError } from '../../core/errors.js';
import {
  type AccessBundle,
  BUNDLE_PARTS,
  bundlePartRows,
  toCsv,
} from '../../privacy/requests/access-bundle.js';
import { type PrivacyRequest, validateNewRequest } from '../../privacy/requests/privacy-request.js';
import { PRIVACY_REQUEST_KINDS, PRIVACY_REQUEST_STATUSES } from '../../store/privacy-types.js';
import { workspaceTarget } from '../main.js';
import { printJson, printTable } from '../output.js';
import { type WorkspaceAccess, withWorkspaceAccess } from '../workspace-access.js';

/** The flag that sets each field of a request body, so a validation error names what the user typed. */
const FLAG_OF: Readonly<Record<string, string>> = {
  kind: '<kind>',
  userId: '--user-id',
  anonymousId: '--anonymous-id',
  email: '--email',
  purpose: '--purpose',
  body: '--user-id',
};

interface RequestOptions {
  userId?: string;
  anonymousId?: string;
  email?: string;
  purpose?: string;
  queue?: boolean;
  out?: string;
  json?: boolean;
}

/**
 * `refinery privacy request|requests|run|refuse`: data-subject requests from the command line, through a running
 * server's API or, without one, on the store directly (see docs/privacy-requests.md).
 */
export function registerPrivacyCommand(program: Command): void {
  const privacy = program
    .command('privacy')
    .description(
      'data-subject requests: access (a bundle of everything held), erasure, objection; the queue',
    );

  const request = privacy
    .command('request')
    .description('receive a request about one person and carry it out now (or --queue it)')
    .addArgument(new Argument('<kind>', 'what the person asks for').choices(PRIVACY_REQUEST_KINDS))
    .option('--user-id <id>', 'the person by user id')
    .option('--anonymous-id <id>', 'the person by anonymous id')
    .option('--email <email>', 'the person by email address')
    .option('--purpose <purpose>', 'for object: the purpose objected to (e.g. advertising)')
    .option('--queue', 'leave the request open in the queue instead of carrying it out')
    .option('--out <folder>', 'access: where to write the bundle (default ./privacy-<request id>/)')
    .option('--json', 'print as JSON')
    .action(async (kind: string, options: RequestOptions) => {
      const body: Record<string, unknown> = {
        kind,
        ...(options.userId !== undefined ? { userId: options.userId } : {}),
        ...(options.anonymousId !== undefined ? { anonymousId: options.anonymousId } : {}),
        ...(options.email !== undefined ? { email: options.email } : {}),
        ...(options.purpose !== undefined ? { purpose: options.purpose } : {}),
        run: options.queue !== true,
      };
      try {
        validateNewRequest(body);
      } catch (error) {
        if (!isRefineryError(error)) throw error;
        const field = error.details.field;
        const flag = field ? (FLAG_OF[field] ?? field) : undefined;
        request.error(flag ? `${flag}: ${error.message}` : error.message, { exitCode: 2 });
      }
      await withWorkspaceAccess(workspaceTarget(program.opts()), async (access) => {
        const created = await access.createPrivacyRequest(body);
        await report(access, created, options);
      });
    });

  privacy
    .command('requests')
    .description('the request log: open requests first by due date, then the rest newest first')
    .addOption(
      new Option('--status <status>', 'only requests in this state').choices(PRIVACY_REQUEST_STATUSES),
    )
    .option('--json', 'print as JSON')
    .action(async (options: { status?: (typeof PRIVACY_REQUEST_STATUSES)[number]; json?: boolean }) => {
      await withWorkspaceAccess(workspaceTarget(program.opts()), async (access) => {
        const requests = await access.listPrivacyRequests(options.status);
        if (options.json) {
          printJson({ requests });
          return;
        }
        if (requests.length === 0) {
          console.log(options.status ? `No ${options.status} requests.` : 'No requests yet.');
          return;
        }
        printTable(
          requests.map((r) => ({
            id: r.id,
            kind: r.kind,
            subject: r.subject,
            status: r.status,
            received: r.receivedAt,
            due: r.dueAt,
            overdue: r.overdue ? 'OVERDUE' : '',
          })),
        );
      });
    });

  privacy
    .command('run')
    .description('carry out an open request from the queue')
    .argument('<id>', 'the request id (pr_…)')
    .option('--out <folder>', 'access: where to write the bundle (default ./privacy-<request id>/)')
    .option('--json', 'print as JSON')
    .action(async (id: string, options: { out?: string; json?: boolean }) => {
      await withWorkspaceAccess(workspaceTarget(program.opts()), async (access) => {
        await report(access, await access.runPrivacyRequest(id), options);
      });
    });

  privacy
    .command('refuse')
    .description('refuse an open request, with the reason given to the person')
    .argument('<id>', 'the request id (pr_…)')
    .requiredOption('--reason <text>', 'why the request is refused (kept with the request)')
    .option('--json', 'print as JSON')
    .action(async (id: string, options: { reason: string; json?: boolean }) => {
      if (options.reason.trim() === '' || options.reason.length > 2000) {
        privacy.error('--reason: give the reason for refusing (up to 2000 characters)', { exitCode: 2 });
      }
      await withWorkspaceAccess(workspaceTarget(program.opts()), async (access) => {
        const refused = await access.refusePrivacyRequest(id, options.reason);
        if (options.json) printJson({ request: refused });
        else console.log(`${refused.id} refused: ${options.reason}`);
      });
    });
}

/** Prints what a request did; a done access request also has its bundle written to disk. */
async function report(
  access: WorkspaceAccess,
  request: PrivacyRequest,
  options: { out?: string; json?: boolean },
): Promise<void> {
  let files: string[] | undefined;
  let folder: string | undefined;
  if (request.kind === 'access' && request.status === 'done') {
    folder = resolve(options.out ?? `privacy-${request.id}`);
    files = writeBundle(await access.privacyBundle(request.id), folder);
  }
  if (options.json) {
    printJson({ request, ...(folder ? { out: folder, files } : {}) });
    return;
  }
  console.log(`${request.id}  ${request.kind} ${request.subject}  ${request.status}  due ${request.dueAt}`);
  if (request.status === 'open') {
    console.log(`Queued. Carry it out with \`refinery privacy run ${request.id}\`.`);
    return;
  }
  const result = request.result ?? {};
  switch (request.kind) {
    case 'access':
      console.log(`Bundle of ${request.personId ?? 'nobody known'} written to ${folder}:`);
      for (const file of files ?? []) console.log(`  ${file}`);
      return;
    case 'erase': {
      const deleted = (result.deleted ?? {}) as Record<string, number>;
      const tables = Object.keys(deleted).sort();
      console.log(`Erased ${request.personId ?? 'the ids named'}; rows deleted:`);
      if (tables.length === 0) console.log('  (none)');
      for (const table of tables) console.log(`  ${table.padEnd(28)} ${deleted[table]}`);
      console.log(`Personal-field keys shredded: ${String(result.keysShredded ?? 0)}`);
      return;
    }
    case 'object':
      console.log(`Recorded: ${request.personId ?? 'the person'} objects to ${request.purpose} (denied).`);
      return;
  }
}

/** Writes `bundle.json` and one CSV per part into `folder`; returns the file names. */
function writeBundle(bundle: AccessBundle, folder: string): string[] {
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  // The bundle holds decrypted personal data: readable by this user only.
  writeFileSync(join(folder, 'bundle.json'), `${JSON.stringify(bundle, null, 2)}\n`, { mode: 0o600 });
  const files = ['bundle.json'];
  for (const part of BUNDLE_PARTS) {
    const name = `${part}.csv`;
    writeFileSync(join(folder, name), toCsv(bundlePartRows(bundle, part)), { mode: 0o600 });
    files.push(name);
  }
  return files;
}

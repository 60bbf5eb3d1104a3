import { resolve } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { readEnvironment } from '../config/environment.js';
import { isRefineryError } from '../core/errors.js';
import { registerAuditCommand } from './commands/audit-command.js';
import { registerConsentCommand } from './commands/consent-command.js';
import { registerContractCommand } from './commands/contract-command.js';
import { registerDemoCommand } from './commands/demo-command.js';
import { registerImportCommand } from './commands/import-command.js';
import { registerInitCommand } from './commands/init-command.js';
import { registerKeysCommand } from './commands/keys-command.js';
import { registerMigrateCommand } from './commands/migrate-command.js';
import { registerPrivacyCommand } from './commands/privacy-command.js';
import { registerProfileCommand } from './commands/profile-command.js';
import { registerQuarantineCommand } from './commands/quarantine-command.js';
import { registerQueryCommand } from './commands/query-command.js';
import { registerServeCommand } from './commands/serve-command.js';
import { registerStatsCommand } from './commands/stats-command.js';
import { registerWalCommand } from './commands/wal-command.js';

/** The workspace folder: --dir, else REFINERY_DIR, else the current folder. */
export function workspaceDir(options: { dir?: string }): string {
  return resolve(options.dir ?? readEnvironment().workspaceDir ?? process.cwd());
}

/** Which workspace a command works on, and on which store: --store, else REFINERY_STORE, else refinery.yaml. */
export interface WorkspaceTarget {
  readonly dir: string;
  readonly storeUrl: string | undefined;
}

export function workspaceTarget(options: { dir?: string; store?: string }): WorkspaceTarget {
  return { dir: workspaceDir(options), storeUrl: options.store ?? readEnvironment().storeUrl };
}

export function buildProgram(): Command {
  const program = new Command('refinery')
    .description('Refinery: a self-hosted customer data platform')
    .version('0.1.0')
    .addOption(new Option('--dir <folder>', 'workspace folder (default: REFINERY_DIR or the current folder)'))
    .addOption(
      new Option(
        '--store <url>',
        "store to use instead of refinery.yaml's, e.g. clickhouse://127.0.0.1:8123/shop (default: REFINERY_STORE)",
      ),
    )
    .showHelpAfterError()
    .exitOverride();
  registerInitCommand(program);
  registerServeCommand(program);
  registerKeysCommand(program);
  registerQueryCommand(program);
  registerStatsCommand(program);
  registerImportCommand(program);
  registerDemoCommand(program);
  registerMigrateCommand(program);
  registerContractCommand(program);
  registerQuarantineCommand(program);
  registerProfileCommand(program);
  registerConsentCommand(program);
  registerAuditCommand(program);
  registerPrivacyCommand(program);
  registerWalCommand(program);
  return program;
}

/** Runs the CLI and returns the exit code: 0 ok, 1 a failure, 2 bad usage. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    // Commands that succeed with a caveat (an import with rejects) set their own code.
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? 0 : 2;
    }
    if (isRefineryError(error)) {
      process.stderr.write(`refinery: ${error.message}\n`);
      if (error.details.field) process.stderr.write(`  field: ${error.details.field}\n`);
      process.stderr.write(`  (${error.code})\n`);
      return 1;
    }
    process.stderr.write(
      `refinery: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return 1;
  }
}

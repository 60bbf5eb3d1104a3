import type { Command } from 'commander';
import { startServer } from '../../runtime/server-runtime.js';
import { workspaceTarget } from '../main.js';

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run the collector, API and dashboard on a workspace')
    .option('--port <port>', 'port (default: server.port in refinery.yaml, 4000)', (v) =>
      Number.parseInt(v, 10),
    )
    .option('--host <host>', 'address to listen on (default: server.host, 127.0.0.1)')
    .option('--log', 'log every request')
    .action(async (options: { port?: number; host?: string; log?: boolean }) => {
      const server = await startServer({
        ...workspaceTarget(program.opts()),
        ...(options.port !== undefined ? { port: options.port } : {}),
        ...(options.host ? { host: options.host } : {}),
        logger: Boolean(options.log),
      });
      console.log(`Refinery is serving ${server.config.name} at ${server.url}`);
      console.log(`  dashboard: ${server.url}/   API docs: ${server.url}/docs`);
      await waitForShutdown(server.close);
    });
}

/** Resolves after SIGINT/SIGTERM once `close` has drained the log into the store. */
export function waitForShutdown(close: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      console.error('refinery: shutting down (loading what the log still holds)…');
      close().then(resolve, (error: unknown) => {
        console.error('refinery: shutdown failed:', error);
        resolve();
      });
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

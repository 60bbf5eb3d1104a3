import { resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { readEnvironment } from '../../config/environment.js';
import {
  DEFAULT_RUN_DEMO_OPTIONS,
  type DemoPhase,
  type DemoReporter,
  type DemoRunSummary,
  runDemo,
} from '../../demo/run-demo.js';
import { type ProgressBar, printJson, progressBar } from '../output.js';
import { waitForShutdown } from './serve-command.js';

/** Where the demo lives when neither --dir nor REFINERY_DIR says otherwise (relative to the current folder). */
export const DEFAULT_DEMO_DIR = 'refinery-demo';

interface DemoCommandOptions {
  seed: number;
  customers: number;
  products: number;
  days: number;
  end?: string;
  port: number;
  host: string;
  serve: boolean;
  json?: boolean;
}

export function registerDemoCommand(program: Command): void {
  const demo = program
    .command('demo')
    .description('build a synthetic bakery, ingest it through the real paths, and serve the dashboard')
    .option('--seed <n>', 'random seed; the same seed gives the same business', integer, 42)
    .option('--customers <n>', 'customers', integer, DEFAULT_RUN_DEMO_OPTIONS.customers)
    .option('--products <n>', 'products', integer, DEFAULT_RUN_DEMO_OPTIONS.products)
    .option('--days <n>', 'simulated days', integer, DEFAULT_RUN_DEMO_OPTIONS.days)
    .option(
      '--end <date>',
      'YYYY-MM-DD (UTC): the simulation covers the whole days before this one (default: today)',
    )
    .option('--port <port>', 'port; a free one is used when it is busy', integer, 4000)
    .option('--host <host>', 'address to listen on', DEFAULT_RUN_DEMO_OPTIONS.host)
    .option('--no-serve', 'exit after the summary instead of serving the dashboard')
    .option('--json', 'print the summary as JSON (no progress bars)')
    .addHelpText(
      'after',
      `\nThe workspace is --dir, else REFINERY_DIR, else ./${DEFAULT_DEMO_DIR}. An earlier demo there is reset;\nany other workspace or non-empty folder is left alone and the command stops.`,
    )
    .action(async (options: DemoCommandOptions) => {
      const end = options.end === undefined ? new Date() : parseEnd(options.end);
      if (!end) demo.error(`--end must be a date such as 2025-06-30, not "${options.end}"`, { exitCode: 2 });
      const globals = program.opts<{ dir?: string }>();
      const dir = resolve(globals.dir ?? readEnvironment().workspaceDir ?? DEFAULT_DEMO_DIR);
      const { summary, server } = await runDemo(
        {
          dir,
          seed: options.seed,
          customers: options.customers,
          products: options.products,
          days: options.days,
          end: end!,
          port: options.port,
          host: options.host,
          serve: options.serve,
        },
        terminalReporter(!options.json),
      );
      if (options.json) printJson(summary);
      else printSummary(summary);
      if (server) await waitForShutdown(server.close);
    });
}

function integer(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(parsed)) {
    throw new InvalidArgumentError('It must be a whole number.');
  }
  return parsed;
}

function parseEnd(text: string): Date | undefined {
  if (!/^\d{4}-\d{2}-\d{2}(T.*)?$/.test(text)) return undefined;
  const millis = Date.parse(text.length === 10 ? `${text}T00:00:00Z` : text);
  return Number.isNaN(millis) ? undefined : new Date(millis);
}

/** Steps and notices on stderr, progress bars on an interactive terminal; under --json only notices. */
function terminalReporter(interactive: boolean): DemoReporter {
  const bars = new Map<DemoPhase, ProgressBar>();
  const titles: Record<DemoPhase, string> = { events: 'Sending events', imports: 'Importing files' };
  return {
    step(message) {
      if (interactive) console.error(`${message}…`);
    },
    notice(message) {
      console.error(`refinery: ${message}`);
    },
    progress(phase, fraction, label) {
      let bar = bars.get(phase);
      if (!bar) {
        bar = progressBar(titles[phase], interactive);
        bars.set(phase, bar);
      }
      bar.update(fraction, label);
    },
    done(phase) {
      bars.get(phase)?.stop();
      bars.delete(phase);
    },
  };
}

function printSummary(summary: DemoRunSummary): void {
  const n = (value: number) => value.toLocaleString('en-GB');
  const { events, stored, imports, generated } = summary;
  const lines = [
    '',
    `Crumb & Co. is ready (${summary.seconds.total.toFixed(1)} s, seed ${summary.seed}, ${summary.period.start} to ${summary.period.end}, workspace ${summary.workspace})`,
    `  customers  ${n(stored.customers)} imported of ${n(generated.customers)}`,
    `  products   ${n(stored.products)} imported of ${n(generated.products)}`,
    `  events     ${n(events.sent)} sent, ${n(events.stored)} stored, ${n(events.rejected)} rejected (${n(summary.eventsPerSecond)} events/s: sent in ${summary.seconds.send.toFixed(1)} s, loaded ${summary.seconds.load.toFixed(1)} s later)`,
    `  orders     ${n(stored.orders)} orders, ${n(stored.orderLines)} lines imported (${n(imports.orderLines.rejected)} rejected) in ${summary.seconds.imports.toFixed(1)} s`,
    `  revenue    £${stored.revenue.toLocaleString('en-GB', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`,
    '',
  ];
  if (summary.serving) {
    lines.push(
      `Dashboard:  ${summary.dashboardUrl}`,
      `API docs:   ${summary.docsUrl}`,
      `Write key:  ${summary.keys.web}  (source web; ${summary.keys.backend} for backend)`,
      '',
      'Serving until Ctrl+C.',
    );
  } else {
    const port = new URL(summary.url).port;
    lines.push(
      `The server has stopped (--no-serve). To browse the data: refinery serve --dir ${summary.workspace} --port ${port}`,
      `then open ${summary.dashboardUrl}   (API docs: ${summary.docsUrl})`,
      `Write key:  ${summary.keys.web}  (source web; ${summary.keys.backend} for backend)`,
    );
  }
  console.log(lines.join('\n'));
}

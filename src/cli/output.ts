import cliProgress from 'cli-progress';
import { readEnvironment } from '../config/environment.js';

/** Prints rows as an aligned text table. */
export function printTable(rows: readonly object[], columns?: readonly string[]): void {
  const names = columns ?? (rows[0] ? Object.keys(rows[0]) : []);
  if (names.length === 0) {
    console.log('(no rows)');
    return;
  }
  const cells = rows.map((row) => names.map((name) => formatCell((row as Record<string, unknown>)[name])));
  const widths = names.map((name, i) =>
    Math.min(60, Math.max(name.length, ...cells.map((r) => r[i]!.length))),
  );
  const line = (values: string[]) =>
    values.map((v, i) => v.slice(0, widths[i]).padEnd(widths[i]!)).join('  ');
  console.log(line([...names]));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of cells) console.log(line(row));
}

function formatCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

export interface ProgressBar {
  update(fraction: number, label?: string): void;
  stop(): void;
}

/** A progress bar on stderr for interactive terminals; silent under --json, in CI or when piped. */
export function progressBar(title: string, enabled: boolean): ProgressBar {
  const environment = readEnvironment();
  if (!enabled || environment.ci || !process.stderr.isTTY) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    { format: `${title} [{bar}] {percentage}% {label}`, stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(1000, 0, { label: '' });
  return {
    update(fraction, label = '') {
      bar.update(Math.round(Math.min(1, Math.max(0, fraction)) * 1000), { label });
    },
    stop() {
      bar.stop();
    },
  };
}

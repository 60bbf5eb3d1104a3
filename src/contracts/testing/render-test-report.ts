import type { CheckResult, ContractTestReport } from './check-result.js';

const NAME_WIDTH = 56;
const FIELD_WIDTH = 24;

/**
 * The report as a text table (result, check, field, details) with a summary line at the end, e.g.
 * `failed: 3 of 14 checks failed`.
 */
export function renderTestReport(report: ContractTestReport): string {
  const target = report.server ? `server ${report.server}` : "the workspace's stored data";
  const header = `Contract ${report.contract.id} ${report.contract.version} (${report.contract.file}) against ${target}`;
  const rows = report.checks.map((check) => [check.result, check.name, check.field ?? '', details(check)]);
  const titles = ['result', 'check', 'field', 'details'];
  const limits = [7, NAME_WIDTH, FIELD_WIDTH, Number.POSITIVE_INFINITY];
  const widths = titles.map((title, index) =>
    Math.min(limits[index]!, Math.max(title.length, ...rows.map((row) => row[index]!.length))),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, index) => (index === cells.length - 1 ? cell : padCell(cell, widths[index]!)))
      .join('  ')
      .trimEnd();
  return [
    header,
    '',
    line(titles),
    line(widths.map((width, index) => '-'.repeat(index === widths.length - 1 ? 7 : width))),
    ...rows.map(line),
    '',
    summaryLine(report),
    '',
  ].join('\n');
}

/** `failed: 3 of 14 checks failed`, `passed: all 14 checks passed (2 skipped)`, … */
export function summaryLine(report: ContractTestReport): string {
  const total = report.checks.length;
  const count = (result: CheckResult['result']) =>
    report.checks.filter((check) => check.result === result).length;
  const extras = [
    count('warning') > 0 && report.result !== 'warning' ? `${count('warning')} warnings` : null,
    count('skipped') > 0 ? `${count('skipped')} skipped` : null,
  ].filter((part): part is string => part !== null);
  const tail = (parts: string[]) => (parts.length > 0 ? ` (${parts.join(', ')})` : '');
  const of = `of ${total} check${total === 1 ? '' : 's'}`;
  switch (report.result) {
    case 'error': {
      const failed = count('failed');
      return `error: ${count('error')} ${of} could not run${tail([...(failed ? [`${failed} failed`] : []), ...extras])}`;
    }
    case 'failed':
      return `failed: ${count('failed')} ${of} failed${tail(extras)}`;
    case 'warning':
      return `passed with warnings: ${count('warning')} ${of} warned${tail(extras)}`;
    default:
      return `passed: ${total - count('skipped')} ${of} passed${tail(extras)}`;
  }
}

function details(check: CheckResult): string {
  let text = check.reason;
  if (check.samples && check.samples.length > 0) {
    text += `; e.g. ${check.samples.map((sample) => (sample === '(classified)' ? sample : JSON.stringify(sample))).join(', ')}`;
  }
  if (check.code) text += ` (${check.code})`;
  return text;
}

function padCell(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, width - 1)}…` : text.padEnd(width);
}

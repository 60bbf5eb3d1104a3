import { describe, expect, it } from 'vitest';
import type { CheckResult, ContractTestReport } from './check-result.js';
import { worstOutcome } from './check-result.js';
import { renderTestReport, summaryLine } from './render-test-report.js';

function report(checks: CheckResult[]): ContractTestReport {
  return {
    contract: { id: 'orders', version: '1.0.0', file: 'contracts/orders.yaml' },
    server: 'local',
    result: worstOutcome(checks),
    checks,
    startedAt: '2025-03-01T12:00:00.000Z',
    durationMs: 12,
  };
}

function checkOf(result: CheckResult['result'], extra: Partial<CheckResult> = {}): CheckResult {
  return {
    id: `orders.email.${result}`,
    object: 'orders',
    field: 'email',
    type: 'field_pattern',
    name: "Field 'email' matches ^.+@.+$",
    result,
    reason: 'all 3 rows pass',
    ...extra,
  };
}

describe('renderTestReport', () => {
  it('prints one line per check with its details and samples, then the summary', () => {
    const text = renderTestReport(
      report([
        checkOf('passed'),
        checkOf('failed', { reason: '2 of 3 rows fail', samples: ['(classified)'] }),
        checkOf('failed', { field: 'id', reason: '1 duplicate', samples: [2, 'x'] }),
      ]),
    );
    const lines = text.split('\n');
    expect(lines[0]).toBe('Contract orders 1.0.0 (contracts/orders.yaml) against server local');
    expect(text).toMatch(
      /^failed +Field 'email' matches \^\.\+@\.\+\$ +email +2 of 3 rows fail; e\.g\. \(classified\)$/m,
    );
    expect(text).toContain('1 duplicate; e.g. 2, "x"');
    expect(text.trimEnd().split('\n').at(-1)).toBe('failed: 2 of 3 checks failed');
  });

  it('summarises errors, warnings and skipped checks', () => {
    expect(summaryLine(report([checkOf('passed'), checkOf('skipped')]))).toBe(
      'passed: 1 of 2 checks passed (1 skipped)',
    );
    expect(summaryLine(report([checkOf('passed'), checkOf('warning')]))).toBe(
      'passed with warnings: 1 of 2 checks warned',
    );
    expect(
      summaryLine(report([checkOf('error', { code: 'REFINERY_ERR_CONTRACT_FILTER' }), checkOf('failed')])),
    ).toBe('error: 1 of 2 checks could not run (1 failed)');
  });

  it('ranks outcomes error > failed > warning > passed, with skipped as passed', () => {
    expect(worstOutcome([])).toBe('passed');
    expect(worstOutcome([{ result: 'skipped' }])).toBe('passed');
    expect(worstOutcome([{ result: 'warning' }, { result: 'passed' }])).toBe('warning');
    expect(worstOutcome([{ result: 'failed' }, { result: 'error' }, { result: 'warning' }])).toBe('error');
  });
});

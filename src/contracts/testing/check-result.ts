/** What one check of `refinery contract test` concluded. `skipped` never fails a run. */
export type CheckOutcome = 'passed' | 'skipped' | 'warning' | 'failed' | 'error';

/** What a check looks at: a field's presence, type or constraint, a quality rule, a row count or an SLA. */
export type CheckType =
  | 'field_is_present'
  | 'field_type'
  | 'field_required'
  | 'field_unique'
  | 'field_pattern'
  | 'field_format'
  | 'field_min'
  | 'field_max'
  | 'field_min_length'
  | 'field_max_length'
  | 'field_enum'
  | 'field_multiple_of'
  | 'field_constraint'
  | 'primary_key_unique'
  | 'quality'
  | 'row_count'
  | 'sla_freshness'
  | 'sla_retention'
  | 'sla'
  | 'data_source';

export interface CheckResult {
  /** Stable within a contract: `<object>.<field>.<type>` (plus the rule's position for quality rules). */
  readonly id: string;
  readonly object: string;
  readonly field: string | null;
  readonly type: CheckType;
  /** For people, e.g. `Field 'email' matches ^.+@.+$`. */
  readonly name: string;
  readonly result: CheckOutcome;
  readonly reason: string;
  /** The number or value the check measured (a count, a percentage, a query's answer, a newest timestamp). */
  readonly measured?: number | string;
  /** How many rows broke the rule. */
  readonly failedRows?: number;
  /**
   * Up to five examples: the offending values (`(classified)` for fields classified other than public), or
   * for a missing value the row it is missing from (`{ id: 3 }` by key, `{ message_id }` for events,
   * `{ row: 3 }` by position otherwise).
   */
  readonly samples?: readonly unknown[];
  /** The error code of an `error` result, e.g. `REFINERY_ERR_CONTRACT_FILTER`. */
  readonly code?: string;
}

export interface ContractTestReport {
  readonly contract: { readonly id: string; readonly version: string; readonly file: string };
  /** The `servers` entry tested, or null for the data stored in the workspace. */
  readonly server: string | null;
  /** The worst outcome of all checks (error > failed > warning > passed; skipped counts as passed). */
  readonly result: Exclude<CheckOutcome, 'skipped'>;
  readonly checks: readonly CheckResult[];
  readonly startedAt: string;
  readonly durationMs: number;
}

const RANK: Record<CheckOutcome, number> = { skipped: 0, passed: 0, warning: 1, failed: 2, error: 3 };

/** The outcome of a whole run: `error` beats `failed` beats `warning` beats `passed`. */
export function worstOutcome(checks: readonly Pick<CheckResult, 'result'>[]): ContractTestReport['result'] {
  let worst: ContractTestReport['result'] = 'passed';
  for (const check of checks) {
    if (RANK[check.result] > RANK[worst]) worst = check.result as ContractTestReport['result'];
  }
  return worst;
}

/** The exit code a pipeline gates on: 0 passed (warnings and skipped checks allowed), 1 failed, 3 error. */
export function exitCodeOf(result: ContractTestReport['result']): 0 | 1 | 3 {
  if (result === 'error') return 3;
  if (result === 'failed') return 1;
  return 0;
}

import type { QuarantineStatus } from '../api-types.js';
import './governance.css';

const MODE_HELP: Record<string, string> = {
  enforce: 'Violating events are held in quarantine',
  warn: 'Violating events are stored and flagged',
  off: 'Not checked',
};

const POLICY_HELP: Record<string, string> = {
  allow: 'Events no contract declares are stored',
  flag: 'Events no contract declares are stored and flagged',
  quarantine: 'Events no contract declares are held in quarantine',
};

const KNOWN_MODES = new Set(['enforce', 'warn', 'off']);
const KNOWN_POLICIES = new Set(['allow', 'flag', 'quarantine']);

/** A contract mode (`enforce`, `warn`, `off`) as a colored badge. */
export function ModeBadge({ mode, testId = 'mode-badge' }: { mode: string; testId?: string }) {
  const className = KNOWN_MODES.has(mode) ? `mode-badge mode-${mode}` : 'mode-badge';
  return (
    <span className={className} title={MODE_HELP[mode] ?? mode} data-testid={testId} data-mode={mode}>
      {mode}
    </span>
  );
}

/** The policy for events no contract declares (`allow`, `flag`, `quarantine`). */
export function PolicyBadge({ policy }: { policy: string }) {
  const className = KNOWN_POLICIES.has(policy) ? `mode-badge policy-${policy}` : 'mode-badge';
  return (
    <span
      className={className}
      title={POLICY_HELP[policy] ?? policy}
      data-testid="undeclared-policy"
      data-policy={policy}
    >
      {policy}
    </span>
  );
}

/** Where a quarantined event stands: held, replayed or discarded. */
export function StatusBadge({ status }: { status: QuarantineStatus }) {
  return (
    <span
      className={`mode-badge status-badge-${status}`}
      data-testid="quarantine-status"
      data-status={status}
    >
      {status}
    </span>
  );
}

import type { DiscardReport, ReplayReport, Violation } from '../api-types.js';
import { formatCount } from '../format.js';
import './governance.css';

export type DecisionOutcome =
  | { kind: 'replay'; report: ReplayReport }
  | { kind: 'discard'; report: DiscardReport };

function violationsInBrief(violations: Violation[]): string {
  return violations.map((violation) => [violation.path, violation.rule].filter(Boolean).join(' ')).join(', ');
}

/** "2 replayed, 1 still failing: …" */
export function replaySummary(report: ReplayReport): string {
  if (report.selected === 0) return 'No held events matched: nothing was replayed.';
  let replayed = `${formatCount(report.replayed)} replayed`;
  if (report.alreadyStored > 0) {
    replayed += ` (${formatCount(report.alreadyStored)} already stored before, not stored twice)`;
  }
  if (report.stillFailing.length === 0) return `${replayed}.`;
  return `${replayed}, ${formatCount(report.stillFailing.length)} still failing:`;
}

const LISTED = 20;

interface DecisionResultProps {
  outcome: DecisionOutcome;
  onOpen: (id: string) => void;
  onDismiss: () => void;
}

/** What the last replay or discard did, with the events that still fail their contract. */
export function DecisionResult({ outcome, onOpen, onDismiss }: DecisionResultProps) {
  const dismiss = (
    <button type="button" className="button button-small button-ghost" onClick={onDismiss}>
      Dismiss
    </button>
  );
  if (outcome.kind === 'discard') {
    return (
      <div
        className="decision-result"
        role="status"
        data-testid="discard-result"
        data-discarded={outcome.report.discarded}
      >
        <div className="row-gap">
          <span>
            {outcome.report.discarded === 0
              ? 'No held events matched: nothing was discarded.'
              : `${formatCount(outcome.report.discarded)} discarded: kept for the record, never stored.`}
          </span>
          {dismiss}
        </div>
      </div>
    );
  }
  const { report } = outcome;
  const failing = report.stillFailing;
  return (
    <div
      className={failing.length > 0 ? 'decision-result decision-result-warn' : 'decision-result'}
      role="status"
      data-testid="replay-result"
      data-replayed={report.replayed}
      data-already-stored={report.alreadyStored}
      data-still-failing={failing.length}
    >
      <div className="row-gap">
        <span>{replaySummary(report)}</span>
        {dismiss}
      </div>
      {failing.length > 0 ? (
        <ul>
          {failing.slice(0, LISTED).map((item) => (
            <li key={item.id} data-testid="still-failing" data-id={item.id}>
              <button type="button" className="link-button" onClick={() => onOpen(item.id)}>
                {item.id}
              </button>{' '}
              <span className="muted">({violationsInBrief(item.violations)})</span>
            </li>
          ))}
          {failing.length > LISTED ? (
            <li className="muted">and {formatCount(failing.length - LISTED)} more</li>
          ) : null}
        </ul>
      ) : null}
    </div>
  );
}

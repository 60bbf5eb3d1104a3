import type { Violation } from '../api-types.js';
import './governance.css';

const SHOWN = 3;

/** A held event's violations in brief: `path rule` chips, the message on hover. */
export function ViolationChips({ violations }: { violations: Violation[] }) {
  const shown = violations.slice(0, SHOWN);
  const more = violations.length - shown.length;
  return (
    <span className="violation-chips">
      {shown.map((violation) => (
        <span
          key={`${violation.path}|${violation.rule}|${violation.message}`}
          className="violation-chip"
          title={violation.message}
          data-testid="violation-chip"
          data-path={violation.path}
          data-rule={violation.rule}
        >
          {violation.path ? <code>{violation.path}</code> : null}
          <span>{violation.rule}</span>
        </span>
      ))}
      {more > 0 ? <span className="muted small">+{more} more</span> : null}
    </span>
  );
}

/** Every violation with its message and the offending value, when it may be shown. */
export function ViolationList({ violations, testId }: { violations: Violation[]; testId?: string }) {
  if (violations.length === 0) return <p className="muted small">No violations recorded.</p>;
  return (
    <ul className="violation-list" data-testid={testId}>
      {violations.map((violation) => (
        <li
          key={`${violation.path}|${violation.rule}|${violation.message}`}
          className="violation-item"
          data-testid="violation-item"
          data-path={violation.path}
          data-rule={violation.rule}
        >
          <div className="violation-item-head">
            {violation.path ? <code>{violation.path}</code> : null}
            <span className="tag">{violation.rule}</span>
          </div>
          <div>{violation.message}</div>
          {violation.value !== undefined ? (
            <div className="muted small">
              value <code>{violation.value}</code>
            </div>
          ) : null}
        </li>
      ))}
    </ul>
  );
}

import type { QuarantinedEvent } from '../api-types.js';
import { formatDateTime } from '../format.js';
import { StatusBadge } from './governance-badges.js';
import { ViolationChips } from './violation-chips.js';
import './governance.css';

interface QuarantineTableProps {
  items: QuarantinedEvent[];
  selected: ReadonlySet<string>;
  onToggle: (id: string, on: boolean) => void;
  onToggleAll: (on: boolean) => void;
  openId: string | undefined;
  onOpen: (id: string) => void;
}

export function eventLabelOf(item: { type: string; event: string | null }): string {
  return item.event ?? item.type;
}

/** Quarantined events, newest first; held ones can be ticked for a decision, any one opened for detail. */
export function QuarantineTable({
  items,
  selected,
  onToggle,
  onToggleAll,
  openId,
  onOpen,
}: QuarantineTableProps) {
  if (items.length === 0) {
    return (
      <p className="empty-state" data-testid="quarantine-table">
        No quarantined events match.
      </p>
    );
  }
  const held = items.filter((item) => item.status === 'held');
  const allTicked = held.length > 0 && held.every((item) => selected.has(item.id));
  return (
    <div className="table-wrap table-scroll">
      <table className="table quarantine-table" data-testid="quarantine-table">
        <thead>
          <tr>
            <th scope="col" className="select-cell">
              <input
                type="checkbox"
                aria-label="Select every held event on this page"
                checked={allTicked}
                disabled={held.length === 0}
                onChange={(event) => onToggleAll(event.target.checked)}
                data-testid="quarantine-select-all"
              />
            </th>
            <th scope="col">Received</th>
            <th scope="col">Event</th>
            <th scope="col">Contract</th>
            <th scope="col">Violations</th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {items.map((item) => {
            const label = eventLabelOf(item);
            return (
              <tr
                key={item.id}
                className={item.id === openId ? 'row-selected' : undefined}
                data-testid="quarantine-row"
                data-id={item.id}
                data-status={item.status}
                data-event={label}
              >
                <td className="select-cell">
                  <input
                    type="checkbox"
                    aria-label={`Select ${label} ${item.id}`}
                    checked={selected.has(item.id)}
                    disabled={item.status !== 'held'}
                    onChange={(event) => onToggle(item.id, event.target.checked)}
                    data-testid="quarantine-select"
                  />
                </td>
                <td className="muted small">
                  <time dateTime={item.receivedAt}>{formatDateTime(item.receivedAt)}</time>
                </td>
                <td>
                  <div className="row-gap">
                    <span className={`type-badge type-${item.type}`}>{item.type}</span>
                    <button
                      type="button"
                      className="link-button"
                      onClick={() => onOpen(item.id)}
                      aria-pressed={item.id === openId}
                      title={`Show ${item.id}`}
                      data-testid="quarantine-open"
                    >
                      {label}
                    </button>
                  </div>
                  <code className="muted small quarantine-id">{item.id}</code>
                </td>
                <td>
                  {item.contract ?? <span className="muted">undeclared</span>}
                  {item.contractVersion ? (
                    <span className="muted small"> v{item.contractVersion}</span>
                  ) : null}
                </td>
                <td>
                  <ViolationChips violations={item.violations} />
                </td>
                <td>
                  <StatusBadge status={item.status} />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

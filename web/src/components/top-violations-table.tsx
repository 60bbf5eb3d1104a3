import type { ViolationCount } from '../api-types.js';
import { formatCount, formatDateTime } from '../format.js';
import './governance.css';

interface TopViolationsTableProps {
  items: ViolationCount[];
}

/** The quarantine tab, filtered to the events held for this violation. */
export function quarantineLink(item: ViolationCount): string {
  const params = new URLSearchParams({ status: 'held' });
  if (item.contract) params.set('contract', item.contract);
  // Violations name page and screen calls `page: <name>`; the quarantine filter takes the bare name.
  params.set('event', item.event.replace(/^(page|screen): /, ''));
  params.set('rule', item.rule);
  return `#quarantine?${params}`;
}

/** The most frequent (contract, event, path, rule) violations, held and flagged together. */
export function TopViolationsTable({ items }: TopViolationsTableProps) {
  if (items.length === 0) {
    return (
      <p className="empty-state" data-testid="top-violations">
        No violations recorded.
      </p>
    );
  }
  const max = Math.max(...items.map((item) => item.count), 1);
  return (
    <div className="table-wrap">
      <table className="table" data-testid="top-violations">
        <thead>
          <tr>
            <th scope="col">Contract</th>
            <th scope="col">Event</th>
            <th scope="col">Path</th>
            <th scope="col">Rule</th>
            <th scope="col" className="num">
              Count
            </th>
            <th scope="col">Last seen</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {items.map((item) => (
            <tr
              key={`${item.contract ?? ''}|${item.event}|${item.path}|${item.rule}`}
              data-testid="top-violation-row"
              data-contract={item.contract ?? ''}
              data-event={item.event}
              data-path={item.path}
              data-rule={item.rule}
              data-count={item.count}
            >
              <td>{item.contract ?? <span className="muted">undeclared</span>}</td>
              <td>{item.event}</td>
              <td>
                <code>{item.path || '—'}</code>
              </td>
              <td>
                <span className="tag">{item.rule}</span>
              </td>
              <td className="num">
                <span
                  className="count-bar"
                  style={{ width: `${Math.max(4, (item.count / max) * 80)}px` }}
                  aria-hidden="true"
                />
                {formatCount(item.count)}
              </td>
              <td className="muted">{formatDateTime(item.lastSeen)}</td>
              <td className="actions-cell">
                <a
                  className="button button-small button-ghost"
                  href={quarantineLink(item)}
                  title="Held events with this violation"
                >
                  Held events
                </a>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

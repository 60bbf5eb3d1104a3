import type { NamedCount } from '../api-types.js';
import { formatCount } from '../format.js';

interface TopEventsListProps {
  items: NamedCount[];
}

/** Event names ranked by count, each with a proportional bar. */
export function TopEventsList({ items }: TopEventsListProps) {
  if (items.length === 0) {
    return (
      <p className="empty-state" data-testid="top-events">
        No named events yet.
      </p>
    );
  }
  const max = Math.max(...items.map((item) => item.count), 1);
  return (
    <ol className="bar-list" data-testid="top-events" aria-label="Top events">
      {items.map((item) => (
        <li
          key={item.name}
          className="bar-list-row"
          data-testid="top-event-row"
          data-name={item.name}
          data-count={item.count}
        >
          <span
            className="bar-list-fill"
            style={{ width: `${(item.count / max) * 100}%` }}
            aria-hidden="true"
          />
          <span className="bar-list-name" title={item.name}>
            {item.name}
          </span>
          <span className="bar-list-count">{formatCount(item.count)}</span>
        </li>
      ))}
    </ol>
  );
}

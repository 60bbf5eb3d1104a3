import { useState } from 'react';
import type { TailEvent } from '../api-types.js';
import { LiveRow } from './live-row.js';

interface LiveTailListProps {
  events: TailEvent[];
  fresh: ReadonlySet<number>;
}

/** The scrolling list of tailed events, newest first; any number of rows can be expanded. */
export function LiveTailList({ events, fresh }: LiveTailListProps) {
  const [expanded, setExpanded] = useState<ReadonlySet<number>>(new Set());

  const toggle = (cursor: number) => {
    setExpanded((previous) => {
      const next = new Set(previous);
      if (next.has(cursor)) next.delete(cursor);
      else next.add(cursor);
      return next;
    });
  };

  if (events.length === 0) {
    return (
      <p className="empty-state waiting" data-testid="live-empty">
        Waiting for events…
      </p>
    );
  }

  return (
    <ul className="live-list" aria-label="Incoming events, newest first">
      <li className="live-list-head" aria-hidden="true">
        <span>Received</span>
        <span>Type</span>
        <span>Event / page</span>
        <span>User</span>
        <span>Source</span>
      </li>
      {events.map((event) => (
        <LiveRow
          key={event.cursor}
          event={event}
          expanded={expanded.has(event.cursor)}
          fresh={fresh.has(event.cursor)}
          onToggle={toggle}
        />
      ))}
    </ul>
  );
}

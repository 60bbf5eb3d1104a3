import { useState } from 'react';
import type { ProfileEvent } from '../api-types.js';
import { formatDateTime } from '../format.js';
import { JsonView } from './json-view.js';

/** The person's recent events, newest first; each opens to its properties. */
export function ProfileTimeline({ events }: { events: ProfileEvent[] }) {
  const [open, setOpen] = useState<string | undefined>(undefined);
  if (events.length === 0) return <p className="muted small">No events yet.</p>;
  return (
    <ol className="profile-timeline" data-testid="profile-timeline">
      {events.map((event) => {
        const expanded = open === event.messageId;
        return (
          <li
            key={event.messageId}
            className="timeline-item"
            data-testid="profile-event"
            data-type={event.type}
            data-name={event.name ?? ''}
          >
            <button
              type="button"
              className="timeline-summary"
              aria-expanded={expanded}
              onClick={() => setOpen(expanded ? undefined : event.messageId)}
            >
              <time className="timeline-time" dateTime={event.timestamp}>
                {formatDateTime(event.timestamp)}
              </time>
              <span className={`type-badge type-${event.type}`}>{event.type}</span>
              <span className={event.name ? 'timeline-name' : 'timeline-name muted'}>
                {event.name ?? '—'}
              </span>
              <span className="muted small">{event.source}</span>
            </button>
            {expanded ? <JsonView value={event.properties ?? {}} testId="profile-event-json" /> : null}
          </li>
        );
      })}
    </ol>
  );
}

import type { TailEvent } from '../api-types.js';
import { formatClock } from '../format.js';
import { JsonView } from './json-view.js';

interface LiveRowProps {
  event: TailEvent;
  expanded: boolean;
  fresh: boolean;
  onToggle: (cursor: number) => void;
}

/** What a person calls the event: the track event name, else the page/screen name. */
export function eventLabel(event: TailEvent): string | null {
  return event.event ?? event.name ?? null;
}

export function LiveRow({ event, expanded, fresh, onToggle }: LiveRowProps) {
  const label = eventLabel(event);
  const detailsId = `live-event-${event.cursor}`;
  const classes = ['live-row'];
  if (expanded) classes.push('live-row-expanded');
  if (fresh) classes.push('live-row-fresh');
  return (
    <li
      className={classes.join(' ')}
      data-testid="live-row"
      data-cursor={event.cursor}
      data-type={event.type}
      data-message-id={event.messageId}
    >
      <button
        type="button"
        className="live-row-summary"
        aria-expanded={expanded}
        aria-controls={detailsId}
        onClick={() => onToggle(event.cursor)}
      >
        <time className="live-time" dateTime={event.receivedAt} title={`received ${event.receivedAt}`}>
          {formatClock(event.receivedAt)}
        </time>
        <span className={`type-badge type-${event.type}`}>{event.type}</span>
        <span className={label ? 'live-name' : 'live-name muted'} data-testid="live-row-name">
          {label ?? '—'}
        </span>
        <span className="live-user" title={event.userId ? 'userId' : 'anonymousId'}>
          {event.userId ?? (event.anonymousId ? `anon ${event.anonymousId}` : '—')}
        </span>
        <span className="live-source">{event.source}</span>
      </button>
      {expanded ? (
        <div id={detailsId} className="live-row-details">
          <JsonView value={event} testId="live-row-json" />
        </div>
      ) : null}
    </li>
  );
}

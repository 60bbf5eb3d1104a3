import type { ApiError } from '../api-error.js';
import type { QuarantinedEventDetail } from '../api-types.js';
import { formatDateTime } from '../format.js';
import { ErrorBanner } from './error-banner.js';
import { StatusBadge } from './governance-badges.js';
import { JsonView } from './json-view.js';
import { eventLabelOf } from './quarantine-table.js';
import { ViolationList } from './violation-chips.js';
import './governance.css';

interface QuarantineDetailProps {
  id: string | undefined;
  event: QuarantinedEventDetail | undefined;
  error: ApiError | undefined;
}

function agentOf(event: QuarantinedEventDetail): string | null {
  const agent = event.agent;
  if (!agent) return null;
  const browser = [agent.browser, agent.browser_version].filter(Boolean).join(' ');
  const parts = [browser, agent.os, agent.device_type].filter(Boolean);
  return parts.length > 0 ? parts.join(' · ') : null;
}

/** One quarantined event: where it came from, why it was held, and its payload as sent. */
export function QuarantineDetail({ id, event, error }: QuarantineDetailProps) {
  if (id === undefined) {
    return (
      <p className="empty-state" data-testid="quarantine-detail-empty">
        Select an event to see its payload and violations.
      </p>
    );
  }
  if (error) return <ErrorBanner error={error} />;
  if (!event || event.id !== id) return <p className="loading">Loading…</p>;
  const agent = agentOf(event);
  return (
    <div className="stack" data-testid="quarantine-detail" data-id={event.id} data-status={event.status}>
      <div className="row-gap">
        <span className={`type-badge type-${event.type}`}>{event.type}</span>
        <strong>{eventLabelOf(event)}</strong>
        <StatusBadge status={event.status} />
      </div>
      <dl className="detail-list">
        <dt>ID</dt>
        <dd>
          <code>{event.id}</code>
        </dd>
        <dt>Received</dt>
        <dd>{formatDateTime(event.receivedAt)}</dd>
        <dt>Source</dt>
        <dd>{event.source}</dd>
        <dt>Contract</dt>
        <dd>
          {event.contract ?? <span className="muted">undeclared</span>}
          {event.contractVersion ? <span className="muted"> v{event.contractVersion}</span> : null}
        </dd>
        {event.statusAt ? (
          <>
            <dt>Decided</dt>
            <dd>
              {event.status} {formatDateTime(event.statusAt)}
              {event.statusBy ? <span className="muted"> by {event.statusBy}</span> : null}
            </dd>
          </>
        ) : null}
        {event.ip ? (
          <>
            <dt>IP</dt>
            <dd>{event.ip}</dd>
          </>
        ) : null}
        {agent ? (
          <>
            <dt>Agent</dt>
            <dd title={event.userAgent ?? undefined}>{agent}</dd>
          </>
        ) : null}
      </dl>
      <h3 className="detail-heading">Violations</h3>
      <ViolationList violations={event.violations} testId="quarantine-detail-violations" />
      <h3 className="detail-heading">Payload</h3>
      <div className="quarantine-payload">
        <JsonView value={event.payload} testId="quarantine-payload" />
      </div>
    </div>
  );
}

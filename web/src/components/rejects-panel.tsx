import { useApi } from '../api-context.js';
import { formatDateTime } from '../format.js';
import { usePoll } from '../use-poll.js';
import { ErrorBanner } from './error-banner.js';
import { Panel } from './panel.js';

const REFRESH_MS = 5000;

/** The latest events that failed validation, with the reason. */
export function RejectsPanel() {
  const api = useApi();
  const rejects = usePoll((signal) => api.rejects(20, signal), REFRESH_MS);
  const items = rejects.data?.items ?? [];

  return (
    <Panel title="Rejected" testId="rejects-panel" className="rejects-panel">
      {rejects.error ? <ErrorBanner error={rejects.error} /> : null}
      {rejects.data && items.length === 0 ? <p className="empty-state">No rejected events.</p> : null}
      {!rejects.data && !rejects.error ? <p className="loading">Loading…</p> : null}
      {items.length > 0 ? (
        <ul className="reject-list">
          {items.map((item, index) => (
            <li
              // Rejections have no id; the position in this snapshot is stable enough for display.
              // biome-ignore lint/suspicious/noArrayIndexKey: see above.
              key={`${item.received_at}-${index}`}
              className="reject-row"
              data-testid="reject-row"
              data-reason-code={item.reason_code}
            >
              <div className="reject-top">
                <code className="reject-code">{item.reason_code}</code>
                <time className="muted small" dateTime={item.received_at}>
                  {formatDateTime(item.received_at)}
                </time>
              </div>
              <div className="reject-reason">{item.reason}</div>
              {item.field ? (
                <div className="muted small">
                  field <code>{item.field}</code>
                </div>
              ) : null}
            </li>
          ))}
        </ul>
      ) : null}
    </Panel>
  );
}

import { useState } from 'react';
import { useApi } from '../api-context.js';
import { type ApiError, toApiError } from '../api-error.js';
import { formatDateTime } from '../format.js';
import { usePoll } from '../use-poll.js';
import { ConfirmButton } from './confirm-button.js';
import { ErrorBanner } from './error-banner.js';
import { Panel } from './panel.js';

const REFRESH_MS = 10_000;

/**
 * The held log lines with why each was set aside; each can be replayed as stored or discarded (a corrected
 * line is replayed with `refinery wal damaged replay --line-file` or the API). Needs an admin key.
 */
export function DamagedLinesPanel() {
  const api = useApi();
  const list = usePoll((signal) => api.damagedLines('held', signal), REFRESH_MS);
  const [busy, setBusy] = useState<string | undefined>(undefined);
  const [actionError, setActionError] = useState<ApiError | undefined>(undefined);

  const decide = async (id: string, decision: 'replay' | 'discard') => {
    setBusy(id);
    setActionError(undefined);
    try {
      await api.decideDamagedLine(id, decision);
    } catch (error) {
      setActionError(toApiError(error));
    } finally {
      setBusy(undefined);
      list.refresh();
    }
  };

  const items = list.data?.items ?? [];
  return (
    <Panel title="Log lines set aside" testId="panel-damaged-lines">
      {list.error ? <ErrorBanner error={list.error} /> : null}
      {actionError ? <ErrorBanner error={actionError} testId="damaged-lines-action-error" /> : null}
      {!list.data && !list.error ? <p className="loading">Loading…</p> : null}
      {list.data && items.length === 0 ? <p className="empty-state">No log line is held.</p> : null}
      {items.length > 0 ? (
        <div className="table-wrap table-scroll">
          <table className="table" data-testid="damaged-lines-table">
            <thead>
              <tr>
                <th scope="col">Found</th>
                <th scope="col">Line</th>
                <th scope="col">Why</th>
                <th scope="col">Text</th>
                <th scope="col">Decide</th>
              </tr>
            </thead>
            <tbody>
              {items.map((item) => (
                <tr key={item.id} data-testid="damaged-line-row">
                  <td>{formatDateTime(item.foundAt)}</td>
                  <td>
                    <code>{item.id}</code>
                  </td>
                  <td>
                    <strong>{item.damage}</strong> <span className="muted">{item.reason}</span>
                  </td>
                  <td>
                    <code>{item.text}</code>
                  </td>
                  <td className="row-gap">
                    <ConfirmButton
                      label="Replay"
                      confirmLabel="Replay as stored"
                      disabled={busy !== undefined}
                      testId={`damaged-line-replay-${item.lineNo}`}
                      onConfirm={() => void decide(item.id, 'replay')}
                    />
                    <ConfirmButton
                      label="Discard"
                      confirmLabel="Discard for good"
                      danger
                      disabled={busy !== undefined}
                      testId={`damaged-line-discard-${item.lineNo}`}
                      onConfirm={() => void decide(item.id, 'discard')}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </Panel>
  );
}

import { useCallback, useMemo, useState } from 'react';
import { useApi } from '../api-context.js';
import { type ApiError, toApiError } from '../api-error.js';
import type { PrivacyRequest } from '../api-types.js';
import { ApiProblem, isForbidden } from '../components/api-problem.js';
import { Panel } from '../components/panel.js';
import { PrivacyRequestForm } from '../components/privacy-request-form.js';
import { ClosedRequestsTable, OpenRequestsTable } from '../components/privacy-request-table.js';
import { formatDateTime, parseTime } from '../format.js';
import { usePoll } from '../use-poll.js';
import '../components/people.css';

const REFRESH_MS = 15_000;

const byDue = (a: PrivacyRequest, b: PrivacyRequest) => parseTime(a.dueAt) - parseTime(b.dueAt);
const byClosedDesc = (a: PrivacyRequest, b: PrivacyRequest) =>
  parseTime(b.completedAt ?? b.receivedAt) - parseTime(a.completedAt ?? a.receivedAt);

interface Queue {
  open: PrivacyRequest[];
  closed: PrivacyRequest[];
  loadedAt: number;
}

interface Outcome {
  request: PrivacyRequest;
  action: 'filed' | 'run' | 'refused';
}

function outcomeText({ request, action }: Outcome): string {
  if (action === 'refused') return `Request ${request.id} was refused.`;
  if (request.status === 'done') return `Request ${request.id} (${request.kind}) was carried out.`;
  return `Request ${request.id} (${request.kind}) is queued, due ${formatDateTime(request.dueAt)}.`;
}

/** The privacy request queue: open requests by deadline with their actions, a form to file one, closed ones. */
export function PrivacyPage() {
  const api = useApi();
  const [busyId, setBusyId] = useState<string | undefined>(undefined);
  const [outcome, setOutcome] = useState<Outcome | undefined>(undefined);
  const [actionError, setActionError] = useState<ApiError | undefined>(undefined);

  // Three lists rather than one: the API filters by status, and open requests must never be cut off by done ones.
  const loadQueue = useCallback(
    async (signal: AbortSignal): Promise<Queue> => {
      const [open, done, refused] = await Promise.all([
        api.privacyRequests('open', signal),
        api.privacyRequests('done', signal),
        api.privacyRequests('refused', signal),
      ]);
      return {
        open: [...open.requests].sort(byDue),
        closed: [...done.requests, ...refused.requests].sort(byClosedDesc),
        loadedAt: Date.now(),
      };
    },
    [api],
  );
  const queue = usePoll(loadQueue, REFRESH_MS);
  const refresh = queue.refresh;

  const act = useCallback(
    async (
      request: PrivacyRequest,
      action: 'run' | 'refused',
      call: () => Promise<{ request: PrivacyRequest }>,
    ) => {
      setBusyId(request.id);
      setActionError(undefined);
      setOutcome(undefined);
      try {
        const result = await call();
        setOutcome({ request: result.request, action });
      } catch (caught) {
        setActionError(toApiError(caught));
      } finally {
        setBusyId(undefined);
        refresh();
      }
    },
    [refresh],
  );

  const overdue = useMemo(
    () => queue.data?.open.filter((request) => request.overdue).length ?? 0,
    [queue.data],
  );

  if (queue.error && isForbidden(queue.error)) {
    return (
      <div className="stack">
        <ApiProblem error={queue.error} action="see or file privacy requests" testId="privacy-error" />
      </div>
    );
  }

  return (
    <div className="stack">
      <Panel title="File a request" testId="panel-privacy-form">
        <PrivacyRequestForm
          onFiled={(request) => {
            setActionError(undefined);
            setOutcome({ request, action: 'filed' });
            refresh();
          }}
        />
      </Panel>
      {outcome ? (
        <p
          className="notice"
          role="status"
          data-testid="privacy-outcome"
          data-request-id={outcome.request.id}
        >
          {outcomeText(outcome)}
        </p>
      ) : null}
      {actionError ? (
        <ApiProblem error={actionError} action="act on this request" testId="privacy-action-error" />
      ) : null}
      <Panel
        title={overdue > 0 ? `Open requests (${overdue} overdue)` : 'Open requests'}
        testId="panel-open-requests"
      >
        {queue.error ? (
          <ApiProblem error={queue.error} action="see privacy requests" testId="privacy-error" />
        ) : queue.data ? (
          <OpenRequestsTable
            requests={queue.data.open}
            now={queue.data.loadedAt}
            busyId={busyId}
            onRun={(request) => void act(request, 'run', () => api.runPrivacyRequest(request.id))}
            onRefuse={(request, reason) =>
              void act(request, 'refused', () => api.refusePrivacyRequest(request.id, reason))
            }
          />
        ) : (
          <p className="loading">Loading…</p>
        )}
      </Panel>
      <Panel title="Done and refused" testId="panel-closed-requests">
        {queue.data ? (
          <ClosedRequestsTable requests={queue.data.closed} />
        ) : queue.error ? null : (
          <p className="loading">Loading…</p>
        )}
      </Panel>
    </div>
  );
}

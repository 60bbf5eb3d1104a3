import type { PrivacyRequest } from '../api-types.js';
import { purposeLabel } from '../consent-labels.js';
import { formatCount, formatDateTime } from '../format.js';
import { bundleParts, deadlineText, resultCounts } from '../privacy-request-format.js';
import { BundleDownloads } from './bundle-downloads.js';
import { PrivacyRequestRowActions } from './privacy-request-row-actions.js';

const KIND_LABELS: Record<string, string> = { access: 'Access', erase: 'Erasure', object: 'Objection' };

function KindCell({ request }: { request: PrivacyRequest }) {
  return (
    <td>
      <span className={`kind-badge kind-${request.kind}`}>{KIND_LABELS[request.kind] ?? request.kind}</span>
      {request.purpose ? <span className="muted small"> to {purposeLabel(request.purpose)}</span> : null}
    </td>
  );
}

const COUNT_LABELS: Record<string, string> = { keysShredded: 'personal-data keys shredded' };

/** What a closed request did: the refusal's reason, what an erasure deleted, an objection's decision, a bundle. */
function ResultSummary({ request }: { request: PrivacyRequest }) {
  const result = request.result ?? {};
  if (request.status === 'refused') {
    return <span>{typeof result.reason === 'string' ? `Refused: ${result.reason}` : 'Refused'}</span>;
  }
  if (request.kind === 'access') {
    return <BundleDownloads requestId={request.id} parts={bundleParts(request.result)} />;
  }
  if (request.kind === 'object' && typeof result.purpose === 'string') {
    return <span>{purposeLabel(result.purpose)} recorded as denied.</span>;
  }
  // An erasure: rows deleted per table and keys shredded; how the deletion was made physical is for the audit.
  const deleted = resultCounts(
    result.deleted && typeof result.deleted === 'object' ? (result.deleted as Record<string, unknown>) : null,
  );
  const other = resultCounts(result).filter(
    (count) => !count.name.startsWith('deleted.') && !count.name.startsWith('physical.'),
  );
  const counts = [
    ...deleted.map((count) => ({ ...count, label: `${count.name} deleted` })),
    ...other.map((count) => ({ ...count, label: COUNT_LABELS[count.name] ?? count.name })),
  ];
  if (counts.length === 0) return <span className="muted">Nothing was held about the person.</span>;
  return (
    <ul className="result-counts">
      {counts.map((count) => (
        <li
          key={count.name}
          data-testid="request-result-count"
          data-name={count.name}
          data-count={count.count}
        >
          {count.label}: <strong>{formatCount(count.count)}</strong>
        </li>
      ))}
    </ul>
  );
}

function ResultCell({ request }: { request: PrivacyRequest }) {
  return (
    <td className="small" data-testid="request-result">
      <ResultSummary request={request} />
    </td>
  );
}

interface OpenRequestsProps {
  requests: PrivacyRequest[];
  now: number;
  busyId: string | undefined;
  onRun: (request: PrivacyRequest) => void;
  onRefuse: (request: PrivacyRequest, reason: string) => void;
}

/** Requests waiting for someone, the nearest deadline first; overdue ones stand out. */
export function OpenRequestsTable({ requests, now, busyId, onRun, onRefuse }: OpenRequestsProps) {
  if (requests.length === 0) {
    return (
      <p className="empty-state" data-testid="open-requests-empty">
        No open requests.
      </p>
    );
  }
  return (
    <div className="table-wrap">
      <table className="table" data-testid="open-requests">
        <thead>
          <tr>
            <th scope="col">Request</th>
            <th scope="col">Subject</th>
            <th scope="col">Received</th>
            <th scope="col">Due</th>
            <th scope="col">Status</th>
            <th scope="col" />
          </tr>
        </thead>
        <tbody>
          {requests.map((request) => (
            <tr
              key={request.id}
              className={request.overdue ? 'row-overdue' : undefined}
              data-testid="privacy-request"
              data-id={request.id}
              data-kind={request.kind}
              data-status={request.status}
              data-overdue={request.overdue}
            >
              <KindCell request={request} />
              <td>
                <code className="request-subject" data-testid="request-subject">
                  {request.subject}
                </code>
              </td>
              <td>{formatDateTime(request.receivedAt)}</td>
              <td data-testid="request-due" data-due-at={request.dueAt}>
                {formatDateTime(request.dueAt)}
                <span className={request.overdue ? 'deadline deadline-overdue' : 'deadline'}>
                  {deadlineText(request.dueAt, request.overdue, now)}
                </span>
              </td>
              <td>
                <span className={`status-badge status-${request.status}`} data-testid="request-status">
                  {request.overdue ? 'overdue' : request.status}
                </span>
              </td>
              <td className="actions-cell">
                <PrivacyRequestRowActions
                  request={request}
                  busy={busyId === request.id}
                  onRun={onRun}
                  onRefuse={onRefuse}
                />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Requests carried out or refused, the latest first, with what was done. */
export function ClosedRequestsTable({ requests }: { requests: PrivacyRequest[] }) {
  if (requests.length === 0) {
    return (
      <p className="empty-state" data-testid="closed-requests-empty">
        No request has been carried out or refused yet.
      </p>
    );
  }
  return (
    <div className="table-wrap">
      <table className="table" data-testid="closed-requests">
        <thead>
          <tr>
            <th scope="col">Request</th>
            <th scope="col">Subject</th>
            <th scope="col">Received</th>
            <th scope="col">Closed</th>
            <th scope="col">Status</th>
            <th scope="col">Result</th>
          </tr>
        </thead>
        <tbody>
          {requests.map((request) => (
            <tr
              key={request.id}
              data-testid="privacy-request"
              data-id={request.id}
              data-kind={request.kind}
              data-status={request.status}
            >
              <KindCell request={request} />
              <td>
                <code className="request-subject" data-testid="request-subject">
                  {request.subject}
                </code>
              </td>
              <td>{formatDateTime(request.receivedAt)}</td>
              <td>{formatDateTime(request.completedAt)}</td>
              <td>
                <span className={`status-badge status-${request.status}`} data-testid="request-status">
                  {request.status}
                </span>
              </td>
              <ResultCell request={request} />
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

import type { ApiKey } from '../api-types.js';
import { formatDateTime } from '../format.js';
import { RevokeButton } from './revoke-button.js';

interface KeysTableProps {
  keys: ApiKey[];
  revokingId: string | undefined;
  onRevoke: (key: ApiKey) => void;
}

export function KeysTable({ keys, revokingId, onRevoke }: KeysTableProps) {
  if (keys.length === 0) {
    return (
      <p className="empty-state" data-testid="keys-table">
        No API keys yet.
      </p>
    );
  }
  return (
    <div className="table-wrap">
      <table className="table" data-testid="keys-table">
        <thead>
          <tr>
            <th scope="col">Prefix</th>
            <th scope="col">Kind</th>
            <th scope="col">Name</th>
            <th scope="col">Source</th>
            <th scope="col">Created</th>
            <th scope="col">Status</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {keys.map((key) => (
            <tr
              key={key.id}
              className={key.revokedAt ? 'row-revoked' : undefined}
              data-testid="key-row"
              data-key-id={key.id}
              data-prefix={key.prefix}
              data-revoked={key.revokedAt ? 'true' : 'false'}
            >
              <td>
                <code>{key.prefix}…</code>
              </td>
              <td>
                <span className={`tag tag-${key.kind}`}>{key.kind}</span>
              </td>
              <td>{key.name}</td>
              <td>{key.source ?? <span className="muted">any</span>}</td>
              <td>{formatDateTime(key.createdAt)}</td>
              <td data-testid="key-status">
                {key.revokedAt ? (
                  <span className="status-revoked" title={key.revokedAt}>
                    Revoked {formatDateTime(key.revokedAt)}
                  </span>
                ) : (
                  <span className="status-active">Active</span>
                )}
              </td>
              <td className="actions-cell">
                {key.revokedAt ? null : (
                  <RevokeButton
                    keyName={key.name}
                    busy={revokingId === key.id}
                    onRevoke={() => onRevoke(key)}
                  />
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

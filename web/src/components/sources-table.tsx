import type { Source } from '../api-types.js';
import { formatCount } from '../format.js';

interface SourcesTableProps {
  sources: Source[];
}

export function SourcesTable({ sources }: SourcesTableProps) {
  if (sources.length === 0) {
    return (
      <p className="empty-state" data-testid="sources-table">
        No sources configured.
      </p>
    );
  }
  return (
    <div className="table-wrap">
      <table className="table" data-testid="sources-table">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Type</th>
            <th scope="col">Description</th>
            <th scope="col" className="num">
              Events
            </th>
          </tr>
        </thead>
        <tbody>
          {sources.map((source) => (
            <tr key={source.name} data-testid="source-row" data-name={source.name}>
              <td>
                <strong>{source.name}</strong>
              </td>
              <td>
                <span className="tag">{source.type}</span>
              </td>
              <td className="muted">{source.description ?? '—'}</td>
              <td className="num">{formatCount(source.events)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

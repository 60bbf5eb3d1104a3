import type { QueryResponse } from '../api-types.js';
import { formatCell } from '../format.js';

interface ResultTableProps {
  result: QueryResponse;
  elapsedMs: number;
}

const NUMERIC = /int|decimal|double|float|real|numeric|hugeint/i;

/** A query result as a table, with a notice when the server cut it short. */
export function ResultTable({ result, elapsedMs }: ResultTableProps) {
  const rowCount = result.rows.length;
  return (
    <div
      className="query-result"
      data-testid="query-result"
      data-rows={rowCount}
      data-truncated={result.truncated}
    >
      <p className="muted small" data-testid="query-summary">
        {rowCount} {rowCount === 1 ? 'row' : 'rows'} · {result.columns.length}{' '}
        {result.columns.length === 1 ? 'column' : 'columns'} · {Math.round(elapsedMs)} ms
      </p>
      {result.truncated ? (
        <p className="notice" role="status" data-testid="query-truncated">
          Result truncated: only the first {rowCount} rows are shown. Add a <code>LIMIT</code> or aggregate to
          see less.
        </p>
      ) : null}
      <div className="table-wrap table-scroll">
        <table className="table table-compact">
          <thead>
            <tr>
              {result.columns.map((column) => (
                <th key={column.name} scope="col" className={NUMERIC.test(column.type) ? 'num' : undefined}>
                  {column.name}
                  <span className="column-type">{column.type}</span>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {result.rows.map((row, rowIndex) => (
              // Result rows have no identity; their order is the identity.
              // biome-ignore lint/suspicious/noArrayIndexKey: see above.
              <tr key={rowIndex} data-testid="query-row">
                {result.columns.map((column) => {
                  const value = row[column.name];
                  const isNull = value === null || value === undefined;
                  const classes = [NUMERIC.test(column.type) ? 'num' : '', isNull ? 'null-cell' : '']
                    .filter(Boolean)
                    .join(' ');
                  return (
                    <td key={column.name} className={classes || undefined}>
                      {formatCell(value)}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {rowCount === 0 ? <p className="empty-state">The query returned no rows.</p> : null}
    </div>
  );
}

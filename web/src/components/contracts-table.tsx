import { Fragment } from 'react';
import type { ContractSummary, GovernedItem } from '../api-types.js';
import { ModeBadge } from './governance-badges.js';

interface ContractsTableProps {
  contracts: ContractSummary[];
}

function checksOf(item: GovernedItem): string {
  const parts = [`${item.properties} ${item.properties === 1 ? 'property' : 'properties'}`];
  if (item.requiredProperties > 0) parts.push(`${item.requiredProperties} required`);
  if (item.qualityRules > 0) {
    parts.push(`${item.qualityRules} quality ${item.qualityRules === 1 ? 'rule' : 'rules'}`);
  }
  return parts.join(' · ');
}

function targetOf(item: GovernedItem) {
  if (item.target !== null) return <span className="governs-target">{item.target}</span>;
  return <span className="muted">every {item.kind} call</span>;
}

/** Each contract with the events and datasets it governs, one row per governed item. */
export function ContractsTable({ contracts }: ContractsTableProps) {
  if (contracts.length === 0) {
    return (
      <p className="empty-state" data-testid="contracts-table">
        No contracts yet. Add ODCS files to the workspace's <code>contracts/</code> folder.
      </p>
    );
  }
  return (
    <div className="table-wrap">
      <table className="table contracts-table" data-testid="contracts-table">
        <thead>
          <tr>
            <th scope="col">Contract</th>
            <th scope="col">Version</th>
            <th scope="col">Owner</th>
            <th scope="col">Governs</th>
            <th scope="col">Mode</th>
            <th scope="col">Checks</th>
          </tr>
        </thead>
        <tbody>
          {contracts.map((contract) => {
            const rows = contract.governs.length > 0 ? contract.governs : [undefined];
            return (
              <Fragment key={contract.id}>
                {rows.map((item, index) => (
                  <tr
                    key={item ? `${item.object}-${item.kind}-${item.target ?? ''}` : 'none'}
                    className={index === 0 ? 'contract-start' : undefined}
                    data-testid={index === 0 ? 'contract-row' : undefined}
                    data-contract-id={contract.id}
                  >
                    {index === 0 ? (
                      <>
                        <td rowSpan={rows.length} className="contract-first">
                          <div className="contract-cell">
                            <strong data-testid="contract-name">{contract.name ?? contract.id}</strong>
                            <code className="muted small">{contract.id}</code>
                            <span className="muted small" title="File in the workspace">
                              {contract.file}
                            </span>
                            <span>
                              <ModeBadge mode={contract.mode} testId="contract-mode" />
                            </span>
                          </div>
                        </td>
                        <td rowSpan={rows.length} className="contract-first">
                          <div className="contract-cell">
                            <span>{contract.version}</span>
                            <span className="muted small">{contract.status}</span>
                          </div>
                        </td>
                        <td rowSpan={rows.length} className="contract-first">
                          {contract.owner ?? <span className="muted">—</span>}
                        </td>
                      </>
                    ) : null}
                    {item ? (
                      <>
                        <td
                          data-testid="governed-item"
                          data-kind={item.kind}
                          data-target={item.target ?? ''}
                          data-mode={item.mode}
                        >
                          <span className="row-gap">
                            <span className={`type-badge type-${item.kind}`}>{item.kind}</span>
                            {targetOf(item)}
                          </span>
                        </td>
                        <td>
                          <ModeBadge mode={item.mode} />
                        </td>
                        <td className="muted small">{checksOf(item)}</td>
                      </>
                    ) : (
                      <td colSpan={3} className="muted">
                        Governs nothing yet.
                      </td>
                    )}
                  </tr>
                ))}
              </Fragment>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

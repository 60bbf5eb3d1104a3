import type { PersonConsent } from '../api-types.js';
import { consentSourceLabel, decisionOf, purposeLabel } from '../consent-labels.js';
import { formatDateTime } from '../format.js';
import { ConsentStandings } from './consent-standings.js';

/** One person's standing per purpose and every decision recorded for them, newest first. */
export function ConsentHistory({ consent }: { consent: PersonConsent }) {
  const history = [...consent.history].sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
  return (
    <div className="stack stack-tight" data-testid="consent-history" data-person-id={consent.personId}>
      <ConsentStandings standings={consent.state} />
      {history.length === 0 ? (
        <p className="muted small">No decision recorded: the workspace defaults apply.</p>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Purpose</th>
                <th scope="col">Decision</th>
                <th scope="col">Source</th>
                <th scope="col">Category</th>
              </tr>
            </thead>
            <tbody>
              {history.map((entry) => {
                const decision = decisionOf(entry.granted);
                return (
                  <tr
                    // One instant can decide a purpose twice: by two sources, or by two banner categories.
                    key={`${entry.at}|${entry.purpose}|${entry.source}|${entry.category}|${entry.granted}`}
                    data-testid="consent-history-row"
                    data-purpose={entry.purpose}
                    data-granted={entry.granted}
                    data-source={entry.source}
                  >
                    <td>{formatDateTime(entry.at)}</td>
                    <td>{purposeLabel(entry.purpose)}</td>
                    <td>
                      <span className={`decision-badge decision-${decision}`}>{decision}</span>
                    </td>
                    <td>{consentSourceLabel(entry.source)}</td>
                    <td>{entry.category ? <code>{entry.category}</code> : '—'}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

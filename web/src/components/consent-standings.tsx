import type { ConsentStanding } from '../api-types.js';
import { consentSourceLabel, decisionOf, purposeLabel } from '../consent-labels.js';
import { formatDateTime } from '../format.js';

/** One person's standing per purpose: granted or denied, since when, and from which signal. */
export function ConsentStandings({ standings }: { standings: ConsentStanding[] }) {
  if (standings.length === 0) return <p className="muted small">No consent purposes.</p>;
  return (
    <ul className="consent-standings" data-testid="profile-consents">
      {standings.map((standing) => {
        const decision = decisionOf(standing.granted);
        return (
          <li
            key={standing.purpose}
            className="consent-standing"
            data-testid="profile-consent"
            data-purpose={standing.purpose}
            data-granted={standing.granted}
            data-source={standing.source}
          >
            <span className="consent-purpose">{purposeLabel(standing.purpose)}</span>
            <span className={`decision-badge decision-${decision}`}>{decision}</span>
            <span className="muted small">
              {standing.since ? `since ${formatDateTime(standing.since)}` : 'no choice recorded'} ·{' '}
              {consentSourceLabel(standing.source)}
            </span>
          </li>
        );
      })}
    </ul>
  );
}

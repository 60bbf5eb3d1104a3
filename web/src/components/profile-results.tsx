import type { Profile } from '../api-types.js';
import { formatCell, formatCount, formatDateTime } from '../format.js';

interface ProfileResultsProps {
  profiles: Profile[];
  trait: string;
  onOpen: (personId: string) => void;
}

/** People a trait search found; each opens to the full profile. */
export function ProfileResults({ profiles, trait, onOpen }: ProfileResultsProps) {
  if (profiles.length === 0) {
    return (
      <p className="empty-state" data-testid="profile-results-empty">
        Nobody has that value for {trait}.
      </p>
    );
  }
  return (
    <div className="table-wrap">
      <table className="table" data-testid="profile-results">
        <thead>
          <tr>
            <th scope="col">Person</th>
            <th scope="col">{trait}</th>
            <th scope="col" className="num">
              Events
            </th>
            <th scope="col">Last seen</th>
            <th scope="col" />
          </tr>
        </thead>
        <tbody>
          {profiles.map((profile) => (
            <tr key={profile.personId} data-testid="profile-result" data-person-id={profile.personId}>
              <td>
                <code>{profile.personId}</code>
              </td>
              <td>{formatCell(profile.traits[trait] ?? null)}</td>
              <td className="num">{formatCount(profile.eventCount)}</td>
              <td>{formatDateTime(profile.lastSeen)}</td>
              <td className="actions-cell">
                <button
                  type="button"
                  className="button button-small"
                  onClick={() => onOpen(profile.personId)}
                  data-testid="profile-result-open"
                >
                  Open
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

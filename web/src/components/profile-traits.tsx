import { formatCell, formatDateTime } from '../format.js';

interface ProfileTraitsProps {
  traits: Record<string, unknown>;
  updatedAt: Record<string, string>;
  /** Traits withheld from this key's role. */
  hidden: string[];
}

/** The latest value of each trait and when it was set; withheld personal fields say so instead of a value. */
export function ProfileTraits({ traits, updatedAt, hidden }: ProfileTraitsProps) {
  const names = Object.keys(traits).sort();
  if (names.length === 0) return <p className="muted small">No traits recorded yet.</p>;
  const withheld = new Set(hidden);
  return (
    <div className="table-wrap">
      <table className="table" data-testid="profile-traits">
        <thead>
          <tr>
            <th scope="col">Trait</th>
            <th scope="col">Value</th>
            <th scope="col">Updated</th>
          </tr>
        </thead>
        <tbody>
          {names.map((name) => {
            const isHidden = withheld.has(name);
            return (
              <tr key={name} data-testid="profile-trait" data-trait={name} data-hidden={isHidden}>
                <th scope="row" className="trait-name">
                  {name}
                </th>
                <td data-testid="profile-trait-value">
                  {isHidden ? (
                    <span
                      className="hidden-value"
                      title="A personal field: your key's role may not read personal data"
                    >
                      [hidden] <span className="muted small">personal field, not shown to your role</span>
                    </span>
                  ) : (
                    <span className="trait-value">{formatCell(traits[name])}</span>
                  )}
                </td>
                <td className="muted small">{formatDateTime(updatedAt[name] ?? null)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

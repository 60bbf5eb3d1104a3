import type { Identity } from '../api-types.js';

const HASHED_TYPES = new Set(['email', 'phone']);

/** Every id the identity graph joined into this person; emails and phones are held only as hashes. */
export function ProfileIdentities({ identities }: { identities: Identity[] }) {
  if (identities.length === 0) return <p className="muted small">No identities.</p>;
  return (
    <ul className="identity-list" data-testid="profile-identities">
      {identities.map((identity) => {
        const hashed = HASHED_TYPES.has(identity.type) && /^[0-9a-f]{64}$/i.test(identity.value);
        return (
          <li
            key={`${identity.type}:${identity.value}`}
            className="identity"
            data-testid="profile-identity"
            data-type={identity.type}
            data-value={identity.value}
          >
            <span className="identity-type">{identity.type}</span>
            {hashed ? (
              <code className="identity-value" title={`SHA-256 ${identity.value}`}>
                sha256 {identity.value.slice(0, 12)}…
              </code>
            ) : (
              <code className="identity-value">{identity.value}</code>
            )}
          </li>
        );
      })}
    </ul>
  );
}

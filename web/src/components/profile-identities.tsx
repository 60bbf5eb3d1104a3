import type { Identity } from '../api-types.js';

const HASHED_TYPES = new Set(['email', 'phone']);
/** The workspace's keyed hash (`h1:` + HMAC-SHA-256), or the plain SHA-256 an older version stored. */
const HASH = /^(h1:)?([0-9a-f]{64})$/i;

/** Every id the identity graph joined into this person; emails and phones are held only as keyed hashes. */
export function ProfileIdentities({ identities }: { identities: Identity[] }) {
  if (identities.length === 0) return <p className="muted small">No identities.</p>;
  return (
    <ul className="identity-list" data-testid="profile-identities">
      {identities.map((identity) => {
        const hash = HASHED_TYPES.has(identity.type) ? HASH.exec(identity.value) : null;
        return (
          <li
            key={`${identity.type}:${identity.value}`}
            className="identity"
            data-testid="profile-identity"
            data-type={identity.type}
            data-value={identity.value}
          >
            <span className="identity-type">{identity.type}</span>
            {hash ? (
              <code
                className="identity-value"
                title={`${hash[1] ? 'HMAC-SHA-256 under the workspace key' : 'SHA-256'}: ${identity.value}`}
              >
                {hash[1] ? 'keyed hash' : 'sha256'} {hash[2]!.slice(0, 12)}…
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

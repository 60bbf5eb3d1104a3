import { useState } from 'react';

interface RevokeButtonProps {
  keyName: string;
  busy: boolean;
  onRevoke: () => void;
}

/** Two-step revoke: the first click asks, "Confirm" revokes. */
export function RevokeButton({ keyName, busy, onRevoke }: RevokeButtonProps) {
  const [confirming, setConfirming] = useState(false);
  if (!confirming) {
    return (
      <button
        type="button"
        className="button button-small button-danger-outline"
        onClick={() => setConfirming(true)}
        disabled={busy}
        aria-label={`Revoke key ${keyName}`}
        data-testid="key-revoke"
      >
        Revoke
      </button>
    );
  }
  return (
    <span className="row-gap">
      <button
        type="button"
        className="button button-small button-danger"
        onClick={() => {
          setConfirming(false);
          onRevoke();
        }}
        aria-label={`Confirm revoking key ${keyName}`}
        data-testid="key-revoke-confirm"
      >
        Confirm
      </button>
      <button type="button" className="button button-small button-ghost" onClick={() => setConfirming(false)}>
        Cancel
      </button>
    </span>
  );
}

import { useState } from 'react';

interface ConfirmButtonProps {
  /** What the first button says, e.g. "Discard selected (2)". */
  label: string;
  /** What the confirming button says, e.g. "Discard 2 events". */
  confirmLabel: string;
  disabled: boolean;
  danger?: boolean;
  testId: string;
  onConfirm: () => void;
}

/** Two-step action for decisions that cannot be undone: the first click asks, the second acts. */
export function ConfirmButton({
  label,
  confirmLabel,
  disabled,
  danger,
  testId,
  onConfirm,
}: ConfirmButtonProps) {
  const [confirming, setConfirming] = useState(false);
  if (!confirming || disabled) {
    return (
      <button
        type="button"
        className={danger ? 'button button-small button-danger-outline' : 'button button-small'}
        onClick={() => setConfirming(true)}
        disabled={disabled}
        data-testid={testId}
      >
        {label}
      </button>
    );
  }
  return (
    <span className="row-gap">
      <button
        type="button"
        className={danger ? 'button button-small button-danger' : 'button button-small button-primary'}
        onClick={() => {
          setConfirming(false);
          onConfirm();
        }}
        data-testid={`${testId}-confirm`}
      >
        {confirmLabel}
      </button>
      <button type="button" className="button button-small button-ghost" onClick={() => setConfirming(false)}>
        Cancel
      </button>
    </span>
  );
}

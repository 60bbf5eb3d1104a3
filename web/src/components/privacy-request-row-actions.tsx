import { type FormEvent, useState } from 'react';
import type { PrivacyRequest } from '../api-types.js';
import { ConfirmButton } from './confirm-button.js';

interface RowActionsProps {
  request: PrivacyRequest;
  busy: boolean;
  onRun: (request: PrivacyRequest) => void;
  onRefuse: (request: PrivacyRequest, reason: string) => void;
}

/** Carry out (erasure asks first, it cannot be undone) or refuse with a reason the record keeps. */
export function PrivacyRequestRowActions({ request, busy, onRun, onRefuse }: RowActionsProps) {
  const [refusing, setRefusing] = useState(false);
  const [reason, setReason] = useState('');

  if (refusing) {
    const submit = (event: FormEvent<HTMLFormElement>) => {
      event.preventDefault();
      if (!reason.trim()) return;
      onRefuse(request, reason.trim());
      setRefusing(false);
      setReason('');
    };
    return (
      <form className="row-gap refuse-form" onSubmit={submit} aria-label={`Refuse request ${request.id}`}>
        <input
          className="inline-input"
          value={reason}
          onChange={(event) => setReason(event.target.value)}
          placeholder="Reason, e.g. identity not verified"
          aria-label="Reason for refusing"
          required
          data-testid="request-refuse-reason"
        />
        <button
          type="submit"
          className="button button-small button-danger-outline"
          disabled={busy || !reason.trim()}
          data-testid="request-refuse-confirm"
        >
          Refuse
        </button>
        <button type="button" className="button button-small button-ghost" onClick={() => setRefusing(false)}>
          Cancel
        </button>
      </form>
    );
  }

  return (
    <span className="row-gap">
      {request.kind === 'erase' ? (
        <ConfirmButton
          label="Erase…"
          confirmLabel="Erase now, cannot be undone"
          danger
          disabled={busy}
          testId="request-run"
          onConfirm={() => onRun(request)}
        />
      ) : (
        <button
          type="button"
          className="button button-small button-primary"
          onClick={() => onRun(request)}
          disabled={busy}
          data-testid="request-run"
        >
          {request.kind === 'access' ? 'Export now' : 'Carry out'}
        </button>
      )}
      <button
        type="button"
        className="button button-small"
        onClick={() => setRefusing(true)}
        disabled={busy}
        data-testid="request-refuse"
      >
        Refuse…
      </button>
    </span>
  );
}

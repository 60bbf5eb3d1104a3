import { type FormEvent, useState } from 'react';
import { requestJson } from '../api-client.js';
import { toApiError } from '../api-error.js';
import type { StatsResponse } from '../api-types.js';

interface SignInFormProps {
  /** Why the person is asked to sign in (e.g. the stored key was rejected). */
  notice: string | undefined;
  onSignedIn: (key: string, stats: StatsResponse) => void;
}

/** Asks for an admin API key and checks it against `GET /v1/stats` before accepting it. */
export function SignInForm({ notice, onSignedIn }: SignInFormProps) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | undefined>(notice);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const trimmed = key.trim();
    if (!trimmed) {
      setError('Enter an admin API key.');
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      const stats = await requestJson<StatsResponse>(trimmed, '/v1/stats');
      onSignedIn(trimmed, stats);
    } catch (caught) {
      setError(toApiError(caught).message);
      setBusy(false);
    }
  };

  return (
    <main className="sign-in">
      <form className="sign-in-card" onSubmit={submit} data-testid="sign-in-form" aria-label="Sign in">
        <h1 className="brand">Refinery</h1>
        <p className="muted">Sign in with an admin API key to open the dashboard.</p>
        <label className="field">
          <span>Admin API key</span>
          <input
            type="password"
            name="key"
            autoComplete="off"
            spellCheck={false}
            value={key}
            onChange={(event) => setKey(event.target.value)}
            data-testid="sign-in-key"
            // biome-ignore lint/a11y/noAutofocus: the form is the only thing on the page.
            autoFocus
          />
        </label>
        {error ? (
          <p className="form-error" role="alert" data-testid="sign-in-error">
            {error}
          </p>
        ) : null}
        <button type="submit" className="button button-primary" disabled={busy} data-testid="sign-in-submit">
          {busy ? 'Checking…' : 'Sign in'}
        </button>
        <p className="muted small">
          Tip: open the dashboard as <code>/#key=&lt;admin key&gt;</code> to sign in directly. The key is kept
          in this browser tab only.
        </p>
      </form>
    </main>
  );
}

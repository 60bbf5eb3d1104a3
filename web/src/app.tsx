import { useCallback, useEffect, useState } from 'react';
import { requestJson } from './api-client.js';
import { ApiError, toApiError } from './api-error.js';
import type { StatsResponse } from './api-types.js';
import { clearStoredKey, storeKey, takeInitialKey, takeKeyFromHash } from './auth-key.js';
import { SignInForm } from './components/sign-in-form.js';
import { SignedInApp } from './signed-in-app.js';

type AuthState =
  | { status: 'checking'; key: string }
  | { status: 'unreachable'; key: string; message: string }
  | { status: 'signed-out'; notice: string | undefined }
  | { status: 'signed-in'; key: string; workspace: string };

function initialState(): AuthState {
  const key = takeInitialKey();
  return key ? { status: 'checking', key } : { status: 'signed-out', notice: undefined };
}

/** Decides between the sign-in form and the dashboard, and checks a remembered key on load. */
export function App() {
  const [auth, setAuth] = useState<AuthState>(initialState);

  // A `#key=...` link opened in an already loaded tab switches to that key.
  useEffect(() => {
    const onHashChange = () => {
      const key = takeKeyFromHash();
      if (key) setAuth({ status: 'checking', key });
    };
    window.addEventListener('hashchange', onHashChange);
    return () => window.removeEventListener('hashchange', onHashChange);
  }, []);

  const checkingKey = auth.status === 'checking' ? auth.key : undefined;
  useEffect(() => {
    if (checkingKey === undefined) return;
    const controller = new AbortController();
    requestJson<StatsResponse>(checkingKey, '/v1/stats', { signal: controller.signal }).then(
      (stats) => setAuth({ status: 'signed-in', key: checkingKey, workspace: stats.workspace }),
      (caught: unknown) => {
        if (controller.signal.aborted) return;
        const error = toApiError(caught);
        if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
          clearStoredKey();
          setAuth({ status: 'signed-out', notice: error.message });
        } else {
          setAuth({ status: 'unreachable', key: checkingKey, message: error.message });
        }
      },
    );
    return () => controller.abort();
  }, [checkingKey]);

  const onSignedIn = useCallback((key: string, stats: StatsResponse) => {
    storeKey(key);
    setAuth({ status: 'signed-in', key, workspace: stats.workspace });
  }, []);

  const onUnauthorized = useCallback((message: string) => {
    clearStoredKey();
    setAuth({ status: 'signed-out', notice: message });
  }, []);

  const onSignOut = useCallback(() => {
    clearStoredKey();
    setAuth({ status: 'signed-out', notice: undefined });
  }, []);

  switch (auth.status) {
    case 'checking':
      return (
        <main className="center-message" data-testid="app-loading">
          Connecting…
        </main>
      );
    case 'unreachable':
      return (
        <main className="center-message" data-testid="app-unreachable">
          <p role="alert">Could not load the dashboard: {auth.message}</p>
          <div className="row-gap">
            <button
              type="button"
              className="button button-primary"
              onClick={() => setAuth({ status: 'checking', key: auth.key })}
            >
              Retry
            </button>
            <button type="button" className="button" onClick={onSignOut}>
              Use another key
            </button>
          </div>
        </main>
      );
    case 'signed-out':
      return <SignInForm notice={auth.notice} onSignedIn={onSignedIn} />;
    case 'signed-in':
      return (
        <SignedInApp
          apiKey={auth.key}
          workspace={auth.workspace}
          onUnauthorized={onUnauthorized}
          onSignOut={onSignOut}
        />
      );
  }
}

import type { ApiError } from '../api-error.js';
import { ErrorBanner } from './error-banner.js';

/** The key's role lacks the permission the route needs (the key itself is valid, so no sign-out). */
export function isForbidden(error: ApiError | undefined): boolean {
  return error?.status === 403;
}

/** The server has no such route: an older server, or a feature not built into this one. */
export function isMissingRoute(error: ApiError | undefined): boolean {
  return (
    error?.status === 404 && error.code === 'REFINERY_ERR_NOT_FOUND' && error.message.startsWith('No route')
  );
}

interface ApiProblemProps {
  error: ApiError;
  /** What the page tried, completing "Your key's role cannot …", e.g. "see the consent overview". */
  action: string;
  testId?: string;
}

/**
 * An API failure as a person can act on it: a role without the permission gets a plain sentence (and the
 * server's explanation, which names the roles that may), a missing route says the server lacks the feature,
 * anything else shows the error code and message.
 */
export function ApiProblem({ error, action, testId = 'api-problem' }: ApiProblemProps) {
  if (isForbidden(error)) {
    return (
      <div className="notice notice-forbidden" role="alert" data-testid={`${testId}-forbidden`}>
        <strong>Your key's role cannot {action}.</strong> <span className="muted">{error.message}</span>
      </div>
    );
  }
  if (isMissingRoute(error)) {
    return (
      <div className="notice" role="alert" data-testid={`${testId}-unavailable`}>
        <strong>This server cannot {action} yet.</strong> <span className="muted">{error.message}</span>
      </div>
    );
  }
  return <ErrorBanner error={error} testId={testId} />;
}

import type { ApiError } from '../api-error.js';

interface ErrorBannerProps {
  error: ApiError;
  testId?: string;
}

/** An API error as a person reads it: the stable code plus the message. */
export function ErrorBanner({ error, testId = 'error-banner' }: ErrorBannerProps) {
  return (
    <div className="error-banner" role="alert" data-testid={testId}>
      <code className="error-code">{error.code}</code>
      <span className="error-message">{error.message}</span>
      {error.field ? <span className="error-field">field: {error.field}</span> : null}
    </div>
  );
}

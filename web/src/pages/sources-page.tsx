import { useState } from 'react';
import { useApi } from '../api-context.js';
import { type ApiError, toApiError } from '../api-error.js';
import type { ApiKey, CreatedKey, CreateKeyRequest } from '../api-types.js';
import { CreateKeyForm } from '../components/create-key-form.js';
import { CreatedKeyNotice } from '../components/created-key-notice.js';
import { ErrorBanner } from '../components/error-banner.js';
import { KeysTable } from '../components/keys-table.js';
import { Panel } from '../components/panel.js';
import { SdkSnippet } from '../components/sdk-snippet.js';
import { SourcesTable } from '../components/sources-table.js';
import { usePoll } from '../use-poll.js';

const REFRESH_MS = 10_000;

export function SourcesPage() {
  const api = useApi();
  const sources = usePoll((signal) => api.sources(signal), REFRESH_MS);
  const keys = usePoll((signal) => api.keys(signal), REFRESH_MS);
  const [created, setCreated] = useState<CreatedKey | undefined>(undefined);
  const [revokingId, setRevokingId] = useState<string | undefined>(undefined);
  const [revokeError, setRevokeError] = useState<ApiError | undefined>(undefined);

  const createKey = async (request: CreateKeyRequest) => {
    const result = await api.createKey(request);
    setCreated(result);
    keys.refresh();
    return result;
  };

  const revoke = async (key: ApiKey) => {
    setRevokingId(key.id);
    setRevokeError(undefined);
    try {
      await api.revokeKey(key.id);
    } catch (caught) {
      setRevokeError(toApiError(caught));
    } finally {
      setRevokingId(undefined);
      keys.refresh();
    }
  };

  const sourceList = sources.data?.sources ?? [];
  const writeKey = created?.kind === 'write' ? created.key : undefined;

  return (
    <div className="stack">
      <Panel title="Sources" testId="panel-sources">
        {sources.error ? <ErrorBanner error={sources.error} /> : null}
        {sources.data ? <SourcesTable sources={sourceList} /> : <p className="loading">Loading…</p>}
      </Panel>
      <Panel title="API keys" testId="panel-keys">
        <CreateKeyForm sources={sourceList} onCreate={createKey} />
        {created ? <CreatedKeyNotice created={created} onDismiss={() => setCreated(undefined)} /> : null}
        {keys.error ? <ErrorBanner error={keys.error} /> : null}
        {revokeError ? <ErrorBanner error={revokeError} testId="revoke-error" /> : null}
        {keys.data ? (
          <KeysTable keys={keys.data.keys} revokingId={revokingId} onRevoke={revoke} />
        ) : (
          <p className="loading">Loading…</p>
        )}
      </Panel>
      <Panel title="Send events" testId="panel-snippet">
        <p className="muted">
          Refinery speaks the Segment HTTP API, so the official <code>@segment/analytics-node</code> library
          works as is: point its <code>host</code> at this server.
        </p>
        <SdkSnippet writeKey={writeKey} />
      </Panel>
    </div>
  );
}

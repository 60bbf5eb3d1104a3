import { type FormEvent, useId, useState } from 'react';
import { type ApiError, toApiError } from '../api-error.js';
import type { CreatedKey, CreateKeyRequest, KeyKind, Source } from '../api-types.js';
import { ErrorBanner } from './error-banner.js';

interface CreateKeyFormProps {
  sources: Source[];
  onCreate: (request: CreateKeyRequest) => Promise<CreatedKey>;
}

/** Creates a write or admin key (`POST /v1/keys`); the caller shows the plaintext once. */
export function CreateKeyForm({ sources, onCreate }: CreateKeyFormProps) {
  const [kind, setKind] = useState<KeyKind>('write');
  const [name, setName] = useState('');
  const [source, setSource] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const idPrefix = useId();

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const request: CreateKeyRequest = { kind, name: name.trim() };
    if (source) request.source = source;
    setBusy(true);
    setError(undefined);
    try {
      await onCreate(request);
      setName('');
    } catch (caught) {
      setError(toApiError(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      className="create-key-form"
      onSubmit={submit}
      data-testid="create-key-form"
      aria-label="Create API key"
    >
      <div className="form-row">
        <label className="field" htmlFor={`${idPrefix}-kind`}>
          <span>Kind</span>
          <select
            id={`${idPrefix}-kind`}
            value={kind}
            onChange={(event) => setKind(kindOf(event.target.value))}
            data-testid="create-key-kind"
          >
            <option value="write">write (send events)</option>
            <option value="admin">admin (dashboard &amp; API)</option>
            <option value="analyst">analyst (analytics, no personal fields)</option>
            <option value="privacy">privacy (personal data, requests, audit)</option>
            <option value="read">read (read-only, no personal fields)</option>
          </select>
        </label>
        <label className="field field-grow" htmlFor={`${idPrefix}-name`}>
          <span>Name</span>
          <input
            id={`${idPrefix}-name`}
            type="text"
            required
            placeholder="e.g. web-backend"
            value={name}
            onChange={(event) => setName(event.target.value)}
            data-testid="create-key-name"
          />
        </label>
        <label className="field" htmlFor={`${idPrefix}-source`}>
          <span>Source (optional)</span>
          <select
            id={`${idPrefix}-source`}
            value={source}
            onChange={(event) => setSource(event.target.value)}
            data-testid="create-key-source"
          >
            <option value="">— none —</option>
            {sources.map((item) => (
              <option key={item.name} value={item.name}>
                {item.name}
              </option>
            ))}
          </select>
        </label>
        <button
          type="submit"
          className="button button-primary"
          disabled={busy || !name.trim()}
          data-testid="create-key-submit"
        >
          {busy ? 'Creating…' : 'Create key'}
        </button>
      </div>
      {error ? <ErrorBanner error={error} testId="create-key-error" /> : null}
    </form>
  );
}

const KINDS: readonly KeyKind[] = ['write', 'admin', 'analyst', 'privacy', 'read'];

function kindOf(value: string): KeyKind {
  return KINDS.find((kind) => kind === value) ?? 'write';
}

import { useState } from 'react';
import { useApi } from '../api-context.js';
import { type ApiError, toApiError } from '../api-error.js';
import type { BundlePart } from '../privacy-request-format.js';
import { ApiProblem } from './api-problem.js';

function save(blob: Blob, filename: string) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  // Give the browser the time to start the download before the URL goes.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

interface BundleDownloadsProps {
  requestId: string;
  parts: BundlePart[];
}

/**
 * Downloads of an access request's bundle: the JSON file and one CSV per part. They are buttons, not links,
 * because the API needs the key in a header, which a plain link cannot send.
 */
export function BundleDownloads({ requestId, parts }: BundleDownloadsProps) {
  const api = useApi();
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [busy, setBusy] = useState<string | undefined>(undefined);

  const download = async (format: 'json' | 'csv', part?: string) => {
    const label = part ?? format;
    setBusy(label);
    setError(undefined);
    try {
      const file = await api.privacyBundle(requestId, format, part);
      save(file.blob, file.filename);
    } catch (caught) {
      setError(toApiError(caught));
    } finally {
      setBusy(undefined);
    }
  };

  return (
    <span className="bundle-downloads" data-testid="bundle-downloads">
      <button
        type="button"
        className="button button-small"
        onClick={() => void download('json')}
        disabled={busy !== undefined}
        data-testid="bundle-json"
      >
        JSON bundle
      </button>
      {parts.map((part) => (
        <button
          key={part.name}
          type="button"
          className="button button-small button-ghost"
          onClick={() => void download('csv', part.name)}
          disabled={busy !== undefined}
          title={part.rows === undefined ? undefined : `${part.rows} rows`}
          data-testid="bundle-csv"
          data-part={part.name}
          data-rows={part.rows ?? ''}
        >
          {part.name}.csv{part.rows === undefined ? '' : ` (${part.rows})`}
        </button>
      ))}
      {error ? <ApiProblem error={error} action="download this bundle" testId="bundle-error" /> : null}
    </span>
  );
}

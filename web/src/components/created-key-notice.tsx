import type { CreatedKey } from '../api-types.js';
import { CopyButton } from './copy-button.js';

interface CreatedKeyNoticeProps {
  created: CreatedKey;
  onDismiss: () => void;
}

/** Shows a freshly created key's plaintext, which the server never returns again. */
export function CreatedKeyNotice({ created, onDismiss }: CreatedKeyNoticeProps) {
  return (
    <div className="created-key" role="status" data-testid="created-key" data-kind={created.kind}>
      <div className="created-key-head">
        <strong>
          New {created.kind} key “{created.name}”
        </strong>
        <span className="muted small">Copy it now: it will not be shown again.</span>
      </div>
      <div className="created-key-value-row">
        <code className="created-key-value" data-testid="created-key-value">
          {created.key}
        </code>
        <CopyButton text={created.key} testId="created-key-copy" />
        <button type="button" className="button button-small button-ghost" onClick={onDismiss}>
          Dismiss
        </button>
      </div>
    </div>
  );
}

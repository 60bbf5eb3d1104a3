import { CopyButton } from './copy-button.js';

interface SdkSnippetProps {
  /** A plaintext write key, when one was just created; otherwise a placeholder is shown. */
  writeKey: string | undefined;
}

export function buildSnippet(host: string, writeKey: string): string {
  return `// npm install @segment/analytics-node
import { Analytics } from '@segment/analytics-node';

const analytics = new Analytics({
  writeKey: '${writeKey}',
  host: '${host}',
});

analytics.identify({ userId: 'user-123', traits: { email: 'ada@example.com', plan: 'pro' } });
analytics.track({ userId: 'user-123', event: 'Order Completed', properties: { total: 42.5 } });

await analytics.closeAndFlush();
`;
}

/** Copy-paste code for sending events to this server with @segment/analytics-node. */
export function SdkSnippet({ writeKey }: SdkSnippetProps) {
  const snippet = buildSnippet(window.location.origin, writeKey ?? '<YOUR_WRITE_KEY>');
  return (
    <div className="snippet" data-testid="sdk-snippet">
      <div className="snippet-head">
        <span className="muted small">
          {writeKey ? 'Uses the write key you just created.' : 'Create a write key above, or paste one in.'}
        </span>
        <CopyButton text={snippet} label="Copy snippet" testId="sdk-snippet-copy" />
      </div>
      <pre className="code-block">
        <code>{snippet}</code>
      </pre>
    </div>
  );
}

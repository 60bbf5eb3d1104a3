import { useApi } from '../api-context.js';
import { ErrorBanner } from '../components/error-banner.js';
import { LiveTailList } from '../components/live-tail-list.js';
import { Panel } from '../components/panel.js';
import { RejectsPanel } from '../components/rejects-panel.js';
import { MAX_LIVE_EVENTS, useLiveTail } from '../use-live-tail.js';

export function LivePage() {
  const api = useApi();
  const tail = useLiveTail(api);

  const actions = (
    <>
      <span
        className={tail.paused ? 'live-status' : 'live-status live-status-on'}
        data-testid="live-status"
        aria-live="polite"
      >
        {tail.paused ? 'Paused' : 'Live'}
      </span>
      <button
        type="button"
        className="button button-small"
        onClick={() => tail.setPaused(!tail.paused)}
        aria-pressed={tail.paused}
        data-testid="live-pause"
      >
        {tail.paused ? 'Resume' : 'Pause'}
      </button>
      <button type="button" className="button button-small button-ghost" onClick={tail.clear}>
        Clear
      </button>
    </>
  );

  return (
    <div className="live-layout">
      <Panel title="Live events" testId="live-tail" actions={actions} className="live-panel">
        {tail.error ? <ErrorBanner error={tail.error} /> : null}
        <LiveTailList events={tail.events} fresh={tail.fresh} />
        <p className="muted small live-footnote" data-testid="live-count" data-count={tail.events.length}>
          Showing {tail.events.length} of the latest events (up to {MAX_LIVE_EVENTS}). Click a row for its
          JSON.
        </p>
      </Panel>
      <RejectsPanel />
    </div>
  );
}

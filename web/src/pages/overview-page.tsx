import { useCallback, useEffect, useMemo, useState } from 'react';
import { useApi } from '../api-context.js';
import type { TimelineInterval } from '../api-types.js';
import { ByTypeChart } from '../components/by-type-chart.js';
import { DamagedLinesNotice } from '../components/damaged-lines-notice.js';
import { DamagedLinesPanel } from '../components/damaged-lines-panel.js';
import { ErrorBanner } from '../components/error-banner.js';
import { EventsChart } from '../components/events-chart.js';
import { IntervalToggle } from '../components/interval-toggle.js';
import { Panel } from '../components/panel.js';
import { StatCards } from '../components/stat-cards.js';
import { TopEventsList } from '../components/top-events-list.js';
import { buildTimeline } from '../timeline.js';
import { usePoll } from '../use-poll.js';

const REFRESH_MS = 5000;
const HOURLY_WINDOW_MS = 48 * 3_600_000;

export function OverviewPage() {
  const api = useApi();
  const [interval, setTimelineInterval] = useState<TimelineInterval>('day');
  const showsDamagedLines = useHashFlag('damaged');

  const stats = usePoll((signal) => api.stats(signal), REFRESH_MS);
  const loadTimeline = useCallback(
    async (signal: AbortSignal) => {
      const now = Date.now();
      const from = interval === 'hour' ? now - HOURLY_WINDOW_MS : undefined;
      const response = await api.timeline(
        interval,
        from === undefined ? undefined : new Date(from).toISOString(),
        signal,
      );
      return { response, now, from };
    },
    [api, interval],
  );
  const timeline = usePoll(loadTimeline, REFRESH_MS, interval);
  const byType = usePoll((signal) => api.byType(signal), REFRESH_MS);
  const byName = usePoll((signal) => api.byName(15, signal), REFRESH_MS);

  const series = useMemo(() => {
    if (!timeline.data) return undefined;
    const { response, now, from } = timeline.data;
    return buildTimeline(response.points, interval, now, from);
  }, [timeline.data, interval]);

  return (
    <div className="stack">
      {stats.error ? <ErrorBanner error={stats.error} /> : null}
      <StatCards stats={stats.data} />
      <DamagedLinesNotice stats={stats.data} />
      {showsDamagedLines ? <DamagedLinesPanel /> : null}
      <Panel
        title="Events over time"
        testId="panel-events-over-time"
        actions={<IntervalToggle value={interval} onChange={setTimelineInterval} />}
      >
        {timeline.error ? <ErrorBanner error={timeline.error} /> : null}
        {series ? <EventsChart series={series} interval={interval} /> : <p className="loading">Loading…</p>}
      </Panel>
      <div className="grid-2">
        <Panel title="Events by type" testId="panel-events-by-type">
          {byType.error ? <ErrorBanner error={byType.error} /> : null}
          {byType.data ? <ByTypeChart items={byType.data.items} /> : <p className="loading">Loading…</p>}
        </Panel>
        <Panel title="Top events" testId="panel-top-events">
          {byName.error ? <ErrorBanner error={byName.error} /> : null}
          {byName.data ? <TopEventsList items={byName.data.items} /> : <p className="loading">Loading…</p>}
        </Panel>
      </div>
    </div>
  );
}

/** Whether the address names `flag` after the tab (`#overview?damaged`), following changes to it. */
function useHashFlag(flag: string): boolean {
  const read = useCallback(
    () => new URLSearchParams(window.location.hash.split('?')[1] ?? '').has(flag),
    [flag],
  );
  const [on, setOn] = useState(read);
  useEffect(() => {
    const onHashChange = () => setOn(read());
    window.addEventListener('hashchange', onHashChange);
    return () => window.removeEventListener('hashchange', onHashChange);
  }, [read]);
  return on;
}

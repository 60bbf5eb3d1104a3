import type { StatsResponse } from '../api-types.js';
import { formatBytes, formatCount, formatRate, formatSeconds } from '../format.js';
import { StatCard } from './stat-card.js';

interface StatCardsProps {
  stats: StatsResponse | undefined;
}

/** The headline numbers of the Overview page. */
export function StatCards({ stats }: StatCardsProps) {
  const placeholder = '…';
  return (
    <div className="stat-grid" data-testid="stat-cards">
      <StatCard
        label="Total events"
        testId="stat-total-events"
        rawValue={stats?.events.total}
        value={stats ? formatCount(stats.events.total) : placeholder}
        detail={stats ? `${formatCount(stats.ingest.acceptedTotal)} accepted since start` : ''}
      />
      <StatCard
        label="Rejected events"
        testId="stat-rejected-events"
        rawValue={stats?.events.rejected}
        value={stats ? formatCount(stats.events.rejected) : placeholder}
        detail="failed validation"
      />
      <StatCard
        label="Events / s now"
        testId="stat-events-per-second"
        rawValue={stats?.ingest.eventsPerSecond}
        value={stats ? formatRate(stats.ingest.eventsPerSecond) : placeholder}
        detail={stats ? `store: ${stats.store.engine}` : ''}
      />
      <StatCard
        label="Loader lag"
        testId="stat-loader-lag"
        rawValue={stats?.loader.lagEvents}
        value={stats ? `${formatCount(stats.loader.lagEvents)} events` : placeholder}
        detail={
          stats
            ? `${formatSeconds(stats.loader.lagSeconds)} behind · WAL ${formatBytes(stats.loader.walBytes)}`
            : ''
        }
      />
    </div>
  );
}

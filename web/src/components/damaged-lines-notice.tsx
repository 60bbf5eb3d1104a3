import type { StatsResponse } from '../api-types.js';
import { formatCount } from '../format.js';

interface DamagedLinesNoticeProps {
  stats: StatsResponse | undefined;
}

/** "N log lines set aside", linking to their list, while the loader holds any. */
export function DamagedLinesNotice({ stats }: DamagedLinesNoticeProps) {
  const held = stats?.loader.damagedLines?.held ?? 0;
  if (held === 0) return null;
  return (
    <p className="notice" role="status" data-testid="damaged-lines-notice">
      <a href="#overview?damaged">
        {formatCount(held)} log {held === 1 ? 'line' : 'lines'} set aside
      </a>{' '}
      by the loader: they could not be loaded as written and wait for a replay or a discard.
    </p>
  );
}

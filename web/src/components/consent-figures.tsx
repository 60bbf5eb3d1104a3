import { purposeLabel } from '../consent-labels.js';
import { formatCount } from '../format.js';
import { formatShare } from './consent-chart.js';
import type { PurposeFigure } from './consent-series.js';

/** The latest share per purpose as numbers, with the default that applies to people who made no choice. */
export function ConsentFigures({ figures }: { figures: PurposeFigure[] }) {
  return (
    <div className="stat-grid" data-testid="consent-figures">
      {figures.map((figure) => (
        <div
          key={figure.purpose}
          className="stat-card"
          data-testid="consent-figure"
          data-purpose={figure.purpose}
          data-share={figure.share === null ? '' : figure.share.toFixed(1)}
          data-granted={figure.granted}
          data-people={figure.people}
          data-default={figure.defaultDecision}
        >
          <div className="stat-label">{purposeLabel(figure.purpose)}</div>
          <div className="stat-value" data-testid="consent-figure-share">
            {formatShare(figure.share)}
          </div>
          <div className="stat-detail">
            {formatCount(figure.granted)} of {formatCount(figure.people)} people grant it · default{' '}
            <span className={`decision-badge decision-${figure.defaultDecision}`}>
              {figure.defaultDecision}
            </span>
          </div>
        </div>
      ))}
    </div>
  );
}

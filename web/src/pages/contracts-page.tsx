import { useCallback, useMemo, useState } from 'react';
import { useApi } from '../api-context.js';
import { type ApiError, toApiError } from '../api-error.js';
import type { TimelineInterval } from '../api-types.js';
import { ContractsTable } from '../components/contracts-table.js';
import { ErrorBanner } from '../components/error-banner.js';
import { PolicyBadge } from '../components/governance-badges.js';
import { IntervalToggle } from '../components/interval-toggle.js';
import { Panel } from '../components/panel.js';
import { TopViolationsTable } from '../components/top-violations-table.js';
import { formatPercent, ViolationRateChart } from '../components/violation-rate-chart.js';
import { buildRateSeries, type RateSeries } from '../components/violation-series.js';
import { formatCount, formatDateTime } from '../format.js';
import { usePoll } from '../use-poll.js';

const REFRESH_MS = 10_000;
const HOURLY_WINDOW_MS = 48 * 3_600_000;

function ViolationSummary({ series }: { series: RateSeries }) {
  const { received, flagged, quarantined } = series.totals;
  const violating = flagged + quarantined;
  if (received === 0) return null;
  return (
    <p className="muted small violation-summary" data-testid="violation-summary">
      <strong>{formatCount(violating)}</strong> of {formatCount(received)} events in this period broke a
      contract ({formatPercent((violating / received) * 100)}): {formatCount(quarantined)} held in quarantine,{' '}
      {formatCount(flagged)} stored with a flag.
      {series.clean.length > 0 ? ` ${formatCount(series.clean.length)} more events had no violations.` : ''}
    </p>
  );
}

export function ContractsPage() {
  const api = useApi();
  const [interval, setRateInterval] = useState<TimelineInterval>('hour');
  const [reloading, setReloading] = useState(false);
  const [reloadError, setReloadError] = useState<ApiError | undefined>(undefined);
  const [reloadedAt, setReloadedAt] = useState<string | undefined>(undefined);

  const contracts = usePoll((signal) => api.contracts(signal), REFRESH_MS);
  const loadRates = useCallback(
    async (signal: AbortSignal) => {
      const now = Date.now();
      const from = interval === 'hour' ? now - HOURLY_WINDOW_MS : undefined;
      const response = await api.violationTimeline(
        interval,
        from === undefined ? undefined : new Date(from).toISOString(),
        signal,
      );
      return { response, now, from };
    },
    [api, interval],
  );
  const rates = usePoll(loadRates, REFRESH_MS, interval);
  const top = usePoll((signal) => api.topViolations(20, signal), REFRESH_MS);

  const series = useMemo(() => {
    if (!rates.data) return undefined;
    const { response, now, from } = rates.data;
    return buildRateSeries(response.points, interval, now, from);
  }, [rates.data, interval]);

  const reload = async () => {
    setReloading(true);
    setReloadError(undefined);
    setReloadedAt(undefined);
    try {
      await api.reloadContracts();
      setReloadedAt(new Date().toISOString());
    } catch (caught) {
      setReloadError(toApiError(caught));
    } finally {
      setReloading(false);
      contracts.refresh();
    }
  };

  const overview = contracts.data;
  const loadState = overview?.load;

  return (
    <div className="stack">
      {loadState?.error ? (
        <div className="error-banner" role="alert" data-testid="contracts-load-error">
          <code className="error-code">{loadState.error.code}</code>
          <span className="error-message">
            The contract files were changed but could not be loaded, so the previous contracts stay in force:{' '}
            {loadState.error.message}
          </span>
        </div>
      ) : null}
      <Panel
        title="Contracts"
        testId="panel-contracts"
        actions={
          <button
            type="button"
            className="button button-small"
            onClick={() => void reload()}
            disabled={reloading}
            data-testid="contracts-reload"
          >
            {reloading ? 'Reloading…' : 'Reload'}
          </button>
        }
      >
        {contracts.error ? <ErrorBanner error={contracts.error} /> : null}
        {reloadError && !loadState?.error ? <ErrorBanner error={reloadError} testId="reload-error" /> : null}
        {overview ? (
          <>
            <div className="contracts-meta">
              <span className="row-gap">
                <span className="muted small">Events no contract declares:</span>
                <PolicyBadge policy={overview.undeclared} />
              </span>
              {loadState ? (
                <span className="muted small" data-testid="contracts-loaded-at">
                  {formatCount(loadState.contracts)} {loadState.contracts === 1 ? 'contract' : 'contracts'}{' '}
                  loaded {formatDateTime(loadState.loadedAt)}
                </span>
              ) : null}
              {reloadedAt ? (
                <span className="reload-note" role="status" data-testid="contracts-reloaded">
                  Reloaded
                </span>
              ) : null}
            </div>
            <ContractsTable contracts={overview.contracts} />
          </>
        ) : contracts.error ? null : (
          <p className="loading">Loading…</p>
        )}
      </Panel>
      <Panel
        title="Violation rate"
        testId="panel-violation-rate"
        actions={<IntervalToggle value={interval} onChange={setRateInterval} />}
      >
        {rates.error ? <ErrorBanner error={rates.error} /> : null}
        {series ? (
          <>
            <ViolationSummary series={series} />
            <ViolationRateChart series={series} interval={interval} />
          </>
        ) : rates.error ? null : (
          <p className="loading">Loading…</p>
        )}
      </Panel>
      <Panel title="Top violations" testId="panel-top-violations">
        {top.error ? <ErrorBanner error={top.error} /> : null}
        {top.data ? (
          <TopViolationsTable items={top.data.items} />
        ) : top.error ? null : (
          <p className="loading">Loading…</p>
        )}
      </Panel>
    </div>
  );
}

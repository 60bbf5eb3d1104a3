import { useMemo, useState } from 'react';
import { useApi } from '../api-context.js';
import { type ApiError, toApiError } from '../api-error.js';
import type { QuarantineDecisionRequest, QuarantineFilter, QuarantineStatus } from '../api-types.js';
import { ConfirmButton } from '../components/confirm-button.js';
import { type DecisionOutcome, DecisionResult } from '../components/decision-result.js';
import { ErrorBanner } from '../components/error-banner.js';
import { Panel } from '../components/panel.js';
import { QuarantineDetail } from '../components/quarantine-detail.js';
import { cleanFilter, QuarantineFilters } from '../components/quarantine-filters.js';
import { QuarantineStatusCards } from '../components/quarantine-status-cards.js';
import { QuarantineTable } from '../components/quarantine-table.js';
import { formatCount } from '../format.js';
import { usePoll } from '../use-poll.js';

const REFRESH_MS = 10_000;
const SUGGESTIONS_REFRESH_MS = 30_000;
const PAGE_SIZE = 50;
const STATUSES: readonly QuarantineStatus[] = ['held', 'replayed', 'discarded'];

/** The filter in the address, e.g. `#quarantine?status=held&rule=required` (the top violations link there). */
function filterFromHash(): QuarantineFilter {
  const query = window.location.hash.replace(/^#\/?[^?&]*[?&]?/, '');
  if (!query) return { status: 'held' };
  const params = new URLSearchParams(query);
  const status = STATUSES.find((s) => s === params.get('status'));
  return cleanFilter({
    ...(status ? { status } : {}),
    contract: params.get('contract') ?? '',
    event: params.get('event') ?? '',
    rule: params.get('rule') ?? '',
    source: params.get('source') ?? '',
  });
}

function hashOf(filter: QuarantineFilter): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(filter)) if (value) params.set(name, value);
  const query = params.toString();
  return query ? `#quarantine?${query}` : '#quarantine';
}

type Busy = 'replay' | 'replay-all' | 'discard' | undefined;

export function QuarantinePage() {
  const api = useApi();
  const [filter, setFilter] = useState<QuarantineFilter>(filterFromHash);
  const [offset, setOffset] = useState(0);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [openId, setOpenId] = useState<string | undefined>(undefined);
  const [force, setForce] = useState(false);
  const [busy, setBusy] = useState<Busy>(undefined);
  const [outcome, setOutcome] = useState<DecisionOutcome | undefined>(undefined);
  const [actionError, setActionError] = useState<ApiError | undefined>(undefined);

  const list = usePoll(
    (signal) => api.quarantine(filter, { limit: PAGE_SIZE, offset }, signal),
    REFRESH_MS,
    JSON.stringify([filter, offset]),
  );
  const detail = usePoll(
    (signal) => api.quarantinedEvent(openId ?? '', signal),
    REFRESH_MS,
    openId ?? '',
    openId !== undefined,
  );
  const contracts = usePoll((signal) => api.contracts(signal), SUGGESTIONS_REFRESH_MS);
  const top = usePoll((signal) => api.topViolations(100, signal), SUGGESTIONS_REFRESH_MS);

  const suggestions = useMemo(() => {
    const contractIds = new Set<string>();
    const events = new Set<string>();
    const rules = new Set<string>();
    for (const contract of contracts.data?.contracts ?? []) {
      contractIds.add(contract.id);
      for (const item of contract.governs)
        if (item.target && item.kind !== 'dataset') events.add(item.target);
    }
    for (const item of top.data?.items ?? []) {
      if (item.contract) contractIds.add(item.contract);
      rules.add(item.rule);
    }
    for (const item of list.data?.items ?? []) {
      if (item.event) events.add(item.event);
      for (const violation of item.violations) rules.add(violation.rule);
    }
    const sorted = (values: Set<string>) => [...values].sort((a, b) => a.localeCompare(b));
    return { contracts: sorted(contractIds), events: sorted(events), rules: sorted(rules) };
  }, [contracts.data, top.data, list.data]);

  const changeFilter = (next: QuarantineFilter) => {
    setFilter(next);
    setOffset(0);
    setSelected(new Set());
    window.history.replaceState(window.history.state, '', hashOf(next));
  };

  const toggle = (id: string, on: boolean) => {
    setSelected((previous) => {
      const next = new Set(previous);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });
  };
  const toggleAll = (on: boolean) => {
    const held = (list.data?.items ?? []).filter((item) => item.status === 'held').map((item) => item.id);
    setSelected(on ? new Set(held) : new Set());
  };

  const decide = async (kind: Exclude<Busy, undefined>, body: QuarantineDecisionRequest) => {
    setBusy(kind);
    setActionError(undefined);
    setOutcome(undefined);
    try {
      if (kind === 'discard') {
        const report = await api.discardQuarantined(body);
        setOutcome({ kind: 'discard', report });
        setSelected(new Set());
      } else {
        const report = await api.replayQuarantined(body);
        setOutcome({ kind: 'replay', report });
        // Events that still fail stay held and ticked, ready for another try once the contract or data is fixed.
        const failing = new Set(report.stillFailing.map((item) => item.id));
        setSelected((previous) => new Set([...previous].filter((id) => failing.has(id))));
      }
    } catch (caught) {
      setActionError(toApiError(caught));
    } finally {
      setBusy(undefined);
      list.refresh();
      detail.refresh();
    }
  };

  const { status: _status, ...matching } = cleanFilter(filter);
  const narrowed = Object.keys(matching).length > 0;
  const counts = list.data?.counts;
  const heldMatching = counts?.find((row) => row.status === 'held')?.count ?? 0;
  const total = counts
    ?.filter((row) => filter.status === undefined || row.status === filter.status)
    .reduce((sum, row) => sum + Number(row.count), 0);
  const ids = [...selected];
  const pageItems = list.data?.items ?? [];

  const replayAllBody: QuarantineDecisionRequest = narrowed
    ? { filter: matching, force }
    : { all: true, force };

  return (
    <div className="stack">
      <QuarantineStatusCards
        counts={counts}
        status={filter.status}
        narrowed={narrowed}
        onSelect={(status) => changeFilter(status ? { ...filter, status } : matching)}
      />
      <div className="quarantine-layout">
        <Panel title="Quarantined events" testId="panel-quarantine">
          <QuarantineFilters
            value={filter}
            onChange={changeFilter}
            contracts={suggestions.contracts}
            events={suggestions.events}
            rules={suggestions.rules}
          />
          <div className="action-bar" data-testid="quarantine-actions">
            <span className="muted small" data-testid="selected-count" data-count={ids.length}>
              {formatCount(ids.length)} selected
            </span>
            <button
              type="button"
              className="button button-small button-primary"
              onClick={() => void decide('replay', { ids, force })}
              disabled={busy !== undefined || ids.length === 0}
              data-testid="replay-selected"
            >
              {busy === 'replay' ? 'Replaying…' : 'Replay selected'}
            </button>
            <ConfirmButton
              label="Discard selected"
              confirmLabel={`Discard ${formatCount(ids.length)} ${ids.length === 1 ? 'event' : 'events'}`}
              danger
              disabled={busy !== undefined || ids.length === 0}
              onConfirm={() => void decide('discard', { ids })}
              testId="discard-selected"
            />
            <span className="action-bar-spacer" />
            <ConfirmButton
              label={`Replay all matching (${formatCount(heldMatching)})`}
              confirmLabel={`Replay ${formatCount(heldMatching)} held ${heldMatching === 1 ? 'event' : 'events'}`}
              disabled={busy !== undefined || heldMatching === 0}
              onConfirm={() => void decide('replay-all', replayAllBody)}
              testId="replay-all"
            />
            <label
              className="checkbox-label"
              title="Store events that still break their contract; they are stored with a flag"
            >
              <input
                type="checkbox"
                checked={force}
                onChange={(event) => setForce(event.target.checked)}
                data-testid="replay-force"
              />
              Store even if still failing
            </label>
          </div>
          {actionError ? <ErrorBanner error={actionError} testId="decision-error" /> : null}
          {outcome ? (
            <DecisionResult outcome={outcome} onOpen={setOpenId} onDismiss={() => setOutcome(undefined)} />
          ) : null}
          {list.error ? <ErrorBanner error={list.error} /> : null}
          {list.data ? (
            <QuarantineTable
              items={pageItems}
              selected={selected}
              onToggle={toggle}
              onToggleAll={toggleAll}
              openId={openId}
              onOpen={setOpenId}
            />
          ) : list.error ? null : (
            <p className="loading">Loading…</p>
          )}
          {total !== undefined && total > PAGE_SIZE ? (
            <div className="pager" data-testid="quarantine-pager">
              <span className="muted small">
                {formatCount(offset + 1)}–{formatCount(offset + pageItems.length)} of {formatCount(total)}
              </span>
              <button
                type="button"
                className="button button-small"
                disabled={offset === 0}
                onClick={() => {
                  setOffset(Math.max(0, offset - PAGE_SIZE));
                  setSelected(new Set());
                }}
              >
                Previous
              </button>
              <button
                type="button"
                className="button button-small"
                disabled={offset + PAGE_SIZE >= total}
                onClick={() => {
                  setOffset(offset + PAGE_SIZE);
                  setSelected(new Set());
                }}
              >
                Next
              </button>
            </div>
          ) : null}
        </Panel>
        <Panel title="Event" testId="panel-quarantine-detail" className="quarantine-detail-panel">
          <QuarantineDetail id={openId} event={detail.data} error={detail.error} />
        </Panel>
      </div>
    </div>
  );
}

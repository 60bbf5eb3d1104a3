import { type FormEvent, useCallback, useId, useMemo, useState } from 'react';
import { useApi } from '../api-context.js';
import type { ConsentInterval } from '../api-types.js';
import { ApiProblem } from '../components/api-problem.js';
import { ConsentChart } from '../components/consent-chart.js';
import { ConsentFigures } from '../components/consent-figures.js';
import { ConsentHistory } from '../components/consent-history.js';
import { buildConsentSeries, overviewWindow } from '../components/consent-series.js';
import { type IntervalOption, IntervalToggle } from '../components/interval-toggle.js';
import { Panel } from '../components/panel.js';
import { UnknownCategories } from '../components/unknown-categories.js';
import { purposeLabel } from '../consent-labels.js';
import { formatDateTime } from '../format.js';
import { hashParams, replaceHashParams, tabLink } from '../hash-params.js';
import { useLoad } from '../use-load.js';
import { usePoll } from '../use-poll.js';
import '../components/people.css';

const REFRESH_MS = 30_000;
const INTERVALS: readonly IntervalOption<ConsentInterval>[] = [
  { value: 'day', label: 'Daily (30 days)' },
  { value: 'week', label: 'Weekly (26 weeks)' },
];

function PersonLookup({ onOpen }: { onOpen: (id: string) => void }) {
  const id = useId();
  const [value, setValue] = useState('');
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (value.trim()) onOpen(value.trim());
  };
  return (
    <form className="form-row" onSubmit={submit} aria-label="Show a person's consent history">
      <label className="field field-grow" htmlFor={`${id}-person`}>
        <span>Person id, or type:value (user_id:42, email:ada@example.com)</span>
        <input
          id={`${id}-person`}
          value={value}
          onChange={(event) => setValue(event.target.value)}
          autoComplete="off"
          data-testid="consent-person-id"
        />
      </label>
      <button type="submit" className="button" data-testid="consent-person-open">
        Show history
      </button>
    </form>
  );
}

/** The consent overview: share of people per purpose over time, the latest figures, unmapped categories. */
export function ConsentPage() {
  const api = useApi();
  const [interval, setConsentInterval] = useState<ConsentInterval>(() =>
    hashParams().get('interval') === 'week' ? 'week' : 'day',
  );
  const [person, setPerson] = useState<string | undefined>(() => hashParams().get('person') ?? undefined);

  const keepInAddress = (next: { interval: ConsentInterval; person: string | undefined }) =>
    replaceHashParams('consent', {
      interval: next.interval === 'day' ? undefined : next.interval,
      person: next.person,
    });

  const loadOverview = useCallback(
    (signal: AbortSignal) => {
      const { from, to } = overviewWindow(interval, Date.now());
      return api.consentOverview(interval, from, to, signal);
    },
    [api, interval],
  );
  const overview = usePoll(loadOverview, REFRESH_MS, interval);
  const series = useMemo(
    () => (overview.data ? buildConsentSeries(overview.data) : undefined),
    [overview.data],
  );

  const loadPerson = useCallback(
    (signal: AbortSignal) => (person ? api.personConsent(person, signal) : Promise.resolve(undefined)),
    [api, person],
  );
  const history = useLoad(loadPerson, person ?? '', person !== undefined);

  const defaults = overview.data?.defaults ?? {};

  return (
    <div className="stack">
      <Panel
        title="Consent by purpose"
        testId="panel-consent-overview"
        actions={
          <IntervalToggle
            value={interval}
            options={INTERVALS}
            onChange={(next) => {
              setConsentInterval(next);
              keepInAddress({ interval: next, person });
            }}
          />
        }
      >
        {overview.error ? (
          <ApiProblem error={overview.error} action="see the consent overview" testId="consent-error" />
        ) : series && overview.data ? (
          <div className="stack stack-tight">
            <p className="muted small" data-testid="consent-period">
              Share of known people granting each purpose, {formatDateTime(overview.data.from)} to{' '}
              {formatDateTime(overview.data.to)}. People who made no choice count with the workspace default:{' '}
              {Object.entries(defaults)
                .map(([purpose, decision]) => `${purposeLabel(purpose)} ${decision}`)
                .join(', ')}
              . Dashed lines are purposes denied by default.
            </p>
            <ConsentFigures figures={series.latest} />
            <ConsentChart series={series} interval={interval} defaults={defaults} />
          </div>
        ) : (
          <p className="loading">Loading…</p>
        )}
      </Panel>
      <Panel title="Unmapped consent categories" testId="panel-unknown-categories">
        {overview.data ? (
          <UnknownCategories items={overview.data.unknownCategories} />
        ) : overview.error ? null : (
          <p className="loading">Loading…</p>
        )}
      </Panel>
      <Panel title="A person's consent history" testId="panel-consent-history">
        <div className="stack stack-tight">
          <PersonLookup
            onOpen={(next) => {
              setPerson(next);
              keepInAddress({ interval, person: next });
            }}
          />
          {person ? (
            history.error ? (
              <ApiProblem
                error={history.error}
                action="read a person's consent history"
                testId="consent-history-error"
              />
            ) : history.data ? (
              <>
                <p className="small">
                  <a
                    href={tabLink('profiles', { id: history.data.personId })}
                    data-testid="consent-history-profile"
                  >
                    Open the profile of {history.data.personId}
                  </a>
                </p>
                <ConsentHistory consent={history.data} />
              </>
            ) : (
              <p className="loading">Loading…</p>
            )
          ) : null}
        </div>
      </Panel>
    </div>
  );
}

import { type KeyboardEvent, useEffect, useRef, useState } from 'react';
import { useApi } from '../api-context.js';
import { type ApiError, toApiError } from '../api-error.js';
import type { QueryResponse } from '../api-types.js';
import { ErrorBanner } from '../components/error-banner.js';
import { Panel } from '../components/panel.js';
import { ResultTable } from '../components/result-table.js';

export const DEFAULT_SQL = 'SELECT type, count(*) AS events FROM events GROUP BY type ORDER BY events DESC';

type QueryState =
  | { status: 'idle' }
  | { status: 'running' }
  | { status: 'done'; result: QueryResponse; elapsedMs: number }
  | { status: 'failed'; error: ApiError };

export function QueryPage() {
  const api = useApi();
  const [sql, setSql] = useState(DEFAULT_SQL);
  const [state, setState] = useState<QueryState>({ status: 'idle' });
  const controllerRef = useRef<AbortController | null>(null);

  useEffect(() => () => controllerRef.current?.abort(), []);

  const run = async () => {
    const text = sql.trim();
    if (!text) return;
    controllerRef.current?.abort();
    const controller = new AbortController();
    controllerRef.current = controller;
    setState({ status: 'running' });
    const started = performance.now();
    try {
      const result = await api.query(text, controller.signal);
      if (controller.signal.aborted) return;
      setState({ status: 'done', result, elapsedMs: performance.now() - started });
    } catch (caught) {
      if (controller.signal.aborted) return;
      setState({ status: 'failed', error: toApiError(caught) });
    }
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      void run();
    }
  };

  return (
    <div className="stack">
      <Panel title="SQL" testId="panel-query">
        <p className="muted small">
          Read-only SQL over the <code>events</code> table and friends. Press <kbd>Ctrl</kbd>+<kbd>Enter</kbd>{' '}
          to run.
        </p>
        <textarea
          className="sql-input"
          aria-label="SQL query"
          spellCheck={false}
          rows={6}
          value={sql}
          onChange={(event) => setSql(event.target.value)}
          onKeyDown={onKeyDown}
          data-testid="query-input"
        />
        <div className="row-gap">
          <button
            type="button"
            className="button button-primary"
            onClick={() => void run()}
            disabled={state.status === 'running' || !sql.trim()}
            data-testid="query-run"
          >
            {state.status === 'running' ? 'Running…' : 'Run'}
          </button>
          <button type="button" className="button button-ghost" onClick={() => setSql(DEFAULT_SQL)}>
            Reset
          </button>
        </div>
      </Panel>
      {state.status === 'failed' ? <ErrorBanner error={state.error} testId="query-error" /> : null}
      {state.status === 'done' ? (
        <Panel title="Result" testId="panel-query-result">
          <ResultTable result={state.result} elapsedMs={state.elapsedMs} />
        </Panel>
      ) : null}
    </div>
  );
}

import { type FormEvent, useId, useState } from 'react';
import type { QuarantineFilter, QuarantineStatus } from '../api-types.js';
import './governance.css';

interface QuarantineFiltersProps {
  value: QuarantineFilter;
  onChange: (filter: QuarantineFilter) => void;
  /** Suggestions: contract ids, event names and rule names seen so far. */
  contracts: string[];
  events: string[];
  rules: string[];
}

const STATUSES: QuarantineStatus[] = ['held', 'replayed', 'discarded'];

function sameFilter(a: QuarantineFilter, b: QuarantineFilter): boolean {
  return a.status === b.status && a.contract === b.contract && a.event === b.event && a.rule === b.rule;
}

/** Drops empty fields, so `{event: ''}` means "any event". */
export function cleanFilter(filter: QuarantineFilter): QuarantineFilter {
  const clean: QuarantineFilter = {};
  if (filter.status) clean.status = filter.status;
  if (filter.contract?.trim()) clean.contract = filter.contract.trim();
  if (filter.event?.trim()) clean.event = filter.event.trim();
  if (filter.rule?.trim()) clean.rule = filter.rule.trim();
  if (filter.source?.trim()) clean.source = filter.source.trim();
  return clean;
}

/** Status and contract apply at once; event and rule when the form is submitted (Enter or Apply). */
export function QuarantineFilters({ value, onChange, contracts, events, rules }: QuarantineFiltersProps) {
  const id = useId();
  const [draft, setDraft] = useState<QuarantineFilter>(value);
  const [shown, setShown] = useState<QuarantineFilter>(value);
  if (!sameFilter(shown, value)) {
    setShown(value);
    setDraft(value);
  }

  const apply = (next: QuarantineFilter) => onChange(cleanFilter(next));
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    apply(draft);
  };
  const contractOptions =
    value.contract && !contracts.includes(value.contract) ? [value.contract, ...contracts] : contracts;

  return (
    <form
      className="form-row"
      onSubmit={submit}
      aria-label="Filter quarantined events"
      data-testid="quarantine-filters"
    >
      <label className="field" htmlFor={`${id}-status`}>
        <span>Status</span>
        <select
          id={`${id}-status`}
          value={draft.status ?? ''}
          onChange={(event) => {
            const { status: _previous, ...rest } = draft;
            const status = STATUSES.find((s) => s === event.target.value);
            apply(status ? { ...rest, status } : rest);
          }}
          data-testid="filter-status"
        >
          {STATUSES.map((status) => (
            <option key={status} value={status}>
              {status}
            </option>
          ))}
          <option value="">any status</option>
        </select>
      </label>
      <label className="field" htmlFor={`${id}-contract`}>
        <span>Contract</span>
        <select
          id={`${id}-contract`}
          value={draft.contract ?? ''}
          onChange={(event) => apply({ ...draft, contract: event.target.value })}
          data-testid="filter-contract"
        >
          <option value="">any contract</option>
          {contractOptions.map((contract) => (
            <option key={contract} value={contract}>
              {contract}
            </option>
          ))}
        </select>
      </label>
      <label className="field field-grow" htmlFor={`${id}-event`}>
        <span>Event</span>
        <input
          id={`${id}-event`}
          type="text"
          list={`${id}-events`}
          placeholder="any event"
          value={draft.event ?? ''}
          onChange={(event) => setDraft({ ...draft, event: event.target.value })}
          data-testid="filter-event"
        />
        <datalist id={`${id}-events`}>
          {events.map((name) => (
            <option key={name} value={name} />
          ))}
        </datalist>
      </label>
      <label className="field field-grow" htmlFor={`${id}-rule`}>
        <span>Rule</span>
        <input
          id={`${id}-rule`}
          type="text"
          list={`${id}-rules`}
          placeholder="any rule, e.g. required"
          value={draft.rule ?? ''}
          onChange={(event) => setDraft({ ...draft, rule: event.target.value })}
          data-testid="filter-rule"
        />
        <datalist id={`${id}-rules`}>
          {rules.map((name) => (
            <option key={name} value={name} />
          ))}
        </datalist>
      </label>
      <button type="submit" className="button" data-testid="filter-apply">
        Apply
      </button>
      <button
        type="button"
        className="button button-ghost"
        onClick={() => apply({ status: 'held' })}
        data-testid="filter-clear"
      >
        Clear
      </button>
    </form>
  );
}

import type { TimelineInterval } from '../api-types.js';

export interface IntervalOption<T extends string> {
  value: T;
  label: string;
}

interface IntervalToggleProps<T extends string> {
  value: T;
  onChange: (value: T) => void;
  /** The choices; hourly and daily when left out. */
  options?: readonly IntervalOption<T>[];
}

const TIMELINE_OPTIONS: readonly IntervalOption<TimelineInterval>[] = [
  { value: 'hour', label: 'Hourly (48 h)' },
  { value: 'day', label: 'Daily' },
];

export function IntervalToggle<T extends string = TimelineInterval>({
  value,
  onChange,
  options,
}: IntervalToggleProps<T>) {
  // Without options the caller's T is TimelineInterval (the default type argument).
  const choices = options ?? (TIMELINE_OPTIONS as unknown as readonly IntervalOption<T>[]);
  return (
    <fieldset className="segmented" aria-label="Time interval" data-testid="interval-toggle">
      {choices.map((option) => (
        <button
          key={option.value}
          type="button"
          className={option.value === value ? 'segment segment-active' : 'segment'}
          aria-pressed={option.value === value}
          onClick={() => onChange(option.value)}
          data-testid={`interval-${option.value}`}
        >
          {option.label}
        </button>
      ))}
    </fieldset>
  );
}

import type { TimelineInterval } from '../api-types.js';

interface IntervalToggleProps {
  value: TimelineInterval;
  onChange: (value: TimelineInterval) => void;
}

const OPTIONS: { value: TimelineInterval; label: string }[] = [
  { value: 'hour', label: 'Hourly (48 h)' },
  { value: 'day', label: 'Daily' },
];

export function IntervalToggle({ value, onChange }: IntervalToggleProps) {
  return (
    <fieldset className="segmented" aria-label="Time interval" data-testid="interval-toggle">
      {OPTIONS.map((option) => (
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

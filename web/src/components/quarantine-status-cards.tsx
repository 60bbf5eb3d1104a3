import type { QuarantineStatus, StatusCount } from '../api-types.js';
import { formatCount } from '../format.js';
import './governance.css';

interface QuarantineStatusCardsProps {
  counts: StatusCount[] | undefined;
  status: QuarantineStatus | undefined;
  /** True when contract, event or rule narrow the counts. */
  narrowed: boolean;
  onSelect: (status: QuarantineStatus | undefined) => void;
}

const CARDS: { status: QuarantineStatus | undefined; label: string; detail: string }[] = [
  { status: 'held', label: 'Held', detail: 'waiting for a decision' },
  { status: 'replayed', label: 'Replayed', detail: 'stored after a fix' },
  { status: 'discarded', label: 'Discarded', detail: 'kept for the record' },
  { status: undefined, label: 'All', detail: 'every quarantined event' },
];

/** Quarantined events per status; a card filters the list to its status. */
export function QuarantineStatusCards({ counts, status, narrowed, onSelect }: QuarantineStatusCardsProps) {
  const countOf = (wanted: QuarantineStatus | undefined) => {
    if (!counts) return undefined;
    return counts
      .filter((row) => wanted === undefined || row.status === wanted)
      .reduce((sum, row) => sum + Number(row.count), 0);
  };
  return (
    <div className="status-cards" data-testid="quarantine-counts">
      {CARDS.map((card) => {
        const value = countOf(card.status);
        const active = card.status === status;
        const name = card.status ?? 'all';
        return (
          <button
            key={name}
            type="button"
            className={active ? 'status-card status-card-active' : 'status-card'}
            aria-pressed={active}
            onClick={() => onSelect(card.status)}
            data-testid={`quarantine-count-${name}`}
            data-value={value ?? ''}
          >
            <div className="stat-label">{card.label}</div>
            <div className="stat-value">{value === undefined ? '…' : formatCount(value)}</div>
            <div className="stat-detail">{narrowed ? 'matching the filters' : card.detail}</div>
          </button>
        );
      })}
    </div>
  );
}

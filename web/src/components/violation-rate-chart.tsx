import { useMemo } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { TimelineInterval } from '../api-types.js';
import { formatCount } from '../format.js';
import { formatBucket } from '../timeline.js';
import type { RateRow, RateSeries } from './violation-series.js';
import './governance.css';

/** Distinct line colors in a fixed order, so the event with the most violations is always red. */
const LINE_COLORS = [
  '#dc2626',
  '#d97706',
  '#4f46e5',
  '#0891b2',
  '#db2777',
  '#059669',
  '#7c3aed',
  '#65a30d',
  '#2563eb',
  '#64748b',
];

const percent = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

export function formatPercent(value: number): string {
  return `${percent.format(value)} %`;
}

function colorAt(index: number): string {
  return LINE_COLORS[index % LINE_COLORS.length] ?? '#64748b';
}

interface RateTooltipProps {
  active: boolean | undefined;
  label: string | number | undefined;
  rowsByBucket: Map<number, RateRow>;
  events: string[];
  interval: TimelineInterval;
}

/** Per event in the hovered bucket: its violation rate and the counts behind it. */
function RateTooltip({ active, label, rowsByBucket, events, interval }: RateTooltipProps) {
  const row = typeof label === 'number' ? rowsByBucket.get(label) : undefined;
  if (!active || !row) return null;
  const present = events.filter((event) => row.cells[event]?.rate !== null && row.cells[event] !== undefined);
  return (
    <div className="rate-tooltip">
      <div className="rate-tooltip-title">{formatBucket(row.bucket, interval)}</div>
      {present.length === 0 ? <div className="muted">No events of these names.</div> : null}
      {present.map((event) => {
        const cell = row.cells[event];
        if (!cell || cell.rate === null) return null;
        return (
          <div key={event} className="rate-tooltip-row">
            <span
              className="rate-tooltip-swatch"
              style={{ background: colorAt(events.indexOf(event)) }}
              aria-hidden="true"
            />
            <span>{event}</span>
            <span className="muted">
              {formatCount(cell.violating)} of {formatCount(cell.received)}
            </span>
            <span className="rate-tooltip-value">{formatPercent(cell.rate)}</span>
          </div>
        );
      })}
    </div>
  );
}

interface ViolationRateChartProps {
  series: RateSeries;
  interval: TimelineInterval;
}

/** The share of each event that broke a contract, per time bucket: one line per event, 0–100 %. */
export function ViolationRateChart({ series, interval }: ViolationRateChartProps) {
  const rowsByBucket = useMemo(() => new Map(series.rows.map((row) => [row.bucket, row])), [series.rows]);
  const violating = series.totals.flagged + series.totals.quarantined;
  const label =
    series.events.length === 0
      ? `Violation rate by ${interval}: no violations`
      : `Violation rate by ${interval} for ${series.events.join(', ')}`;

  return (
    <div
      className="chart"
      data-testid="violation-rate-chart"
      data-interval={interval}
      data-events={series.events.join('|')}
      data-received={series.totals.received}
      data-violating={violating}
      data-buckets={series.rows.length}
      role="img"
      aria-label={label}
    >
      {series.events.length === 0 ? (
        <p className="empty-state">
          {series.totals.received === 0
            ? 'No events in this period yet.'
            : `No contract violations in this period: all ${formatCount(series.totals.received)} events passed.`}
        </p>
      ) : (
        <ResponsiveContainer width="100%" height={300}>
          <LineChart data={series.rows} margin={{ top: 8, right: 12, bottom: 0, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" vertical={false} stroke="#e5e7eb" />
            <XAxis
              dataKey="bucket"
              tickFormatter={(value: number) => formatBucket(value, interval)}
              tick={{ fontSize: 12, fill: '#6b7280' }}
              minTickGap={24}
            />
            <YAxis
              domain={[0, 100]}
              ticks={[0, 25, 50, 75, 100]}
              tickFormatter={(value: number) => `${value} %`}
              tick={{ fontSize: 12, fill: '#6b7280' }}
              width={56}
            />
            <Tooltip
              content={(props) => (
                <RateTooltip
                  active={props.active}
                  label={props.label}
                  rowsByBucket={rowsByBucket}
                  events={series.events}
                  interval={interval}
                />
              )}
            />
            <Legend wrapperStyle={{ fontSize: 13 }} />
            {series.events.map((event, index) => (
              <Line
                key={event}
                type="monotone"
                name={event}
                dataKey={(row: RateRow) => row.cells[event]?.rate ?? null}
                stroke={colorAt(index)}
                strokeWidth={2}
                dot={{ r: 3, strokeWidth: 0, fill: colorAt(index) }}
                activeDot={{ r: 5 }}
                connectNulls
                isAnimationActive={false}
              />
            ))}
          </LineChart>
        </ResponsiveContainer>
      )}
    </div>
  );
}

import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { TimelineInterval } from '../api-types.js';
import { formatCount } from '../format.js';
import { formatBucket, type TimelineSeries } from '../timeline.js';
import { colorForType } from '../type-colors.js';

interface EventsChartProps {
  series: TimelineSeries;
  interval: TimelineInterval;
}

/** Stacked bars of events per time bucket, one color per event type. */
export function EventsChart({ series, interval }: EventsChartProps) {
  const total = series.rows.reduce((sum, row) => {
    let rowSum = 0;
    for (const type of series.types) rowSum += row[type] ?? 0;
    return sum + rowSum;
  }, 0);

  return (
    <div
      className="chart"
      data-testid="chart-events-over-time"
      data-interval={interval}
      data-total={total}
      data-buckets={series.rows.length}
      role="img"
      aria-label={`Events over time by ${interval}: ${formatCount(total)} events`}
    >
      {total === 0 ? (
        <p className="empty-state">No events in this period yet.</p>
      ) : (
        <ResponsiveContainer width="100%" height={300}>
          <BarChart data={series.rows} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" vertical={false} stroke="#e5e7eb" />
            <XAxis
              dataKey="bucket"
              tickFormatter={(value: number) => formatBucket(value, interval)}
              tick={{ fontSize: 12, fill: '#6b7280' }}
              minTickGap={24}
            />
            <YAxis
              allowDecimals={false}
              tickFormatter={(value: number) => formatCount(value)}
              tick={{ fontSize: 12, fill: '#6b7280' }}
              width={56}
            />
            <Tooltip
              labelFormatter={(label) => (typeof label === 'number' ? formatBucket(label, interval) : label)}
              formatter={(value) => (typeof value === 'number' ? formatCount(value) : value)}
              cursor={{ fill: 'rgba(79, 70, 229, 0.06)' }}
            />
            <Legend wrapperStyle={{ fontSize: 13 }} />
            {series.types.map((type) => (
              <Bar
                key={type}
                dataKey={type}
                name={type}
                stackId="events"
                fill={colorForType(type)}
                isAnimationActive={false}
              />
            ))}
          </BarChart>
        </ResponsiveContainer>
      )}
    </div>
  );
}

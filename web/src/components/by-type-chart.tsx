import {
  Bar,
  BarChart,
  type BarShapeProps,
  CartesianGrid,
  Rectangle,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import type { NamedCount } from '../api-types.js';
import { formatCount } from '../format.js';
import { colorForType } from '../type-colors.js';

interface ByTypeChartProps {
  items: NamedCount[];
}

function TypeBar(props: BarShapeProps) {
  const payload = props.payload as NamedCount | undefined;
  return <Rectangle {...props} fill={colorForType(payload?.name ?? '')} />;
}

/** One bar per event type (track, page, identify, ...). */
export function ByTypeChart({ items }: ByTypeChartProps) {
  return (
    <div
      className="chart"
      data-testid="chart-events-by-type"
      role="img"
      aria-label={`Events by type: ${items.map((item) => `${item.name} ${formatCount(item.count)}`).join(', ')}`}
    >
      {items.length === 0 ? (
        <p className="empty-state">No events yet.</p>
      ) : (
        <ResponsiveContainer width="100%" height={260}>
          <BarChart data={items} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" vertical={false} stroke="#e5e7eb" />
            <XAxis dataKey="name" tick={{ fontSize: 12, fill: '#374151' }} />
            <YAxis
              allowDecimals={false}
              tickFormatter={(value: number) => formatCount(value)}
              tick={{ fontSize: 12, fill: '#6b7280' }}
              width={56}
            />
            <Tooltip
              formatter={(value) => (typeof value === 'number' ? formatCount(value) : value)}
              cursor={{ fill: 'rgba(79, 70, 229, 0.06)' }}
            />
            <Bar dataKey="count" name="events" shape={TypeBar} isAnimationActive={false} />
          </BarChart>
        </ResponsiveContainer>
      )}
    </div>
  );
}

import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { ConsentInterval } from '../api-types.js';
import { purposeColor, purposeLabel } from '../consent-labels.js';
import type { ConsentRow, ConsentSeries } from './consent-series.js';

const percent = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

export function formatShare(value: number | null): string {
  return value === null ? '—' : `${percent.format(value)} %`;
}

function formatBucketDate(value: number, interval: ConsentInterval): string {
  const date = new Date(value);
  const text = date.toLocaleDateString('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });
  return interval === 'week' ? `wk of ${text}` : text;
}

/** The chart's numbers as a table, for screen readers (the chart itself is an image to them). */
function ConsentDataTable({ series, interval }: { series: ConsentSeries; interval: ConsentInterval }) {
  const known = series.rows.filter((row) => row.people > 0);
  return (
    <table className="visually-hidden" data-testid="consent-chart-data">
      <caption>Share of people granting each purpose, by {interval}</caption>
      <thead>
        <tr>
          <th scope="col">{interval === 'week' ? 'Week of' : 'Day'}</th>
          <th scope="col">People</th>
          {series.purposes.map((purpose) => (
            <th key={purpose} scope="col">
              {purposeLabel(purpose)}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {known.map((row) => (
          <tr
            key={row.bucket}
            data-testid="consent-chart-row"
            data-bucket={new Date(row.bucket).toISOString()}
            data-people={row.people}
            data-shares={series.purposes.map((purpose) => row.shares[purpose]?.toFixed(1) ?? '').join('|')}
          >
            <th scope="row">{formatBucketDate(row.bucket, interval)}</th>
            <td>{row.people}</td>
            {series.purposes.map((purpose) => (
              <td key={purpose}>{formatShare(row.shares[purpose] ?? null)}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

interface ConsentChartProps {
  series: ConsentSeries;
  interval: ConsentInterval;
  defaults: Record<string, string>;
}

/** The share of people granting each purpose at the end of every bucket: one line per purpose, 0–100 %. */
export function ConsentChart({ series, interval, defaults }: ConsentChartProps) {
  const label = `Share of people granting each purpose by ${interval}: ${series.latest
    .map((figure) => `${purposeLabel(figure.purpose)} ${formatShare(figure.share)}`)
    .join(', ')}`;
  return (
    <div
      className="chart"
      data-testid="consent-chart"
      data-interval={interval}
      data-purposes={series.purposes.join('|')}
      data-buckets={series.rows.length}
      data-people={series.people}
      role="img"
      aria-label={label}
    >
      <ConsentDataTable series={series} interval={interval} />
      {series.rows.length === 0 || series.people === 0 ? (
        <p className="empty-state">Nobody is known in this period yet.</p>
      ) : (
        <ResponsiveContainer width="100%" height={300}>
          <LineChart data={series.rows} margin={{ top: 8, right: 12, bottom: 0, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" vertical={false} stroke="#e5e7eb" />
            <XAxis
              dataKey="bucket"
              tickFormatter={(value: number) => formatBucketDate(value, interval)}
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
              labelFormatter={(value) =>
                typeof value === 'number' ? formatBucketDate(value, interval) : value
              }
              formatter={(value) => (typeof value === 'number' ? formatShare(value) : value)}
            />
            <Legend wrapperStyle={{ fontSize: 13 }} />
            {series.purposes.map((purpose, index) => (
              <Line
                key={purpose}
                type="linear"
                name={`${purposeLabel(purpose)} (default ${defaults[purpose] ?? 'denied'})`}
                dataKey={(row: ConsentRow) => row.shares[purpose] ?? null}
                stroke={purposeColor(purpose, index)}
                strokeWidth={2}
                strokeDasharray={defaults[purpose] === 'granted' ? '0' : '6 3'}
                dot={{ r: 3, strokeWidth: 0, fill: purposeColor(purpose, index) }}
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

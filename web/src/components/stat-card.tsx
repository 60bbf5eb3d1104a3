interface StatCardProps {
  label: string;
  value: string;
  /** The raw number behind `value`, exposed as `data-value` for tests. */
  rawValue: number | undefined;
  detail?: string;
  testId: string;
}

export function StatCard({ label, value, rawValue, detail, testId }: StatCardProps) {
  return (
    <div className="stat-card" data-testid={testId} data-value={rawValue ?? ''}>
      <div className="stat-label">{label}</div>
      <div className="stat-value" data-testid={`${testId}-value`}>
        {value}
      </div>
      {detail ? <div className="stat-detail">{detail}</div> : null}
    </div>
  );
}

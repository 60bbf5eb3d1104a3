interface JsonViewProps {
  value: unknown;
  testId?: string;
}

export function JsonView({ value, testId }: JsonViewProps) {
  return (
    <pre className="json-view" data-testid={testId}>
      {JSON.stringify(value, null, 2)}
    </pre>
  );
}

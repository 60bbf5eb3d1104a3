import { type ReactNode, useId } from 'react';

interface PanelProps {
  title: string;
  testId?: string;
  actions?: ReactNode;
  className?: string;
  children: ReactNode;
}

/** A titled card section; the title labels the region for assistive technology. */
export function Panel({ title, testId, actions, className, children }: PanelProps) {
  const headingId = useId();
  return (
    <section
      className={className ? `panel ${className}` : 'panel'}
      aria-labelledby={headingId}
      data-testid={testId}
    >
      <header className="panel-header">
        <h2 id={headingId}>{title}</h2>
        {actions ? <div className="panel-actions">{actions}</div> : null}
      </header>
      <div className="panel-body">{children}</div>
    </section>
  );
}

import { TABS, type TabId } from '../use-hash-tab.js';

interface AppHeaderProps {
  workspace: string | undefined;
  tab: TabId;
  onSelectTab: (tab: TabId) => void;
  onSignOut: () => void;
}

export function AppHeader({ workspace, tab, onSelectTab, onSignOut }: AppHeaderProps) {
  return (
    <header className="app-header">
      <div className="app-header-top">
        <div className="brand-line">
          <span className="brand">Refinery</span>
          {workspace ? (
            <span className="workspace" data-testid="workspace-name" title="Workspace">
              {workspace}
            </span>
          ) : null}
        </div>
        <button type="button" className="button button-ghost" onClick={onSignOut} data-testid="sign-out">
          Sign out
        </button>
      </div>
      <nav aria-label="Dashboard sections">
        <div className="tabs" role="tablist">
          {TABS.map((item) => (
            <button
              key={item.id}
              type="button"
              role="tab"
              id={`tab-${item.id}`}
              aria-selected={tab === item.id}
              aria-controls={tab === item.id ? `panel-${item.id}` : undefined}
              className={tab === item.id ? 'tab tab-active' : 'tab'}
              onClick={() => onSelectTab(item.id)}
              data-testid={`tab-${item.id}`}
            >
              {item.label}
            </button>
          ))}
        </div>
      </nav>
    </header>
  );
}

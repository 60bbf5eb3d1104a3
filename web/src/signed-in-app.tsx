import { useMemo } from 'react';
import { createApiClient } from './api-client.js';
import { ApiContext } from './api-context.js';
import { AppHeader } from './components/app-header.js';
import { ConsentPage } from './pages/consent-page.js';
import { ContractsPage } from './pages/contracts-page.js';
import { LivePage } from './pages/live-page.js';
import { OverviewPage } from './pages/overview-page.js';
import { PrivacyPage } from './pages/privacy-page.js';
import { ProfilesPage } from './pages/profiles-page.js';
import { QuarantinePage } from './pages/quarantine-page.js';
import { QueryPage } from './pages/query-page.js';
import { SourcesPage } from './pages/sources-page.js';
import { useHashTab } from './use-hash-tab.js';

interface SignedInAppProps {
  apiKey: string;
  workspace: string;
  onUnauthorized: (message: string) => void;
  onSignOut: () => void;
}

/** The dashboard shell: header, tabs and the selected page. */
export function SignedInApp({ apiKey, workspace, onUnauthorized, onSignOut }: SignedInAppProps) {
  const api = useMemo(() => createApiClient(apiKey, onUnauthorized), [apiKey, onUnauthorized]);
  const [tab, selectTab] = useHashTab();

  return (
    <ApiContext.Provider value={api}>
      <div className="app">
        <AppHeader workspace={workspace} tab={tab} onSelectTab={selectTab} onSignOut={onSignOut} />
        <main
          className="page"
          role="tabpanel"
          id={`panel-${tab}`}
          aria-labelledby={`tab-${tab}`}
          data-testid={`page-${tab}`}
        >
          {tab === 'overview' ? <OverviewPage /> : null}
          {tab === 'live' ? <LivePage /> : null}
          {tab === 'sources' ? <SourcesPage /> : null}
          {tab === 'query' ? <QueryPage /> : null}
          {tab === 'contracts' ? <ContractsPage /> : null}
          {tab === 'quarantine' ? <QuarantinePage /> : null}
          {tab === 'profiles' ? <ProfilesPage /> : null}
          {tab === 'consent' ? <ConsentPage /> : null}
          {tab === 'privacy' ? <PrivacyPage /> : null}
        </main>
      </div>
    </ApiContext.Provider>
  );
}

import { useCallback, useEffect, useState } from 'react';

export const TABS = [
  { id: 'overview', label: 'Overview' },
  { id: 'live', label: 'Live' },
  { id: 'sources', label: 'Sources & keys' },
  { id: 'query', label: 'Query' },
  { id: 'contracts', label: 'Contracts' },
  { id: 'quarantine', label: 'Quarantine' },
  { id: 'profiles', label: 'Profiles' },
  { id: 'consent', label: 'Consent' },
  { id: 'privacy', label: 'Privacy requests' },
] as const;

export type TabId = (typeof TABS)[number]['id'];

function tabFromHash(): TabId {
  const hash = window.location.hash.replace(/^#\/?/, '').split(/[&?]/)[0] ?? '';
  return TABS.find((tab) => tab.id === hash)?.id ?? 'overview';
}

/** The selected tab, kept in `location.hash` (`#contracts`, `#quarantine?rule=required`) so reloads and back work. */
export function useHashTab(): [TabId, (tab: TabId | string) => void] {
  const [tab, setTab] = useState<TabId>(tabFromHash);

  useEffect(() => {
    const onHashChange = () => setTab(tabFromHash());
    window.addEventListener('hashchange', onHashChange);
    return () => window.removeEventListener('hashchange', onHashChange);
  }, []);

  // A page may link to another tab by name (`#quarantine?rule=required` arrives as 'quarantine').
  const select = useCallback((next: TabId | string) => {
    const known = TABS.find((item) => item.id === next);
    if (!known) return;
    if (`#${known.id}` !== window.location.hash) window.location.hash = known.id;
    setTab(known.id);
  }, []);

  return [tab, select];
}

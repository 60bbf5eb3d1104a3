import { useCallback, useEffect, useState } from 'react';

export const TABS = [
  { id: 'overview', label: 'Overview' },
  { id: 'live', label: 'Live' },
  { id: 'sources', label: 'Sources & keys' },
  { id: 'query', label: 'Query' },
] as const;

export type TabId = (typeof TABS)[number]['id'];

function tabFromHash(): TabId {
  const hash = window.location.hash.replace(/^#\/?/, '').split(/[&?]/)[0] ?? '';
  return TABS.find((tab) => tab.id === hash)?.id ?? 'overview';
}

/** The selected tab, kept in `location.hash` so reloads and the back button work. */
export function useHashTab(): [TabId, (tab: TabId) => void] {
  const [tab, setTab] = useState<TabId>(tabFromHash);

  useEffect(() => {
    const onHashChange = () => setTab(tabFromHash());
    window.addEventListener('hashchange', onHashChange);
    return () => window.removeEventListener('hashchange', onHashChange);
  }, []);

  const select = useCallback((next: TabId) => {
    if (`#${next}` !== window.location.hash) window.location.hash = next;
    setTab(next);
  }, []);

  return [tab, select];
}

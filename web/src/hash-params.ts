/** The parameters after the tab in the address: `#profiles?id=user_id:ada` → `id=user_id:ada`. */
export function hashParams(): URLSearchParams {
  return new URLSearchParams(window.location.hash.replace(/^#\/?[^?&]*[?&]?/, ''));
}

/** A link to a tab with parameters, e.g. `tabLink('consent', { person: 'p_…' })` → `#consent?person=p_…`. */
export function tabLink(tab: string, params: Record<string, string | undefined> = {}): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value) query.set(name, value);
  const text = query.toString();
  return text ? `#${tab}?${text}` : `#${tab}`;
}

/** Keeps the current tab's parameters in the address without a navigation, so a reload shows the same view. */
export function replaceHashParams(tab: string, params: Record<string, string | undefined>): void {
  const next = tabLink(tab, params);
  if (next !== window.location.hash) window.history.replaceState(window.history.state, '', next);
}

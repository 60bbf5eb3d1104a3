/** Where the dashboard keeps the admin API key: the URL hash (once), then sessionStorage. */

const STORAGE_KEY = 'refinery.adminKey';

function readStorage(): string | null {
  try {
    return window.sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

export function storeKey(key: string): void {
  try {
    window.sessionStorage.setItem(STORAGE_KEY, key);
  } catch {
    // Storage can be disabled; the key then only lives in memory for this page.
  }
}

export function clearStoredKey(): void {
  try {
    window.sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // Nothing to clear.
  }
}

/**
 * Takes `key=...` out of `location.hash` (e.g. `#key=abc` or `#live&key=abc`), stores it and rewrites the
 * URL without it. Returns null when the hash has no key.
 */
export function takeKeyFromHash(): string | null {
  const hash = window.location.hash.replace(/^#/, '');
  if (!hash) return null;
  const parts = hash.split(/[&?]/);
  const keyPart = parts.find((part) => part.startsWith('key='));
  if (!keyPart) return null;
  const rest = parts.filter((part) => part && part !== keyPart);
  let key = keyPart.slice('key='.length);
  try {
    key = decodeURIComponent(key);
  } catch {
    // Keep the raw value.
  }
  const url = `${window.location.pathname}${window.location.search}${rest.length ? `#${rest.join('&')}` : ''}`;
  window.history.replaceState(window.history.state, '', url);
  if (!key) return null;
  storeKey(key);
  return key;
}

/** The key from the URL hash, else the one stored for this tab, else null. */
export function takeInitialKey(): string | null {
  return takeKeyFromHash() ?? readStorage();
}

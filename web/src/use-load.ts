import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { type ApiError, toApiError } from './api-error.js';

export interface LoadState<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  /** Loads again. */
  refresh: () => void;
}

/**
 * Calls `load` once per `key` (and on `refresh`), unlike `usePoll`, which repeats. For reads of personal data:
 * the server records every such read in the audit log, so a page must not re-read them on a timer.
 */
export function useLoad<T>(
  load: (signal: AbortSignal) => Promise<T>,
  key: string,
  enabled = true,
): LoadState<T> {
  const loadRef = useRef(load);
  useLayoutEffect(() => {
    loadRef.current = load;
  });
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const [loadedKey, setLoadedKey] = useState(key);

  if (loadedKey !== key) {
    setLoadedKey(key);
    setData(undefined);
    setError(undefined);
    setLoading(true);
  }

  // biome-ignore lint/correctness/useExhaustiveDependencies: key and tick deliberately load again.
  useEffect(() => {
    if (!enabled) return;
    const controller = new AbortController();
    setLoading(true);
    loadRef.current(controller.signal).then(
      (result) => {
        if (controller.signal.aborted) return;
        setData(result);
        setError(undefined);
        setLoading(false);
      },
      (caught: unknown) => {
        if (controller.signal.aborted) return;
        setError(toApiError(caught));
        setLoading(false);
      },
    );
    return () => controller.abort();
  }, [key, enabled, tick]);

  const refresh = useCallback(() => setTick((value) => value + 1), []);
  return { data, error, loading, refresh };
}

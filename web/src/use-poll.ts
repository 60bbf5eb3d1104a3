import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { type ApiError, toApiError } from './api-error.js';

export interface PollState<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  /** Loads again right away (and restarts the interval). */
  refresh: () => void;
}

/**
 * Calls `load` now and then every `intervalMs` after the previous call finished (never overlapping); with
 * `'once'`, only now and on `refresh` (showing `loading` again while it runs). Changing `resetKey` drops the
 * data and starts over; `enabled: false` pauses without dropping data.
 */
export function usePoll<T>(
  load: (signal: AbortSignal) => Promise<T>,
  intervalMs: number | 'once',
  resetKey = '',
  enabled = true,
): PollState<T> {
  const loadRef = useRef(load);
  useLayoutEffect(() => {
    loadRef.current = load;
  });
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const [loadedKey, setLoadedKey] = useState(resetKey);

  if (loadedKey !== resetKey) {
    setLoadedKey(resetKey);
    setData(undefined);
    setError(undefined);
    setLoading(true);
  }

  // biome-ignore lint/correctness/useExhaustiveDependencies: resetKey and tick deliberately restart the loop.
  useEffect(() => {
    if (!enabled) return;
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (intervalMs === 'once') setLoading(true);
    const run = async () => {
      try {
        const result = await loadRef.current(controller.signal);
        if (controller.signal.aborted) return;
        setData(result);
        setError(undefined);
      } catch (caught) {
        if (controller.signal.aborted) return;
        setError(toApiError(caught));
      }
      setLoading(false);
      if (intervalMs !== 'once') timer = setTimeout(run, intervalMs);
    };
    void run();
    return () => {
      controller.abort();
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [intervalMs, resetKey, enabled, tick]);

  const refresh = useCallback(() => setTick((value) => value + 1), []);
  return { data, error, loading, refresh };
}

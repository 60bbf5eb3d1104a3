import { useEffect, useRef, useState } from 'react';
import type { ApiClient } from './api-client.js';
import { type ApiError, toApiError } from './api-error.js';
import type { TailEvent } from './api-types.js';

const POLL_MS = 1000;
const BATCH = 100;
export const MAX_LIVE_EVENTS = 200;

export interface LiveTail {
  /** Newest first, at most MAX_LIVE_EVENTS. */
  events: TailEvent[];
  error: ApiError | undefined;
  paused: boolean;
  setPaused: (paused: boolean) => void;
  clear: () => void;
  /** Cursors that arrived in the latest batch (for a brief highlight). */
  fresh: ReadonlySet<number>;
}

/** Polls `GET /v1/tail` every second from the last seen cursor, keeping the newest events. */
export function useLiveTail(api: ApiClient): LiveTail {
  const [events, setEvents] = useState<TailEvent[]>([]);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [paused, setPaused] = useState(false);
  const [fresh, setFresh] = useState<ReadonlySet<number>>(new Set());
  const cursorRef = useRef(0);
  const firstBatchRef = useRef(true);

  useEffect(() => {
    if (paused) return;
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      let delay = POLL_MS;
      try {
        const response = await api.tail(cursorRef.current, BATCH, controller.signal);
        if (controller.signal.aborted) return;
        setError(undefined);
        const incoming = response.events.filter((event) => event.cursor > cursorRef.current);
        const lastCursor = incoming.reduce((max, event) => Math.max(max, event.cursor), cursorRef.current);
        cursorRef.current = Math.max(lastCursor, Number(response.cursor) || 0);
        if (incoming.length > 0) {
          const newestFirst = [...incoming].reverse();
          setEvents((previous) => [...newestFirst, ...previous].slice(0, MAX_LIVE_EVENTS));
          setFresh(firstBatchRef.current ? new Set() : new Set(incoming.map((event) => event.cursor)));
          if (response.events.length >= BATCH) delay = 100;
        }
        firstBatchRef.current = false;
      } catch (caught) {
        if (controller.signal.aborted) return;
        setError(toApiError(caught));
      }
      timer = setTimeout(run, delay);
    };
    void run();
    return () => {
      controller.abort();
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [api, paused]);

  const clear = () => {
    setEvents([]);
    setFresh(new Set());
  };

  return { events, error, paused, setPaused, clear, fresh };
}

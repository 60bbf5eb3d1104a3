import { type PollState, usePoll } from './use-poll.js';

/**
 * Calls `load` once per `key` (and on `refresh`), unlike a polled read. For reads of personal data: the server
 * records every such read in the audit log, so a page must not re-read them on a timer.
 */
export function useLoad<T>(
  load: (signal: AbortSignal) => Promise<T>,
  key: string,
  enabled = true,
): PollState<T> {
  return usePoll(load, 'once', key, enabled);
}

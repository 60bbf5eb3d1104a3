import { useEffect, useState } from 'react';
import { useApi } from './api-context.js';

/** `yes` once the key's role has been seen to list privacy requests; `no` when it may not (or the server cannot). */
export type PrivacyAccess = 'checking' | 'yes' | 'no';

/**
 * Whether this key may work on privacy requests, learnt by asking for the open ones: the dashboard knows no
 * role of its own, and the answer (403 or not) is the server's decision anyway.
 */
export function usePrivacyAccess(): PrivacyAccess {
  const api = useApi();
  const [access, setAccess] = useState<PrivacyAccess>('checking');
  useEffect(() => {
    const controller = new AbortController();
    api.privacyRequests('open', controller.signal).then(
      () => setAccess('yes'),
      () => {
        if (!controller.signal.aborted) setAccess('no');
      },
    );
    return () => controller.abort();
  }, [api]);
  return access;
}

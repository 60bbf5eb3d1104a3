import { createContext, useContext } from 'react';
import type { ApiClient } from './api-client.js';

export const ApiContext = createContext<ApiClient | null>(null);

/** The API client of the signed-in session. Only valid below the signed-in app shell. */
export function useApi(): ApiClient {
  const api = useContext(ApiContext);
  if (!api) throw new Error('useApi() used outside of <ApiContext.Provider>');
  return api;
}

import { ApiError, errorFromResponse, toApiError } from './api-error.js';
import type {
  ApiKey,
  ContractsResponse,
  CreatedKey,
  CreateKeyRequest,
  DiscardReport,
  ItemsResponse,
  NamedCount,
  QuarantineDecisionRequest,
  QuarantinedEventDetail,
  QuarantineFilter,
  QuarantineListResponse,
  QueryResponse,
  RejectedEvent,
  ReplayReport,
  Source,
  StatsResponse,
  TailResponse,
  TimelineInterval,
  TimelineResponse,
  ViolationCount,
  ViolationTimelineResponse,
} from './api-types.js';

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'DELETE';
  body?: unknown;
  signal?: AbortSignal | undefined;
}

/** Sends one authenticated JSON request to the same-origin API. Throws ApiError on any failure. */
export async function requestJson<T>(key: string, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { authorization: `Bearer ${key}`, accept: 'application/json' };
  const init: RequestInit = { method: options.method ?? 'GET', headers };
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(options.body);
  }
  if (options.signal) init.signal = options.signal;
  let response: Response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw toApiError(error);
  }
  if (!response.ok) throw await errorFromResponse(response);
  return (await response.json()) as T;
}

export type ApiClient = ReturnType<typeof createApiClient>;

/**
 * Typed wrappers for the endpoints the dashboard uses. `onUnauthorized` runs when the server answers 401
 * (for example after the key was revoked), before the error is rethrown.
 */
export function createApiClient(key: string, onUnauthorized: (message: string) => void) {
  async function call<T>(path: string, options: RequestOptions = {}): Promise<T> {
    try {
      return await requestJson<T>(key, path, options);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) onUnauthorized(error.message);
      throw error;
    }
  }

  return {
    stats: (signal?: AbortSignal) => call<StatsResponse>('/v1/stats', { signal }),
    timeline: (interval: TimelineInterval, from: string | undefined, signal?: AbortSignal) => {
      const params = new URLSearchParams({ interval });
      if (from) params.set('from', from);
      return call<TimelineResponse>(`/v1/events/timeline?${params}`, { signal });
    },
    byType: (signal?: AbortSignal) => call<ItemsResponse<NamedCount>>('/v1/events/by-type', { signal }),
    byName: (limit: number, signal?: AbortSignal) =>
      call<ItemsResponse<NamedCount>>(`/v1/events/by-name?limit=${limit}`, { signal }),
    tail: (after: number, limit: number, signal?: AbortSignal) =>
      call<TailResponse>(`/v1/tail?after=${after}&limit=${limit}`, { signal }),
    rejects: (limit: number, signal?: AbortSignal) =>
      call<ItemsResponse<RejectedEvent>>(`/v1/events/rejects?limit=${limit}`, { signal }),
    sources: (signal?: AbortSignal) => call<{ sources: Source[] }>('/v1/sources', { signal }),
    keys: (signal?: AbortSignal) => call<{ keys: ApiKey[] }>('/v1/keys', { signal }),
    createKey: (body: CreateKeyRequest) => call<CreatedKey>('/v1/keys', { method: 'POST', body }),
    revokeKey: (id: string) =>
      call<{ revoked: boolean }>(`/v1/keys/${encodeURIComponent(id)}`, { method: 'DELETE' }),
    query: (sql: string, signal?: AbortSignal) =>
      call<QueryResponse>('/v1/query', { method: 'POST', body: { sql }, signal }),
    contracts: (signal?: AbortSignal) => call<ContractsResponse>('/v1/contracts', { signal }),
    reloadContracts: () => call<ContractsResponse>('/v1/contracts/reload', { method: 'POST' }),
    violationTimeline: (interval: TimelineInterval, from: string | undefined, signal?: AbortSignal) => {
      const params = new URLSearchParams({ interval });
      if (from) params.set('from', from);
      return call<ViolationTimelineResponse>(`/v1/contracts/violations/timeline?${params}`, { signal });
    },
    topViolations: (limit: number, signal?: AbortSignal) =>
      call<ItemsResponse<ViolationCount>>(`/v1/contracts/violations/top?limit=${limit}`, { signal }),
    quarantine: (filter: QuarantineFilter, page: { limit: number; offset: number }, signal?: AbortSignal) => {
      const params = new URLSearchParams();
      for (const [name, value] of Object.entries(filter)) if (value) params.set(name, value);
      params.set('limit', String(page.limit));
      params.set('offset', String(page.offset));
      return call<QuarantineListResponse>(`/v1/quarantine?${params}`, { signal });
    },
    quarantinedEvent: (id: string, signal?: AbortSignal) =>
      call<QuarantinedEventDetail>(`/v1/quarantine/${encodeURIComponent(id)}`, { signal }),
    replayQuarantined: (body: QuarantineDecisionRequest) =>
      call<ReplayReport>('/v1/quarantine/replay', { method: 'POST', body }),
    discardQuarantined: (body: QuarantineDecisionRequest) =>
      call<DiscardReport>('/v1/quarantine/discard', { method: 'POST', body }),
  };
}

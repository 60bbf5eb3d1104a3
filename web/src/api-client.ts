import { ApiError, errorFromResponse, toApiError } from './api-error.js';
import type {
  ApiKey,
  ConsentInterval,
  ConsentOverview,
  ContractsResponse,
  CreatedKey,
  CreateKeyRequest,
  DamagedLine,
  DamagedLineListResponse,
  DamagedLineStatus,
  DiscardReport,
  ItemsResponse,
  NamedCount,
  NewPrivacyRequest,
  PersonConsent,
  PrivacyRequest,
  PrivacyRequestStatus,
  Profile,
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

/** A file the API answered, for the browser to save. */
export interface DownloadedFile {
  blob: Blob;
  /** From `Content-Disposition` when the server names it, else `fallbackName`. */
  filename: string;
}

/** Fetches an authenticated file (a link cannot carry the key's header). Throws ApiError on any failure. */
export async function requestFile(key: string, path: string, fallbackName: string): Promise<DownloadedFile> {
  let response: Response;
  try {
    response = await fetch(path, { headers: { authorization: `Bearer ${key}` } });
  } catch (error) {
    throw toApiError(error);
  }
  if (!response.ok) throw await errorFromResponse(response);
  const disposition = response.headers.get('content-disposition') ?? '';
  const named = /filename="?([^";]+)"?/i.exec(disposition)?.[1];
  return { blob: await response.blob(), filename: named ?? fallbackName };
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
    damagedLines: (status: DamagedLineStatus, signal?: AbortSignal) =>
      call<DamagedLineListResponse>(`/v1/wal/damaged?status=${status}&limit=200`, { signal }),
    decideDamagedLine: (id: string, decision: 'replay' | 'discard') =>
      call<DamagedLine>(`/v1/wal/damaged/${encodeURIComponent(id)}/${decision}`, {
        method: 'POST',
        body: {},
      }),
    profile: (id: string, events: number, signal?: AbortSignal) =>
      call<Profile>(`/v1/profiles/${encodeURIComponent(id)}?events=${events}`, { signal }),
    searchProfiles: (trait: string, value: string, limit: number, signal?: AbortSignal) => {
      const params = new URLSearchParams({ trait, value, limit: String(limit) });
      return call<ItemsResponse<Profile>>(`/v1/profiles?${params}`, { signal });
    },
    consentOverview: (interval: ConsentInterval, from: string, to: string, signal?: AbortSignal) => {
      const params = new URLSearchParams({ interval, from, to });
      return call<ConsentOverview>(`/v1/consent/overview?${params}`, { signal });
    },
    personConsent: (id: string, signal?: AbortSignal) =>
      call<PersonConsent>(`/v1/consent/${encodeURIComponent(id)}`, { signal }),
    privacyRequests: (status: PrivacyRequestStatus | undefined, signal?: AbortSignal) =>
      call<{ requests: PrivacyRequest[] }>(
        status ? `/v1/privacy/requests?status=${status}` : '/v1/privacy/requests',
        { signal },
      ),
    filePrivacyRequest: (body: NewPrivacyRequest) =>
      call<{ request: PrivacyRequest }>('/v1/privacy/requests', { method: 'POST', body }),
    runPrivacyRequest: (id: string) =>
      call<{ request: PrivacyRequest }>(`/v1/privacy/requests/${encodeURIComponent(id)}/run`, {
        method: 'POST',
      }),
    refusePrivacyRequest: (id: string, reason: string) =>
      call<{ request: PrivacyRequest }>(`/v1/privacy/requests/${encodeURIComponent(id)}/refuse`, {
        method: 'POST',
        body: { reason },
      }),
    /** An access request's bundle: the whole JSON, or one CSV part. */
    privacyBundle: async (id: string, format: 'json' | 'csv', part?: string) => {
      const params = new URLSearchParams({ format });
      if (part) params.set('part', part);
      const fallback = `${id}${part ? `-${part}` : ''}.${format}`;
      try {
        return await requestFile(
          key,
          `/v1/privacy/requests/${encodeURIComponent(id)}/bundle?${params}`,
          fallback,
        );
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) onUnauthorized(error.message);
        throw error;
      }
    },
  };
}

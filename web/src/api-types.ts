/** Response shapes of the public Refinery JSON API, as used by the dashboard. */

export interface ApiErrorBody {
  code: string;
  message: string;
  field?: string;
}

export interface NamedCount {
  name: string;
  count: number;
}

export interface StatsResponse {
  workspace: string;
  store: { engine: string };
  events: { total: number; rejected: number };
  ingest: { acceptedTotal: number; eventsPerSecond: number };
  loader: { lagEvents: number; lagSeconds: number; lastLoadedSequence: number; walBytes: number };
  bySource: NamedCount[];
}

export type TimelineInterval = 'hour' | 'day';

export interface TimelinePoint {
  bucket: string;
  type: string;
  count: number;
}

export interface TimelineResponse {
  interval: TimelineInterval;
  points: TimelinePoint[];
}

export interface ItemsResponse<T> {
  items: T[];
}

export interface TailEvent {
  cursor: number;
  messageId: string;
  type: string;
  event: string | null;
  name: string | null;
  userId: string | null;
  anonymousId: string | null;
  source: string;
  timestamp: string;
  receivedAt: string;
  properties: Record<string, unknown> | null;
  traits: Record<string, unknown> | null;
  context: Record<string, unknown> | null;
}

export interface TailResponse {
  cursor: number;
  events: TailEvent[];
}

export interface RejectedEvent {
  received_at: string;
  source: string | null;
  message_id: string | null;
  type: string | null;
  reason_code: string;
  reason: string;
  field: string | null;
  payload: unknown;
}

export interface Source {
  name: string;
  type: string;
  description?: string;
  events: number;
}

export type KeyKind = 'write' | 'admin';

export interface ApiKey {
  id: string;
  kind: KeyKind;
  name: string;
  source: string | null;
  prefix: string;
  createdAt: string;
  revokedAt: string | null;
}

export interface CreatedKey {
  key: string;
  id: string;
  kind: KeyKind;
  name: string;
  source: string | null;
  prefix: string;
  createdAt: string;
}

export interface CreateKeyRequest {
  kind: KeyKind;
  name: string;
  source?: string;
}

export interface QueryColumn {
  name: string;
  type: string;
}

export interface QueryResponse {
  columns: QueryColumn[];
  rows: Record<string, unknown>[];
  truncated: boolean;
}

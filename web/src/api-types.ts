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

/** How a contract treats a violating event: hold it (`enforce`), store and flag it (`warn`), or not check. */
export type ContractMode = 'enforce' | 'warn' | 'off';

/** What happens to an event no contract declares. */
export type UndeclaredPolicy = 'allow' | 'flag' | 'quarantine';

export interface GovernedItem {
  /** Schema object name inside the contract. */
  object: string;
  /** `track`, `identify`, … for events; `dataset` for stored datasets. */
  kind: string;
  /** The event name, page/screen name or dataset it governs; null = every call of the type. */
  target: string | null;
  mode: ContractMode | string;
  properties: number;
  requiredProperties: number;
  qualityRules: number;
}

export interface ContractSummary {
  file: string;
  id: string;
  name: string | null;
  version: string;
  status: string;
  mode: ContractMode | string;
  owner: string | null;
  governs: GovernedItem[];
}

export interface ContractLoadState {
  loadedAt: string;
  contracts: number;
  /** Why the newest files were not applied (the previous set stays in force), or null. */
  error: { code: string; message: string } | null;
}

export interface ContractsResponse {
  undeclared: UndeclaredPolicy | string;
  contracts: ContractSummary[];
  load?: ContractLoadState;
}

export interface ViolationRatePoint {
  bucket: string;
  event: string;
  /** Every event received in the bucket: stored (flagged included) plus quarantined. */
  received: number;
  flagged: number;
  quarantined: number;
  /** (flagged + quarantined) / received, between 0 and 1. */
  rate: number;
}

export interface ViolationTimelineResponse {
  interval: TimelineInterval;
  points: ViolationRatePoint[];
}

export interface ViolationCount {
  contract: string | null;
  event: string;
  path: string;
  rule: string;
  count: number;
  lastSeen: string;
}

export type QuarantineStatus = 'held' | 'replayed' | 'discarded';

export interface Violation {
  path: string;
  rule: string;
  message: string;
  /** An excerpt of the offending value (left out for fields classified as personal data). */
  value?: string;
}

export interface QuarantinedEvent {
  id: string;
  receivedAt: string;
  source: string;
  type: string;
  event: string | null;
  contract: string | null;
  contractVersion: string | null;
  violations: Violation[];
  status: QuarantineStatus;
  statusAt: string | null;
  statusBy: string | null;
}

export interface QuarantinedEventDetail extends QuarantinedEvent {
  payload: Record<string, unknown>;
  ip: string | null;
  userAgent: string | null;
  agent: {
    browser: string | null;
    browser_version: string | null;
    os: string | null;
    device_type: string | null;
  } | null;
}

export interface StatusCount {
  status: QuarantineStatus;
  count: number;
}

export interface QuarantineListResponse {
  items: QuarantinedEvent[];
  /** Counts per status for the same filter without its status. */
  counts: StatusCount[];
}

/** Which quarantined events a list or a decision applies to; every field narrows the selection. */
export interface QuarantineFilter {
  status?: QuarantineStatus;
  contract?: string;
  event?: string;
  rule?: string;
  source?: string;
  from?: string;
  to?: string;
}

export interface QuarantineDecisionRequest {
  ids?: string[];
  filter?: Omit<QuarantineFilter, 'status'>;
  /** Every held event (only when neither ids nor a filter is given). */
  all?: boolean;
  /** Store events that still break their contract (they are flagged). */
  force?: boolean;
  dryRun?: boolean;
}

export interface ReplayReport {
  selected: number;
  replayed: number;
  /** Replayed events whose message id was already stored: not stored twice. */
  alreadyStored: number;
  stillFailing: { id: string; violations: Violation[] }[];
  dryRun: boolean;
}

export interface DiscardReport {
  discarded: number;
}

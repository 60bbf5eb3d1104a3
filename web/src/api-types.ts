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
  loader: {
    lagEvents: number;
    lagSeconds: number;
    lastLoadedSequence: number;
    walBytes: number;
    /** Log lines the loader set aside instead of loading, by what became of them. */
    damagedLines?: { held: number; replayed: number; discarded: number };
  };
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

export type KeyKind = 'write' | 'admin' | 'analyst' | 'privacy' | 'read';

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

/** The roles a key can have; see docs/roles.md. */
export type KeyRole = 'write' | 'admin' | 'analyst' | 'privacy' | 'read';

export interface Identity {
  /** `user_id`, `anonymous_id`, `email`, `phone`, …; emails and phones are SHA-256 hashes. */
  type: string;
  value: string;
}

export interface ComputedTraits {
  orderCount: number;
  revenue: number | null;
  averageOrderValue: number | null;
  lastOrderAt: string | null;
  favouriteCategory: string | null;
}

export interface ProfileEvent {
  messageId: string;
  type: string;
  name: string | null;
  timestamp: string;
  source: string;
  properties: Record<string, unknown> | null;
}

/** The purposes consent is recorded and enforced for. */
export type ConsentPurpose = 'analytics' | 'personalisation' | 'advertising' | 'sale_sharing';

export type ConsentDecision = 'granted' | 'denied';

/** Where a decision came from; `default` when the person made no choice and the workspace default applies. */
export type ConsentSource = 'api' | 'gpc' | 'context.consent' | 'default';

export interface ConsentStanding {
  purpose: ConsentPurpose | string;
  granted: boolean;
  since: string | null;
  source: ConsentSource | string;
}

export interface Profile {
  personId: string;
  identities: Identity[];
  traits: Record<string, unknown>;
  traitsUpdatedAt: Record<string, string>;
  firstSeen: string | null;
  lastSeen: string | null;
  eventCount: number;
  computed: ComputedTraits;
  recentEvents: ProfileEvent[];
  /** Trait names withheld from this key's role (shown as `[hidden]`). */
  hidden: string[];
  /** The person's standing per purpose (present once the profile API carries it). */
  consents?: ConsentStanding[];
}

export type ConsentInterval = 'day' | 'week';

export interface ConsentOverviewPoint {
  bucket: string;
  /** People known at the end of the bucket. */
  people: number;
  /** People granting each purpose at the end of the bucket. */
  granted: Record<string, number>;
}

export interface ConsentOverview {
  interval: ConsentInterval;
  from: string;
  to: string;
  purposes: string[];
  defaults: Record<string, ConsentDecision>;
  points: ConsentOverviewPoint[];
  /** Consent-manager categories the mapping in refinery.yaml does not know. */
  unknownCategories: CategoryCount[];
}

export interface CategoryCount {
  category: string;
  count: number;
}

export interface ConsentHistoryEntry {
  purpose: string;
  granted: boolean;
  source: string;
  category: string | null;
  at: string;
}

export interface PersonConsent {
  personId: string;
  state: ConsentStanding[];
  history: ConsentHistoryEntry[];
}

export type PrivacyRequestKind = 'access' | 'erase' | 'object';

export type PrivacyRequestStatus = 'open' | 'done' | 'refused';

export interface PrivacyRequest {
  id: string;
  kind: PrivacyRequestKind;
  /** The subject as it may be displayed: masked. */
  subject: string;
  personId: string | null;
  purpose: string | null;
  status: PrivacyRequestStatus;
  receivedAt: string;
  dueAt: string;
  completedAt: string | null;
  overdue: boolean;
  actor: string;
  result: Record<string, unknown> | null;
}

export interface NewPrivacyRequest {
  kind: PrivacyRequestKind;
  userId?: string;
  anonymousId?: string;
  email?: string;
  purpose?: string;
  /** Carry the request out at once instead of queueing it. */
  run?: boolean;
}

export type DamagedLineStatus = 'held' | 'replayed' | 'discarded';

/** A write-ahead-log line the loader set aside (GET /v1/wal/damaged). */
export interface DamagedLine {
  id: string;
  sequence: number;
  lineNo: number;
  damage: string;
  reason: string;
  bytes: number;
  foundAt: string;
  status: DamagedLineStatus;
  statusAt: string | null;
  statusBy: string | null;
  /** The line read as UTF-8, cut short in a list. */
  text: string;
  truncated: boolean;
}

export interface DamagedLineListResponse {
  items: DamagedLine[];
  counts: { status: DamagedLineStatus; count: number }[];
}

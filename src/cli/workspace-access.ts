import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { createApiKey, describeKey } from '../access/api-keys.js';
import { storeMetadataAnchor } from '../audit/audit-anchor.js';
import type { AuditAction, AuditActor, JsonRecord } from '../audit/audit-entry.js';
import { auditFolder } from '../audit/audit-files.js';
import { AuditLog } from '../audit/audit-log.js';
import { consentDecisionLine } from '../collect/consent-observations.js';
import { Loader } from '../collect/loader.js';
import { WriteAheadLog } from '../collect/wal/write-ahead-log.js';
import { readEnvironment } from '../config/environment.js';
import { loadWorkspaceConfig, type WorkspaceConfig } from '../config/workspace-config.js';
import { type ContractsOverview, summariseContracts } from '../contracts/contract-summary.js';
import { loadContractSet } from '../contracts/load-contracts.js';
import {
  discardQuarantined,
  getQuarantinedOrThrow,
  type QuarantineDecisionContext,
  type ReplayReport,
  replayQuarantined,
} from '../contracts/quarantine.js';
import { quarantineExportLines } from '../contracts/quarantine-export.js';
import { withoutStatus } from '../contracts/quarantine-rows.js';
import { RefineryError } from '../core/errors.js';
import { IdentityResolution } from '../identity/identity-resolution.js';
import { runImport } from '../imports/run-import.js';
import { consentDecisionsOf, consentSubjectOf, loadConsentDecisions } from '../privacy/consent-decisions.js';
import { type ConsentPurpose, consentPurposeOrThrow } from '../privacy/consent-purposes.js';
import {
  type ConsentOverview,
  consentAuditTarget,
  consentOverview,
  type OverviewInterval,
  type PersonConsent,
  readPersonConsent,
} from '../privacy/consent-reader.js';
import type { AccessBundle } from '../privacy/requests/access-bundle.js';
import { type PrivacyRequest, validateNewRequest } from '../privacy/requests/privacy-request.js';
import { PrivacyRequests, type RunOutcome } from '../privacy/requests/privacy-requests.js';
import { revealMessage } from '../privacy/vault/personal-fields.js';
import { openWorkspacePrivacy, type WorkspacePrivacy } from '../privacy/workspace-privacy.js';
import {
  findPerson,
  type Profile,
  type ProfileSearch,
  readProfile,
  searchProfiles,
} from '../profiles/profile-reader.js';
import { findRunningServer, type ServerFile } from '../runtime/server-file.js';
import { eventCounts } from '../store/event-counts.js';
import type { ImportProgress, ImportReport, ImportTarget } from '../store/import-types.js';
import { openStore } from '../store/open-store.js';
import type { PrivacyRequestStatus } from '../store/privacy-types.js';
import { queryAuditDetail } from '../store/query-audit.js';
import { userQueryOptions } from '../store/query-limits.js';
import type { QueryResult } from '../store/query-result.js';
import type {
  ApiKeyKind,
  QuarantinedEventRow,
  QuarantineFilter,
  StatusCount,
  Store,
} from '../store/store.js';
import { type WorkspacePaths, workspacePaths } from '../workspace/workspace-paths.js';
import type { WorkspaceTarget } from './main.js';
import { callServer } from './server-call.js';

function filterParams(filter: QuarantineFilter): URLSearchParams {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(filter)) {
    if (value === undefined || key === 'ids') continue;
    params.set(key, value instanceof Date ? value.toISOString() : String(value));
  }
  return params;
}

function decisionBody(request: QuarantineDecisionRequest): Record<string, unknown> {
  const { ids, ...filter } = request.filter;
  const hasFilter = Object.keys(filter).length > 0;
  return {
    ...(ids ? { ids } : {}),
    ...(hasFilter ? { filter: Object.fromEntries(filterParams(filter)) } : {}),
    ...(!ids && !hasFilter ? { all: true } : {}),
    force: request.force === true,
    dryRun: request.dryRun === true,
    ...(request.fixes ? { fixes: [...request.fixes].map(([id, payload]) => ({ id, payload })) } : {}),
  };
}

export interface KeyDescription {
  readonly id: string;
  readonly kind: ApiKeyKind;
  readonly name: string;
  readonly source: string | null;
  readonly prefix: string;
  readonly createdAt: string;
  readonly revokedAt: string | null;
}

export interface ImportRequest {
  readonly file: string;
  readonly target: ImportTarget;
  readonly format?: string;
  readonly map: readonly string[];
}

/**
 * What CLI commands need from a workspace, whether a server owns its database (then every call goes
 * through the server's API, since DuckDB admits one writing process) or not (then the file is opened here).
 */
export interface WorkspaceAccess {
  readonly config: WorkspaceConfig;
  readonly via: 'server' | 'direct';
  createKey(request: {
    kind: ApiKeyKind;
    name?: string;
    source?: string;
  }): Promise<KeyDescription & { key: string }>;
  listKeys(): Promise<KeyDescription[]>;
  revokeKey(id: string): Promise<boolean>;
  query(sql: string): Promise<QueryResult>;
  /** What `/v1/stats` answers; without a server, only what the store itself knows. */
  stats(): Promise<Record<string, unknown>>;
  importFile(request: ImportRequest, onProgress: (progress: ImportProgress) => void): Promise<ImportReport>;
  /** The contracts in force (a server's loaded set, or the folder read now). */
  contracts(): Promise<ContractsOverview>;
  listQuarantined(
    filter: QuarantineFilter,
    page: { limit: number; offset?: number },
  ): Promise<{ items: QuarantinedEventRow[]; counts: StatusCount[] }>;
  getQuarantined(id: string): Promise<QuarantinedEventRow>;
  replayQuarantined(request: QuarantineDecisionRequest): Promise<ReplayReport>;
  discardQuarantined(request: QuarantineDecisionRequest): Promise<{ discarded: number }>;
  exportQuarantined(filter: QuarantineFilter, format: 'ndjson' | 'csv'): AsyncIterable<string>;
  /** One person's 360° view by person id or `type:value` identifier (the CLI is the workspace's admin). */
  profile(reference: string, recentEvents: number): Promise<Profile>;
  searchProfiles(search: ProfileSearch): Promise<Profile[]>;
  /** Share of people per purpose over time (what `GET /v1/consent/overview` answers). */
  consentOverview(interval: OverviewInterval): Promise<ConsentOverview>;
  /** One person's consent standing and history. */
  consent(reference: string): Promise<PersonConsent>;
  /** Records decisions for a user id or anonymous id (as `POST /v1/consent`). */
  setConsent(
    reference: string,
    purposes: Partial<Record<ConsentPurpose, boolean>>,
  ): Promise<{ recorded: number }>;
  /** Receives a data-subject request (the body of `POST /v1/privacy/requests`) and, unless queued, carries it out. */
  createPrivacyRequest(body: Record<string, unknown>): Promise<PrivacyRequest>;
  /** The request log: open requests first by due date, then the rest newest first. */
  listPrivacyRequests(status?: PrivacyRequestStatus): Promise<PrivacyRequest[]>;
  runPrivacyRequest(id: string): Promise<PrivacyRequest>;
  refusePrivacyRequest(id: string, reason: string): Promise<PrivacyRequest>;
  /** A done access request's bundle (its download is recorded in the audit log). */
  privacyBundle(id: string): Promise<AccessBundle>;
  close(): Promise<void>;
}

export interface QuarantineDecisionRequest {
  readonly filter: QuarantineFilter;
  readonly force?: boolean;
  readonly dryRun?: boolean;
  readonly fixes?: ReadonlyMap<string, Record<string, unknown>>;
}

export async function openWorkspaceAccess(target: string | WorkspaceTarget): Promise<WorkspaceAccess> {
  const { dir, storeUrl } = typeof target === 'string' ? { dir: target, storeUrl: undefined } : target;
  const config = loadWorkspaceConfig(dir, { storeUrl });
  const paths = workspacePaths(dir, config);
  const server = findRunningServer(paths.serverFile);
  if (server) return new ServerAccess(config, server);
  const store = await openStore(config.store.url, {
    databaseFile: paths.databaseFile,
    memoryLimit: config.store.memoryLimit,
  });
  return new DirectAccess(config, store, paths);
}

/** Runs `work` with the workspace open and closes it afterwards, whatever happens. */
export async function withWorkspaceAccess<T>(
  target: string | WorkspaceTarget,
  work: (access: WorkspaceAccess) => Promise<T>,
): Promise<T> {
  const access = await openWorkspaceAccess(target);
  try {
    return await work(access);
  } finally {
    await access.close();
  }
}

class DirectAccess implements WorkspaceAccess {
  readonly via = 'direct' as const;
  constructor(
    readonly config: WorkspaceConfig,
    private readonly store: Store,
    private readonly paths: WorkspacePaths,
  ) {}

  async contracts() {
    return summariseContracts(this.contractSet());
  }

  private privacy: Promise<WorkspacePrivacy> | undefined;

  /** The vault and suppression list, opened on first use (the CLI is the workspace's admin). */
  privacyOf(): Promise<WorkspacePrivacy> {
    this.privacy ??= openWorkspacePrivacy({
      dataDir: this.paths.data,
      config: this.config,
      masterKey: readEnvironment().masterKey,
    });
    return this.privacy;
  }

  /** Identity resolution as the server runs it (same person-id key), for reads without a server. */
  async resolution(): Promise<IdentityResolution> {
    const { personIdKey, identifiers } = await this.privacyOf();
    return new IdentityResolution(this.store, this.config.identity, { personIdKey, identifiers });
  }

  async profile(reference: string, recentEvents: number): Promise<Profile> {
    // Without a server nothing resolves identities: bring the graph up to date with what was loaded.
    await (await this.resolution()).run();
    const { vault, fields, identifiers } = await this.privacyOf();
    const person = await findPerson(this.store, reference, identifiers);
    if (!person) {
      throw new RefineryError('REFINERY_ERR_PROFILE_NOT_FOUND', `No person is known by "${reference}".`, {
        field: 'id',
      });
    }
    return readProfile(this.store, person, {
      personal: true,
      personalFields: fields,
      recentEvents,
      vault,
      consentDefaults: this.config.consent.default,
    });
  }

  async consentOverview(interval: OverviewInterval): Promise<ConsentOverview> {
    await this.store.consent.applyDefaults(this.config.consent.default);
    await (await this.resolution()).run();
    return consentOverview(this.store, this.config.consent.default, { interval });
  }

  async consent(reference: string): Promise<PersonConsent> {
    await (await this.resolution()).run();
    const person = await findPerson(this.store, reference, (await this.privacyOf()).identifiers);
    if (!person) {
      throw new RefineryError('REFINERY_ERR_PROFILE_NOT_FOUND', `No person is known by "${reference}".`, {
        field: 'id',
      });
    }
    return readPersonConsent(this.store, person, this.config.consent.default);
  }

  async setConsent(reference: string, purposes: Partial<Record<ConsentPurpose, boolean>>) {
    const decisions = consentDecisionsOf({ ...consentSubjectOf(reference), purposes }, new Date());
    // No server, so no write-ahead log taking requests: the decisions are loaded as a segment of their own.
    const recorded = await loadConsentDecisions(this.store, this.paths.data, decisions);
    await this.store.consent.applyDefaults(this.config.consent.default);
    await (await this.resolution()).run();
    const { identifiers } = await this.privacyOf();
    const target = await consentAuditTarget(this.store, decisions[0]!.identifier, identifiers);
    await this.audit('consent.change', target, {
      purposes: Object.fromEntries(decisions.map((decision) => [decision.purpose, decision.granted])),
    });
    return { recorded };
  }

  async searchProfiles(search: ProfileSearch): Promise<Profile[]> {
    await (await this.resolution()).run();
    const { vault, fields, identifiers } = await this.privacyOf();
    return searchProfiles(
      this.store,
      search,
      { personal: true, personalFields: fields, vault, consentDefaults: this.config.consent.default },
      identifiers,
    );
  }

  async listQuarantined(filter: QuarantineFilter, page: { limit: number; offset?: number }) {
    const [items, counts] = await Promise.all([
      this.store.governance.listQuarantined(filter, page),
      this.store.governance.countQuarantined(withoutStatus(filter)),
    ]);
    return { items, counts };
  }

  async getQuarantined(id: string) {
    const row = await getQuarantinedOrThrow(this.store, id);
    if (!row.payload) return row;
    return { ...row, payload: (await revealMessage(row.payload, (await this.privacyOf()).vault)).value };
  }

  async replayQuarantined(request: QuarantineDecisionRequest) {
    return replayQuarantined(await this.decisionContext(), this.contractSet(), request);
  }

  async discardQuarantined(request: QuarantineDecisionRequest) {
    return discardQuarantined(await this.decisionContext(), request.filter);
  }

  exportQuarantined(filter: QuarantineFilter, format: 'ndjson' | 'csv') {
    return quarantineExportLines(this.store, filter, format);
  }

  private contractSet() {
    return loadContractSet(this.paths.root, this.config.contracts.undeclared);
  }

  private async decisionContext(): Promise<QuarantineDecisionContext> {
    return {
      store: this.store,
      workDir: this.paths.data,
      dedupeWindowHours: this.config.collect.dedupeWindowHours,
      identityRules: this.config.identity,
      consent: this.config.consent,
      privacy: await this.privacyOf(),
      by: 'cli',
    };
  }

  async createKey(request: { kind: ApiKeyKind; name?: string; source?: string }) {
    const source =
      request.kind === 'write' ? (request.source ?? this.config.sources[0]?.name ?? 'default') : null;
    if (source && !this.config.sources.some((s) => s.name === source)) {
      throw new RefineryError('REFINERY_ERR_INVALID_FIELD', `No source "${source}" in refinery.yaml.`, {
        field: 'source',
      });
    }
    const created = await createApiKey(this.store, {
      kind: request.kind,
      ...(request.name ? { name: request.name } : {}),
      source,
    });
    return { key: created.key, ...describeKey(created.row) };
  }

  async listKeys() {
    return (await this.store.keys.list()).map(describeKey);
  }

  revokeKey(id: string) {
    return this.store.keys.revoke(id, new Date());
  }

  /** The person at the command line sees personal data, so every statement is audited, as the server does. */
  async query(sql: string) {
    try {
      const result = await this.store.readOnlyQuery(sql, userQueryOptions(this.config.limits));
      await this.audit('query.run', null, queryAuditDetail(sql, undefined, { result }));
      return result;
    } catch (error) {
      await this.audit('query.run', null, queryAuditDetail(sql, undefined, { error }));
      throw error;
    }
  }

  async stats() {
    const { total, rejected, bySource } = await eventCounts(this.store);
    return {
      workspace: this.config.name,
      store: { engine: this.store.engine },
      events: { total, rejected },
      server: null,
      bySource,
    };
  }

  async importFile(request: ImportRequest, onProgress: (progress: ImportProgress) => void) {
    return runImport(
      this.store,
      {
        file: request.file,
        fileName: basename(request.file),
        target: request.target,
        ...(request.format ? { format: request.format as never } : {}),
        map: [...request.map],
        contracts: this.contractSet(),
        // Personal values are sealed with the workspace's keys before they are stored, as the server does.
        privacy: await this.privacyOf(),
      },
      onProgress,
    );
  }

  private requestService: Promise<PrivacyRequests> | undefined;

  /**
   * The request service without a server: the graph is brought up to date here, erasures first load what the
   * write-ahead log still holds, and an objection goes through the log like the server's (see `recordObjection`).
   */
  private privacyRequests(): Promise<PrivacyRequests> {
    this.requestService ??= (async () => {
      const { vault, suppression, identifiers } = await this.privacyOf();
      const resolution = await this.resolution();
      return new PrivacyRequests({
        store: this.store,
        deadlineDays: this.config.privacy.requestDeadlineDays,
        consentDefaults: this.config.consent.default,
        personalFields: this.config.privacy.personalFields,
        vault,
        suppression,
        identifiers,
        drainLoader: () => this.loadWriteAheadLog(),
        resolveIdentities: () => resolution.run(),
        reloadIdentities: () => resolution.reload(),
        recordObjection: async ({ identifier, purpose, at }) => {
          await this.loadWriteAheadLog(
            consentDecisionLine({
              identifier,
              purpose: consentPurposeOrThrow(purpose),
              granted: false,
              at,
              source: 'api',
            }),
          );
          await resolution.run();
        },
        erasure: { waitForCleanupMs: 30_000 },
      });
    })();
    return this.requestService;
  }

  /**
   * Appends `lines` (if any) to the workspace's write-ahead log and loads the log into the store, as a server's
   * loader would: only done while no server runs, so this process is the log's only writer.
   */
  private async loadWriteAheadLog(lines?: string): Promise<void> {
    const stream = collectorStreamOf(this.paths);
    const wal = await WriteAheadLog.open({
      dir: this.paths.wal,
      segmentBytes: this.config.collect.walSegmentBytes,
      maxBytes: this.config.limits.maxWalBytes,
      loadedSequence: await this.store.events.lastLoadedSequence(stream),
    });
    try {
      if (lines) await wal.append(lines);
      const loader = new Loader(wal, this.store, {
        stream,
        intervalMs: this.config.collect.loaderIntervalMs,
        dedupeWindowHours: this.config.collect.dedupeWindowHours,
      });
      await loader.drain();
    } finally {
      await wal.close();
    }
  }

  /** Appends one entry to the audit log as the person at the command line (no server holds the log). */
  private async audit(action: AuditAction, target: string | null, detail: JsonRecord): Promise<void> {
    const log = await AuditLog.open(auditFolder(this.paths.data), {
      anchor: storeMetadataAnchor(this.store.metadata),
    });
    try {
      await log.append({ actor: cliActor(), action, target, detail });
    } finally {
      await log.close();
    }
  }

  private async auditOutcome({ request, erasure }: RunOutcome): Promise<void> {
    await this.audit('privacy.request', request.id, {
      kind: request.kind,
      status: request.status,
      personId: request.personId,
    });
    if (erasure) {
      await this.audit('personal_data.erase', request.personId, {
        requestId: request.id,
        deleted: erasure.deleted,
        keysShredded: erasure.keysShredded,
        suppressed: erasure.suppressed,
      });
    }
  }

  async createPrivacyRequest(body: Record<string, unknown>): Promise<PrivacyRequest> {
    const input = validateNewRequest(body);
    const service = await this.privacyRequests();
    // The request names its person when it arrives: make sure the graph knows what was loaded.
    await (await this.resolution()).run();
    const outcome = await service.create(input, cliActorName());
    await this.auditOutcome(outcome);
    return outcome.request;
  }

  async listPrivacyRequests(status?: PrivacyRequestStatus): Promise<PrivacyRequest[]> {
    return (await this.privacyRequests()).list(status);
  }

  async runPrivacyRequest(id: string): Promise<PrivacyRequest> {
    const outcome = await (await this.privacyRequests()).run(id);
    await this.auditOutcome(outcome);
    return outcome.request;
  }

  async refusePrivacyRequest(id: string, reason: string): Promise<PrivacyRequest> {
    const refused = await (await this.privacyRequests()).refuse(id, reason);
    await this.auditOutcome({ request: refused });
    return refused;
  }

  async privacyBundle(id: string): Promise<AccessBundle> {
    const bundle = await (await this.privacyRequests()).bundle(id);
    await this.audit('personal_data.export', bundle.personId, { requestId: id, format: 'json' });
    return bundle;
  }

  async close() {
    if (this.privacy) await (await this.privacy).close();
    await this.store.checkpoint().catch(() => undefined);
    await this.store.close();
  }
}

class ServerAccess implements WorkspaceAccess {
  readonly via = 'server' as const;
  constructor(
    readonly config: WorkspaceConfig,
    private readonly server: ServerFile,
  ) {}

  async createKey(request: { kind: ApiKeyKind; name?: string; source?: string }) {
    return this.call<KeyDescription & { key: string }>('POST', '/v1/keys', request);
  }

  async listKeys() {
    return (await this.call<{ keys: KeyDescription[] }>('GET', '/v1/keys')).keys;
  }

  async revokeKey(id: string) {
    try {
      return (await this.call<{ revoked: boolean }>('DELETE', `/v1/keys/${encodeURIComponent(id)}`)).revoked;
    } catch (error) {
      if (error instanceof RefineryError && error.code === 'REFINERY_ERR_NOT_FOUND') return false;
      throw error;
    }
  }

  query(sql: string) {
    return this.call<QueryResult>('POST', '/v1/query', { sql });
  }

  async stats() {
    const stats = await this.call<Record<string, unknown>>('GET', '/v1/stats');
    return {
      ...stats,
      server: { url: this.server.url, pid: this.server.pid, startedAt: this.server.startedAt },
    };
  }

  async importFile(request: ImportRequest, onProgress: (progress: ImportProgress) => void) {
    const size = statSync(request.file).size;
    let sent = 0;
    const stream = createReadStream(request.file);
    stream.on('data', (chunk) => {
      sent += chunk.length;
      onProgress({ phase: 'reading', fraction: size > 0 ? (sent / size) * 0.5 : 0.5 });
    });
    const params = new URLSearchParams({ as: request.target, fileName: basename(request.file) });
    if (request.format) params.set('format', request.format);
    for (const mapping of request.map) params.append('map', mapping);
    const report = await this.call<ImportReport>('POST', `/v1/imports?${params}`, Readable.toWeb(stream), {
      'content-type': 'application/octet-stream',
    });
    onProgress({ phase: 'done', fraction: 1 });
    return report;
  }

  contracts() {
    return this.call<ContractsOverview>('GET', '/v1/contracts');
  }

  listQuarantined(filter: QuarantineFilter, page: { limit: number; offset?: number }) {
    const params = filterParams(filter);
    params.set('limit', String(page.limit));
    if (page.offset) params.set('offset', String(page.offset));
    return this.call<{ items: QuarantinedEventRow[]; counts: StatusCount[] }>(
      'GET',
      `/v1/quarantine?${params}`,
    );
  }

  getQuarantined(id: string) {
    return this.call<QuarantinedEventRow>('GET', `/v1/quarantine/${encodeURIComponent(id)}`);
  }

  profile(reference: string, recentEvents: number) {
    return this.call<Profile>('GET', `/v1/profiles/${encodeURIComponent(reference)}?events=${recentEvents}`);
  }

  consentOverview(interval: OverviewInterval) {
    return this.call<ConsentOverview>('GET', `/v1/consent/overview?interval=${interval}`);
  }

  consent(reference: string) {
    return this.call<PersonConsent>('GET', `/v1/consent/${encodeURIComponent(reference)}`);
  }

  setConsent(reference: string, purposes: Partial<Record<ConsentPurpose, boolean>>) {
    return this.call<{ recorded: number }>('POST', '/v1/consent', {
      ...consentSubjectOf(reference),
      purposes,
    });
  }

  async searchProfiles(search: ProfileSearch) {
    const params = new URLSearchParams({
      trait: search.trait,
      value: search.value,
      limit: String(search.limit),
    });
    return (await this.call<{ items: Profile[] }>('GET', `/v1/profiles?${params}`)).items;
  }

  replayQuarantined(request: QuarantineDecisionRequest) {
    return this.call<ReplayReport>('POST', '/v1/quarantine/replay', decisionBody(request));
  }

  discardQuarantined(request: QuarantineDecisionRequest) {
    return this.call<{ discarded: number }>('POST', '/v1/quarantine/discard', decisionBody(request));
  }

  async *exportQuarantined(filter: QuarantineFilter, format: 'ndjson' | 'csv'): AsyncIterable<string> {
    const params = filterParams(filter);
    params.set('format', format);
    const response = await fetch(`${this.server.url}/v1/quarantine/export?${params}`, {
      headers: { authorization: `Bearer ${this.server.token}` },
    });
    if (!response.ok || !response.body) {
      const payload = (await response.json().catch(() => ({}))) as Record<string, unknown>;
      throw new RefineryError(payload.code as never, String(payload.message ?? response.statusText));
    }
    const decoder = new TextDecoder();
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield decoder.decode(value, { stream: true });
    }
  }

  createPrivacyRequest(body: Record<string, unknown>) {
    return this.call<{ request: PrivacyRequest }>('POST', '/v1/privacy/requests', body).then(
      (r) => r.request,
    );
  }

  async listPrivacyRequests(status?: PrivacyRequestStatus) {
    const query = status ? `?${new URLSearchParams({ status })}` : '';
    return (await this.call<{ requests: PrivacyRequest[] }>('GET', `/v1/privacy/requests${query}`)).requests;
  }

  async runPrivacyRequest(id: string) {
    const path = `/v1/privacy/requests/${encodeURIComponent(id)}/run`;
    return (await this.call<{ request: PrivacyRequest }>('POST', path)).request;
  }

  async refusePrivacyRequest(id: string, reason: string) {
    const path = `/v1/privacy/requests/${encodeURIComponent(id)}/refuse`;
    return (await this.call<{ request: PrivacyRequest }>('POST', path, { reason })).request;
  }

  privacyBundle(id: string) {
    return this.call<AccessBundle>(
      'GET',
      `/v1/privacy/requests/${encodeURIComponent(id)}/bundle?format=json`,
    );
  }

  async close() {}

  private call<T>(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<T> {
    return callServer<T>(this.server, method, path, body, headers);
  }
}

/** The person at the command line, as the audit log names them. */
function cliActor(): AuditActor {
  try {
    return { cli: userInfo().username };
  } catch {
    // No passwd entry for this uid (common in containers).
    return { cli: `uid:${process.getuid?.() ?? 'unknown'}` };
  }
}

/** Who received a request, as the request log shows it. */
function cliActorName(): string {
  return `cli:${(cliActor() as { cli: string }).cli}`;
}

/**
 * The name the workspace's write-ahead log goes by in the store (`data/collector-id`, written by the first
 * server start; created here the same way when no server ever ran).
 */
function collectorStreamOf(paths: WorkspacePaths): string {
  const file = join(paths.data, 'collector-id');
  if (!existsSync(file)) {
    mkdirSync(paths.data, { recursive: true });
    writeFileSync(file, `collector-${randomBytes(6).toString('hex')}\n`);
  }
  return readFileSync(file, 'utf8').trim();
}

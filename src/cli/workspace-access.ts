import { createReadStream, statSync } from 'node:fs';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { createApiKey, describeKey } from '../access/api-keys.js';
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
import { DEFAULT_PERSONAL_FIELDS } from '../privacy/vault/personal-fields.js';
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

  async profile(reference: string, recentEvents: number): Promise<Profile> {
    // Without a server nothing resolves identities: bring the graph up to date with what was loaded.
    await new IdentityResolution(this.store, this.config.identity).run();
    const person = await findPerson(this.store, reference);
    if (!person) {
      throw new RefineryError('REFINERY_ERR_PROFILE_NOT_FOUND', `No person is known by "${reference}".`, {
        field: 'id',
      });
    }
    return readProfile(this.store, person, {
      personal: true,
      personalFields: DEFAULT_PERSONAL_FIELDS,
      recentEvents,
    });
  }

  async searchProfiles(search: ProfileSearch): Promise<Profile[]> {
    await new IdentityResolution(this.store, this.config.identity).run();
    return searchProfiles(this.store, search, { personal: true, personalFields: DEFAULT_PERSONAL_FIELDS });
  }

  async listQuarantined(filter: QuarantineFilter, page: { limit: number; offset?: number }) {
    const [items, counts] = await Promise.all([
      this.store.governance.listQuarantined(filter, page),
      this.store.governance.countQuarantined(withoutStatus(filter)),
    ]);
    return { items, counts };
  }

  getQuarantined(id: string) {
    return getQuarantinedOrThrow(this.store, id);
  }

  replayQuarantined(request: QuarantineDecisionRequest) {
    return replayQuarantined(this.decisionContext(), this.contractSet(), request);
  }

  discardQuarantined(request: QuarantineDecisionRequest) {
    return discardQuarantined(this.decisionContext(), request.filter);
  }

  exportQuarantined(filter: QuarantineFilter, format: 'ndjson' | 'csv') {
    return quarantineExportLines(this.store, filter, format);
  }

  private contractSet() {
    return loadContractSet(this.paths.root, this.config.contracts.undeclared);
  }

  private decisionContext(): QuarantineDecisionContext {
    return {
      store: this.store,
      workDir: this.paths.data,
      dedupeWindowHours: this.config.collect.dedupeWindowHours,
      identityRules: this.config.identity,
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

  query(sql: string) {
    return this.store.readOnlyQuery(sql, {
      timeoutMs: this.config.limits.queryTimeoutMs,
      maxRows: this.config.limits.queryMaxRows,
    });
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

  importFile(request: ImportRequest, onProgress: (progress: ImportProgress) => void) {
    return runImport(
      this.store,
      {
        file: request.file,
        fileName: basename(request.file),
        target: request.target,
        ...(request.format ? { format: request.format as never } : {}),
        map: [...request.map],
        contracts: this.contractSet(),
      },
      onProgress,
    );
  }

  async close() {
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

  async close() {}

  private async call<T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<T> {
    const isStream = body instanceof ReadableStream;
    let response: Response;
    try {
      response = await fetch(`${this.server.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.server.token}`,
          ...(body !== undefined && !isStream ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        ...(body === undefined ? {} : { body: isStream ? (body as ReadableStream) : JSON.stringify(body) }),
        ...(isStream ? { duplex: 'half' } : {}),
      } as RequestInit);
    } catch (cause) {
      throw new RefineryError(
        'REFINERY_ERR_SERVER_UNREACHABLE',
        `The server registered at ${this.server.url} (pid ${this.server.pid}) did not answer.`,
        {},
        { cause },
      );
    }
    const payload = (await response.json()) as Record<string, unknown>;
    if (!response.ok) {
      const { code, message, ...details } = payload;
      throw new RefineryError(code as never, String(message ?? response.statusText), details);
    }
    return payload as T;
  }
}

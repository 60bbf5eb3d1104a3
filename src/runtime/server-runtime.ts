import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { KeyRing } from '../access/api-keys.js';
import { storeMetadataAnchor } from '../audit/audit-anchor.js';
import { auditFolder } from '../audit/audit-files.js';
import { AuditLog } from '../audit/audit-log.js';
import { Collector } from '../collect/collector.js';
import { ConsentObservations } from '../collect/consent-observations.js';
import { IdentityObservations } from '../collect/identity-observations.js';
import { IngestMeter } from '../collect/ingest-meter.js';
import { Loader } from '../collect/loader.js';
import { TailBuffer } from '../collect/tail-buffer.js';
import { UserAgentParser } from '../collect/user-agent.js';
import { WriteAheadLog } from '../collect/wal/write-ahead-log.js';
import { readEnvironment } from '../config/environment.js';
import { loadWorkspaceConfig, type WorkspaceConfig } from '../config/workspace-config.js';
import { LiveContracts } from '../contracts/live-contracts.js';
import { recoverQuarantineDecisions } from '../contracts/quarantine.js';
import { RefineryError } from '../core/errors.js';
import { IdentityResolution } from '../identity/identity-resolution.js';
import { RetentionJob } from '../privacy/retention.js';
import { openWorkspacePrivacy, type WorkspacePrivacy } from '../privacy/workspace-privacy.js';
import { buildApp } from '../server/app.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { type WorkspacePaths, workspacePaths } from '../workspace/workspace-paths.js';
import { collectorStream } from './collector-stream.js';
import type { ServerFile } from './server-file.js';

export interface ServerOptions {
  readonly dir: string;
  /** Overrides `store.url` of refinery.yaml (`--store`). */
  readonly storeUrl?: string | undefined;
  readonly port?: number;
  readonly host?: string;
  readonly logger?: boolean;
  /** Collector stream name; one per collector process writing to a shared store. */
  readonly stream?: string;
  readonly onLoaderError?: (error: unknown) => void;
  /** REFINERY_MASTER_KEY; absent, the environment is read (and else the workspace's key file is used). */
  readonly masterKey?: string;
}

export interface RunningServer {
  readonly url: string;
  readonly app: FastifyInstance;
  readonly config: WorkspaceConfig;
  readonly paths: WorkspacePaths;
  readonly store: Store;
  readonly loader: Loader;
  readonly keys: KeyRing;
  /** The vault, suppression list and personal-field names of this workspace. */
  readonly privacy: WorkspacePrivacy;
  /** An admin token valid for this server's lifetime, also written to data/server.json for the local CLI. */
  readonly localToken: string;
  close(): Promise<void>;
}

/**
 * Starts a collector/API server on a workspace: opens the store (which locks the DuckDB file), repairs
 * and opens the write-ahead log, starts the loader, and listens. `close()` stops taking requests,
 * loads what the log still holds, and closes the store.
 */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const config = loadWorkspaceConfig(options.dir, { storeUrl: options.storeUrl });
  const paths = workspacePaths(options.dir, config);
  const stream = options.stream ?? collectorStream(paths);
  // Contracts load before the store opens: a server that cannot read its contracts must not start.
  const contracts = new LiveContracts(paths.root, config.contracts.undeclared);
  const store = await openStore(config.store.url, {
    databaseFile: paths.databaseFile,
    memoryLimit: config.store.memoryLimit,
    // The store loads log segments, uploads and quarantine/consent decision files from data/. User SQL never
    // reaches this engine unchecked: it is bound first in a sandbox with no file access at all.
    allowedDirectories: [paths.data],
  });
  // Every access to personal data and every key change is recorded, chained and anchored in the store.
  const audit = await AuditLog.open(auditFolder(paths.data), {
    anchor: storeMetadataAnchor(store.metadata),
  }).catch(async (error: unknown) => {
    await store.close();
    throw error;
  });
  // Personal fields are sealed with per-person keys before they reach the log; the keys live in data/vault.
  const privacy = await openWorkspacePrivacy({
    dataDir: paths.data,
    config,
    masterKey: options.masterKey ?? readEnvironment().masterKey,
  }).catch(async (error: unknown) => {
    await audit.close();
    await store.close();
    throw error;
  });
  const wal = await WriteAheadLog.open({
    dir: paths.wal,
    segmentBytes: config.collect.walSegmentBytes,
    maxBytes: config.limits.maxWalBytes,
    loadedSequence: await store.events.lastLoadedSequence(stream),
  });
  const tail = new TailBuffer();
  const meter = new IngestMeter();
  const keys = new KeyRing(store);
  const localToken = `rk_local_${randomBytes(32).toString('base64url')}`;
  keys.trustAdminKey(localToken);
  const identity = new IdentityResolution(store, config.identity, {
    personIdKey: privacy.personIdKey,
    identifiers: privacy.identifiers,
  });
  const reportLoaderError = options.onLoaderError ?? ((error) => console.error('refinery loader:', error));
  const loader = new Loader(wal, store, {
    stream,
    intervalMs: config.collect.loaderIntervalMs,
    dedupeWindowHours: config.collect.dedupeWindowHours,
    onError: reportLoaderError,
    afterLoad: () => identity.run(),
  });
  const collector = new Collector(config, {
    wal,
    tail,
    meter,
    userAgents: new UserAgentParser(),
    contracts,
    identity: new IdentityObservations(config.identity, privacy.identifiers),
    consent: new ConsentObservations(config.consent),
    privacy,
  });
  const app = await buildApp({
    config,
    store,
    keys,
    collector,
    loader,
    wal,
    tail,
    meter,
    uploadsDir: paths.uploads,
    dataDir: paths.data,
    contracts,
    audit,
    privacy,
    identity,
    ...(options.logger !== undefined ? { logger: options.logger } : {}),
  });
  const retention = new RetentionJob(store, config.retention, (error) =>
    console.error('refinery retention:', error),
  );
  try {
    // The purpose views follow the workspace's consent defaults before anything reads them.
    await store.consent.applyDefaults(config.consent.default);
    // Whatever a crash left in the log is loaded before new traffic arrives. Nothing in the log may keep the
    // server from starting: bad lines are set aside by the loader, and a load the store cannot take now is
    // reported (stats show it as the loader's lastError) and retried by the loader's ticks.
    await loader.drain().catch(reportLoaderError);
    // Brings the graph up to date, keying the hashes a workspace stored before keys, before anyone looks people up.
    await identity.run().catch(reportLoaderError);
    // A quarantine decision a crash interrupted is finished before anyone can make another; if it cannot be
    // now, the next decision tries again first (and fails with the reason), so starting is safe.
    await recoverQuarantineDecisions({
      store,
      workDir: paths.data,
      dedupeWindowHours: config.collect.dedupeWindowHours,
      by: 'recovery',
      identityRules: config.identity,
      consent: config.consent,
    }).catch(reportLoaderError);
    loader.start();
    retention.start();
    contracts.watch(config.contracts.reloadIntervalMs);
    await listen(app, options.port ?? config.server.port, options.host ?? config.server.host);
  } catch (error) {
    // A server that cannot start must not keep the database locked or the log open.
    await retention.stop();
    await loader.stop();
    await app.close().catch(() => undefined);
    await wal.close();
    await audit.close();
    await privacy.close();
    await store.close();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? config.server.port);
  const host = options.host ?? config.server.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const serverFile: ServerFile = {
    pid: process.pid,
    url,
    token: localToken,
    startedAt: new Date().toISOString(),
  };
  writeFileSync(paths.serverFile, JSON.stringify(serverFile, null, 2), { mode: 0o600 });

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await app.close();
      contracts.stop();
      await retention.stop();
      await loader.stop();
      await loader.drain().catch((error: unknown) => console.error('refinery: final load failed:', error));
      await wal.close();
      await audit.close();
      await privacy.close();
      await store.checkpoint().catch(() => undefined);
      await store.close();
      rmSync(paths.serverFile, { force: true });
    })();
    return closing;
  };
  return { url, app, config, paths, store, loader, keys, privacy, localToken, close };
}

async function listen(app: FastifyInstance, port: number, host: string): Promise<void> {
  try {
    await app.listen({ port, host });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new RefineryError(
        'REFINERY_ERR_PORT_IN_USE',
        `${host}:${port} is already in use by another process; pass another --port.`,
        { field: 'port' },
        { cause: error },
      );
    }
    throw error;
  }
}

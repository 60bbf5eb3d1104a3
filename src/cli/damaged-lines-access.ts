import { userInfo } from 'node:os';
import { Loader } from '../collect/loader.js';
import {
  type DamagedLineDecisionContext,
  discardDamagedLine,
  getDamagedLineOrThrow,
  replayDamagedLine,
} from '../collect/wal/damaged-line-decisions.js';
import { type DamagedLineView, damagedLineView } from '../collect/wal/damaged-line-view.js';
import { WriteAheadLog } from '../collect/wal/write-ahead-log.js';
import { loadWorkspaceConfig, type WorkspaceConfig } from '../config/workspace-config.js';
import { collectorStream } from '../runtime/collector-stream.js';
import { findRunningServer, type ServerFile } from '../runtime/server-file.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import type { DamagedLineStatus } from '../store/wal-format.js';
import { type WorkspacePaths, workspacePaths } from '../workspace/workspace-paths.js';
import type { WorkspaceTarget } from './main.js';
import { callServer } from './server-call.js';

export interface DamagedLinePage {
  readonly items: readonly DamagedLineView[];
  readonly counts: readonly { readonly status: DamagedLineStatus; readonly count: number }[];
}

/**
 * Set-aside log lines for `refinery wal damaged`: through the running server's API when there is one (it owns
 * the database and the log), else on the workspace's files directly.
 */
export interface DamagedLinesAccess {
  list(page: { status?: DamagedLineStatus; limit: number; offset: number }): Promise<DamagedLinePage>;
  show(id: string): Promise<DamagedLineView>;
  replay(id: string, corrected?: unknown): Promise<DamagedLineView>;
  discard(id: string): Promise<DamagedLineView>;
  close(): Promise<void>;
}

export async function withDamagedLinesAccess<T>(
  target: WorkspaceTarget,
  work: (access: DamagedLinesAccess) => Promise<T>,
): Promise<T> {
  const config = loadWorkspaceConfig(target.dir, { storeUrl: target.storeUrl });
  const paths = workspacePaths(target.dir, config);
  const server = findRunningServer(paths.serverFile);
  const access = server
    ? new ServerDamagedLines(server)
    : new DirectDamagedLines(
        config,
        paths,
        await openStore(config.store.url, {
          databaseFile: paths.databaseFile,
          memoryLimit: config.store.memoryLimit,
        }),
      );
  try {
    return await work(access);
  } finally {
    await access.close();
  }
}

class ServerDamagedLines implements DamagedLinesAccess {
  constructor(private readonly server: ServerFile) {}

  list(page: { status?: DamagedLineStatus; limit: number; offset: number }) {
    const params = new URLSearchParams({ limit: String(page.limit), offset: String(page.offset) });
    if (page.status) params.set('status', page.status);
    return this.call<DamagedLinePage>('GET', `/v1/wal/damaged?${params}`);
  }

  show(id: string) {
    return this.call<DamagedLineView>('GET', `/v1/wal/damaged/${encodeURIComponent(id)}`);
  }

  replay(id: string, corrected?: unknown) {
    return this.call<DamagedLineView>(
      'POST',
      `/v1/wal/damaged/${encodeURIComponent(id)}/replay`,
      corrected === undefined ? {} : { line: corrected },
    );
  }

  discard(id: string) {
    return this.call<DamagedLineView>('POST', `/v1/wal/damaged/${encodeURIComponent(id)}/discard`, {});
  }

  async close() {}

  private call<T>(method: string, path: string, body?: unknown): Promise<T> {
    return callServer<T>(this.server, method, path, body);
  }
}

/** No server runs: this process is the log's only writer, so a decision appends to the log and loads it here. */
class DirectDamagedLines implements DamagedLinesAccess {
  constructor(
    private readonly config: WorkspaceConfig,
    private readonly paths: WorkspacePaths,
    private readonly store: Store,
  ) {}

  async list(page: { status?: DamagedLineStatus; limit: number; offset: number }) {
    const [items, counts] = await Promise.all([
      this.store.events.listDamagedLines(page.status ? { status: page.status } : {}, {
        limit: page.limit,
        offset: page.offset,
        withRaw: true,
      }),
      this.store.events.countDamagedLines(),
    ]);
    return { items: items.map((row) => damagedLineView(row, { preview: true })), counts };
  }

  async show(id: string) {
    return damagedLineView(await getDamagedLineOrThrow(this.store, id), { preview: false });
  }

  async replay(id: string, corrected?: unknown) {
    return damagedLineView(await replayDamagedLine(this.context(), id, corrected), { preview: true });
  }

  async discard(id: string) {
    return damagedLineView(await discardDamagedLine(this.context(), id), { preview: true });
  }

  async close() {
    await this.store.checkpoint().catch(() => undefined);
    await this.store.close();
  }

  private context(): DamagedLineDecisionContext {
    return {
      store: this.store,
      walDir: this.paths.wal,
      dedupeWindowHours: this.config.collect.dedupeWindowHours,
      appendAndLoad: (lines) => this.appendAndLoad(lines),
      by: `cli:${cliUser()}`,
    };
  }

  /** Appends to the workspace's log and loads it, as a server's loader would. */
  private async appendAndLoad(lines: readonly Buffer[]): Promise<void> {
    const stream = collectorStream(this.paths);
    const wal = await WriteAheadLog.open({
      dir: this.paths.wal,
      segmentBytes: this.config.collect.walSegmentBytes,
      maxBytes: this.config.limits.maxWalBytes,
      loadedSequence: await this.store.events.lastLoadedSequence(stream),
    });
    try {
      await wal.append(lines);
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
}

function cliUser(): string {
  try {
    return userInfo().username;
  } catch {
    // No passwd entry for this uid (common in containers).
    return `uid:${process.getuid?.() ?? 'unknown'}`;
  }
}

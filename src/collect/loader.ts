import type { Store } from '../store/store.js';
import { loadSegmentSettingAside, type SegmentLoadReport } from './wal/segment-loading.js';
import type { WriteAheadLog } from './wal/write-ahead-log.js';

export interface LoaderOptions {
  readonly stream: string;
  readonly intervalMs: number;
  readonly dedupeWindowHours: number;
  readonly onError?: (error: unknown) => void;
  /**
   * Runs after segments were loaded (identity resolution). Its failure is reported through `onError` and
   * retried after the next load; it never holds back loading.
   */
  readonly afterLoad?: () => Promise<unknown>;
}

export interface LoaderStatus {
  readonly lastLoadedSequence: number;
  readonly pendingSegments: number;
  readonly loadedEvents: number;
  readonly duplicates: number;
  /** Log lines set aside since start instead of loaded (bad checksum, ill-formed, refused by the engine). */
  readonly setAsideLines: number;
  readonly lastError: string | null;
  readonly oldestPendingSince: number | null;
}

/**
 * Moves sealed WAL segments into the store, oldest first. The store records each segment's sequence in
 * the same transaction as its rows, so after a crash a segment is either fully loaded (and skipped) or not
 * at all (and loaded again): replay is idempotent. A segment file is deleted only after its commit. A line
 * that cannot be loaded is set aside with its reason (see `loadSegmentSettingAside`), never holding back the
 * segment; only a store that cannot take a load keeps a segment waiting.
 */
export class Loader {
  private timer: NodeJS.Timeout | undefined;
  // Ticks and drains run one after another, never interleaved, so a segment is never loaded twice at once.
  private queue: Promise<void> = Promise.resolve();
  private stopped = false;
  private afterLoadFailed = false;
  private status: LoaderStatus = {
    lastLoadedSequence: 0,
    pendingSegments: 0,
    loadedEvents: 0,
    duplicates: 0,
    setAsideLines: 0,
    lastError: null,
    oldestPendingSince: null,
  };

  constructor(
    private readonly wal: WriteAheadLog,
    private readonly store: Store,
    private readonly options: LoaderOptions,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  /** Loads everything written so far, sealing the active segment first. Used by shutdown and tests. */
  drain(): Promise<void> {
    return this.enqueue(async () => {
      await this.wal.sealActive();
      await this.loadSealed();
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.queue;
  }

  get current(): LoaderStatus {
    return this.status;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.enqueue(() => this.tick()).finally(() => this.schedule());
    }, this.options.intervalMs);
    this.timer.unref();
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    const next = this.queue.then(work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async tick(): Promise<void> {
    try {
      await this.wal.sealActive();
      await this.loadSealed();
    } catch (error) {
      this.options.onError?.(error);
    }
  }

  private async loadSealed(): Promise<void> {
    const segments = this.wal.sealedSegments();
    this.status = {
      ...this.status,
      pendingSegments: segments.length,
      oldestPendingSince: segments.length > 0 ? (this.status.oldestPendingSince ?? Date.now()) : null,
    };
    for (const [index, segment] of segments.entries()) {
      let report: SegmentLoadReport;
      try {
        report = await loadSegmentSettingAside(this.store, segment, {
          stream: this.options.stream,
          dedupeWindowHours: this.options.dedupeWindowHours,
        });
      } catch (error) {
        // Keep the segment: it is retried on the next tick, so nothing is lost while the store is unwell.
        this.status = { ...this.status, lastError: error instanceof Error ? error.message : String(error) };
        throw error;
      }
      this.wal.removeSegment(segment);
      const remaining = segments.length - index - 1;
      this.status = {
        lastLoadedSequence: segment.sequence,
        pendingSegments: remaining,
        loadedEvents: this.status.loadedEvents + report.inserted,
        duplicates: this.status.duplicates + report.duplicates,
        setAsideLines: this.status.setAsideLines + report.setAside,
        lastError: null,
        oldestPendingSince: remaining > 0 ? Date.now() : null,
      };
    }
    if ((segments.length > 0 || this.afterLoadFailed) && this.options.afterLoad) {
      try {
        await this.options.afterLoad();
        this.afterLoadFailed = false;
      } catch (error) {
        this.afterLoadFailed = true;
        this.options.onError?.(error);
      }
    }
  }
}

/**
 * Watches the process's resident memory while user queries run and tells a query when the process has grown
 * past that query's cap since it started.
 *
 * DuckDB's `memory_limit` covers only its buffer manager (hash tables, sorts, aggregates, results); values a
 * function builds during a query (a list from `generate_series`, a string from `repeat`) are allocated beside
 * it. The operating system's count of resident pages covers everything, so it is what a query's cap is
 * measured against. The caller stops the query (DuckDB's interrupt) when told; DuckDB honours that between
 * chunks of work, so a cap can be overshot by what one chunk builds, which is why single huge values are
 * refused before the query runs (`MAX_GENERATED_VALUE`).
 */
export class MemoryWatchdog {
  private readonly watchers = new Set<Watcher>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly intervalMs = 20,
    private readonly residentBytes: () => number = () => process.memoryUsage.rss(),
  ) {}

  /** Calls `onExceeded` once if the process grows more than `capBytes` past its size now. Returns the stop. */
  watch(capBytes: number, onExceeded: () => void): () => void {
    const watcher: Watcher = { baseline: this.residentBytes(), capBytes, onExceeded, fired: false };
    this.watchers.add(watcher);
    if (!this.timer) {
      this.timer = setInterval(() => this.check(), this.intervalMs);
      this.timer.unref();
    }
    return () => {
      this.watchers.delete(watcher);
      if (this.watchers.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    };
  }

  private check(): void {
    const now = this.residentBytes();
    for (const watcher of this.watchers) {
      if (!watcher.fired && now - watcher.baseline > watcher.capBytes) {
        watcher.fired = true;
        watcher.onExceeded();
      }
    }
  }
}

interface Watcher {
  readonly baseline: number;
  readonly capBytes: number;
  readonly onExceeded: () => void;
  fired: boolean;
}

import type { WorkspaceConfig } from '../config/workspace-config.js';
import type { EventExpiryRule, ExpiryCutoffs, ExpiryReport, Store } from '../store/store.js';
import { EVENT_TYPES } from '../store/wal-format.js';

const DAY_MS = 86_400_000;

/**
 * The cutoffs `retention` in refinery.yaml gives at `now`; 0 days keeps events forever. A key of
 * `retention.events` that names a call type (`page`) covers that type; any other key is a track event name.
 */
export function retentionCutoffs(retention: WorkspaceConfig['retention'], now: Date): ExpiryCutoffs {
  const before = (days: number) => (days > 0 ? { before: new Date(now.getTime() - days * DAY_MS) } : {});
  const eventRules: EventExpiryRule[] = Object.entries(retention.events ?? {}).map(([key, days]) =>
    (EVENT_TYPES as readonly string[]).includes(key)
      ? { type: key, ...before(days) }
      : { type: 'track', event: key, ...before(days) },
  );
  return {
    ...(retention.eventsDays > 0
      ? { eventsBefore: new Date(now.getTime() - retention.eventsDays * DAY_MS) }
      : {}),
    ...(eventRules.length > 0 ? { eventRules } : {}),
    rejectsBefore: new Date(now.getTime() - retention.rejectsDays * DAY_MS),
  };
}

/**
 * Removes raw data past the workspace's retention, once at start and then on a timer, for as long as the
 * server runs. Failures are reported and retried on the next run; they never stop collection.
 */
export class RetentionJob {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<ExpiryReport | undefined> | undefined;

  constructor(
    private readonly store: Store,
    private readonly retention: WorkspaceConfig['retention'],
    private readonly onError: (error: unknown) => void,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  runOnce(): Promise<ExpiryReport> {
    return this.store.expire(retentionCutoffs(this.retention, this.clock()));
  }

  start(intervalMs = 3_600_000): void {
    const run = () => {
      this.running = this.runOnce().catch((error: unknown) => {
        this.onError(error);
        return undefined;
      });
    };
    run();
    this.timer = setInterval(run, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}

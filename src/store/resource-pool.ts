import { RefineryError } from '../core/errors.js';

/**
 * A fixed set of resources (connections, sandbox processes) that work borrows one at a time: one slow piece of
 * work holds one resource and the others stay free. Work that finds them all busy waits its turn, at most
 * `waitMs`, then fails with REFINERY_ERR_QUERY_BUSY.
 */
export class ResourcePool<T> {
  private readonly idle: T[];
  private readonly busy = new Set<T>();
  private readonly waiting: Waiter<T>[] = [];
  private closed = false;

  constructor(readonly resources: readonly T[]) {
    this.idle = [...resources].reverse();
  }

  /** The resources lent out now. */
  get lent(): ReadonlySet<T> {
    return this.busy;
  }

  async use<R>(waitMs: number, work: (resource: T) => Promise<R>): Promise<R> {
    const resource = await this.acquire(waitMs);
    try {
      return await work(resource);
    } finally {
      this.release(resource);
    }
  }

  /** Refuses new work and waiters; resolves once every resource is back. */
  async drain(): Promise<void> {
    this.closed = true;
    for (const waiter of this.waiting.splice(0)) waiter.reject(busy('the store is closing'));
    while (this.busy.size > 0) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  private acquire(waitMs: number): Promise<T> {
    if (this.closed) return Promise.reject(busy('the store is closing'));
    const resource = this.idle.pop();
    if (resource !== undefined) {
      this.busy.add(resource);
      return Promise.resolve(resource);
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter<T> = {
        resolve: (given) => {
          clearTimeout(timer);
          resolve(given);
        },
        reject,
      };
      const timer = setTimeout(() => {
        this.waiting.splice(this.waiting.indexOf(waiter), 1);
        reject(busy(`all ${this.resources.length} stayed busy for ${waitMs} ms`));
      }, waitMs);
      this.waiting.push(waiter);
    });
  }

  private release(resource: T): void {
    const next = this.waiting.shift();
    if (next) next.resolve(resource);
    else {
      this.busy.delete(resource);
      this.idle.push(resource);
    }
  }
}

interface Waiter<T> {
  resolve(resource: T): void;
  reject(error: unknown): void;
}

function busy(why: string): RefineryError {
  return new RefineryError('REFINERY_ERR_QUERY_BUSY', `No query slot is free: ${why}. Retry shortly.`, {});
}

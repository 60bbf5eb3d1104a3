import type { DuckDBConnection } from '@duckdb/node-api';
import { RefineryError } from '../../core/errors.js';

/**
 * The connections user SQL runs on, apart from the store's own: a slow query holds one of them and the
 * others keep answering, and the store's reads and writes never wait behind user SQL. A query that finds
 * them all busy waits its turn, at most `waitMs`.
 */
export class DuckDbQueryPool {
  private readonly idle: DuckDBConnection[];
  private readonly busy = new Set<DuckDBConnection>();
  private readonly waiting: Waiter[] = [];
  private closed = false;

  constructor(private readonly connections: readonly DuckDBConnection[]) {
    this.idle = [...connections];
  }

  get size(): number {
    return this.connections.length;
  }

  async use<T>(waitMs: number, work: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    const connection = await this.acquire(waitMs);
    try {
      return await work(connection);
    } finally {
      this.release(connection);
    }
  }

  /** Stops what runs on the pool and closes its connections once every query has given its one back. */
  async close(): Promise<void> {
    this.closed = true;
    for (const waiter of this.waiting.splice(0)) waiter.reject(busy('the store is closing'));
    for (const connection of this.busy) connection.interrupt();
    while (this.busy.size > 0) await new Promise((resolve) => setTimeout(resolve, 10));
    for (const connection of this.connections) connection.closeSync();
  }

  private acquire(waitMs: number): Promise<DuckDBConnection> {
    if (this.closed) return Promise.reject(busy('the store is closing'));
    const connection = this.idle.pop();
    if (connection) {
      this.busy.add(connection);
      return Promise.resolve(connection);
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve: (given) => {
          clearTimeout(timer);
          resolve(given);
        },
        reject,
      };
      const timer = setTimeout(() => {
        this.waiting.splice(this.waiting.indexOf(waiter), 1);
        reject(busy(`all ${this.connections.length} query connections stayed busy for ${waitMs} ms`));
      }, waitMs);
      this.waiting.push(waiter);
    });
  }

  private release(connection: DuckDBConnection): void {
    const next = this.waiting.shift();
    if (next) next.resolve(connection);
    else {
      this.busy.delete(connection);
      this.idle.push(connection);
    }
  }
}

interface Waiter {
  resolve(connection: DuckDBConnection): void;
  reject(error: unknown): void;
}

function busy(why: string): RefineryError {
  return new RefineryError(
    'REFINERY_ERR_QUERY_BUSY',
    `No query connection is free: ${why}. Retry shortly.`,
    {},
  );
}

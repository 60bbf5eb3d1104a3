import { RefineryError } from '../core/errors.js';
import { ClickHouseStore } from './clickhouse/clickhouse-store.js';
import { DuckDbStore } from './duckdb/duckdb-store.js';
import type { Store } from './store.js';

export interface OpenStoreOptions {
  /** Absolute database path for file-based engines (resolved from the workspace). */
  readonly databaseFile: string;
  /** Folders the engine may read files from; everything else is refused. Unset: no restriction (CLI use). */
  readonly allowedDirectories?: readonly string[];
  /** Memory the engine may use before spilling to disk, e.g. '512MB'. */
  readonly memoryLimit?: string;
}

/**
 * Opens the engine a store URL names and brings its schema up to date:
 * `duckdb:path` (embedded, the default) or `clickhouse://[user[:password]@]host:port/database`.
 */
export async function openStore(url: string, options: OpenStoreOptions): Promise<Store> {
  const store = await connect(url, options);
  try {
    await store.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

function connect(url: string, options: OpenStoreOptions): Promise<Store> {
  const scheme = url.split(':')[0];
  if (scheme === 'duckdb') {
    return DuckDbStore.open({
      path: options.databaseFile,
      ...(options.memoryLimit ? { memoryLimit: options.memoryLimit } : {}),
      ...(options.allowedDirectories ? { allowedDirectories: options.allowedDirectories } : {}),
    });
  }
  if (scheme === 'clickhouse' || scheme === 'clickhouses') return ClickHouseStore.open({ url });
  throw new RefineryError(
    'REFINERY_ERR_CONFIG_INVALID',
    `store.url "${url}" names an engine Refinery does not know.`,
    {
      field: 'store.url',
    },
  );
}

import { RefineryError } from '../core/errors.js';
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

/** Opens the engine a store URL names (`duckdb:path`) and brings its schema up to date. */
export async function openStore(url: string, options: OpenStoreOptions): Promise<Store> {
  const scheme = url.split(':')[0];
  if (scheme === 'duckdb') {
    const store = await DuckDbStore.open({
      path: options.databaseFile,
      ...(options.memoryLimit ? { memoryLimit: options.memoryLimit } : {}),
      ...(options.allowedDirectories ? { allowedDirectories: options.allowedDirectories } : {}),
    });
    try {
      await store.migrate();
    } catch (error) {
      await store.close();
      throw error;
    }
    return store;
  }
  throw new RefineryError(
    'REFINERY_ERR_CONFIG_INVALID',
    `store.url "${url}" names an engine Refinery does not know.`,
    {
      field: 'store.url',
    },
  );
}

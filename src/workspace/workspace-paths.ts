import { join, resolve } from 'node:path';
import type { WorkspaceConfig } from '../config/workspace-config.js';

/** Where a workspace keeps each kind of file. Only paths; nothing here touches the disk. */
export interface WorkspacePaths {
  readonly root: string;
  readonly data: string;
  /** Data contracts (ODCS YAML), reviewed in git. */
  readonly contracts: string;
  readonly wal: string;
  readonly uploads: string;
  readonly serverFile: string;
  readonly databaseFile: string;
}

export function workspacePaths(root: string, config: WorkspaceConfig): WorkspacePaths {
  const absolute = resolve(root);
  const data = join(absolute, 'data');
  return {
    root: absolute,
    data,
    contracts: join(absolute, 'contracts'),
    wal: join(data, 'wal'),
    uploads: join(data, 'uploads'),
    serverFile: join(data, 'server.json'),
    databaseFile: databaseFileOf(absolute, config.store.url),
  };
}

/** `duckdb:data/refinery.duckdb` → an absolute path inside the workspace (relative paths are from its root). */
function databaseFileOf(root: string, storeUrl: string): string {
  const path = storeUrl.replace(/^duckdb:(\/\/)?/, '');
  return resolve(root, path);
}

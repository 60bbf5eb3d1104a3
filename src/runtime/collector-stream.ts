import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkspacePaths } from '../workspace/workspace-paths.js';

/**
 * The name this collector's write-ahead log goes by in the store. Each workspace folder (each collector)
 * gets its own on first start and keeps it, so several collectors loading into one ClickHouse never
 * confuse each other's segment numbers.
 */
export function collectorStream(paths: WorkspacePaths): string {
  const file = join(paths.data, 'collector-id');
  if (!existsSync(file)) {
    mkdirSync(paths.data, { recursive: true });
    writeFileSync(file, `collector-${randomBytes(6).toString('hex')}\n`);
  }
  return readFileSync(file, 'utf8').trim();
}

import { existsSync, readFileSync, rmSync } from 'node:fs';
import { isProcessAlive } from '../core/process-alive.js';

/** What a running server writes to data/server.json so local CLI commands can reach it. */
export interface ServerFile {
  readonly pid: number;
  readonly url: string;
  /** Admin token valid while that server runs; the file is readable by its owner only. */
  readonly token: string;
  readonly startedAt: string;
}

/** The server registered for a workspace, if its process is still alive; a stale file is removed. */
export function findRunningServer(serverFile: string): ServerFile | undefined {
  if (!existsSync(serverFile)) return undefined;
  let parsed: ServerFile;
  try {
    parsed = JSON.parse(readFileSync(serverFile, 'utf8')) as ServerFile;
  } catch {
    return undefined;
  }
  if (!isProcessAlive(parsed.pid)) {
    rmSync(serverFile, { force: true });
    return undefined;
  }
  return parsed;
}

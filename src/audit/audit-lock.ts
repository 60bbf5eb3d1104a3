import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RefineryError } from '../core/errors.js';
import { isProcessAlive } from '../core/process-alive.js';

const LOCK_FILE = 'writer.lock';

/** Folders this process holds, so a second writer in the same process is refused too. */
const heldHere = new Set<string>();

/**
 * Takes the log's single-writer lock: `writer.lock` holding the writer's pid, created exclusively. Two writers
 * would both append seq N+1 and fork the chain. A lock left by a process that is gone is taken over; one
 * carrying this process's own pid but not held by it is from an earlier run that had the same pid (a container's
 * pid 1 restarting), so it is stale too.
 */
export function acquireWriterLock(folder: string): () => void {
  const file = join(folder, LOCK_FILE);
  if (heldHere.has(folder)) throw locked(folder, process.pid);
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number.parseInt(readFileSync(file, { encoding: 'utf8', flag: 'r' }), 10);
      const stale = !Number.isSafeInteger(holder) || holder === process.pid || !isProcessAlive(holder);
      // A second EEXIST means another process took over the stale lock in between: it is the writer now.
      if (!stale || attempt > 0) throw locked(folder, holder);
      unlinkSync(file);
    }
  }
  heldHere.add(folder);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    heldHere.delete(folder);
    try {
      unlinkSync(file);
    } catch {
      // Already gone: nothing to release.
    }
  };
}

function locked(folder: string, pid: number): RefineryError {
  return new RefineryError(
    'REFINERY_ERR_WORKSPACE_LOCKED',
    `Process ${pid} is writing the audit log in ${folder}; only one writer may append to it.`,
  );
}

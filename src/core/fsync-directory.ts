import { closeSync, fsyncSync, openSync } from 'node:fs';

/** A new or renamed file survives a crash only once its folder entry does: fsync the folder too. */
export function fsyncDirectory(folder: string): void {
  const fd = openSync(folder, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

import { readFile } from 'node:fs/promises';
import type { AuditAction, AuditActor, AuditEntry } from './audit-entry.js';
import { parseEntryShape } from './audit-entry.js';
import { listAuditFiles, splitLines } from './audit-files.js';

/** Which entries to list. Every filter given must hold. */
export interface AuditQuery {
  readonly action?: AuditAction | readonly AuditAction[];
  readonly target?: string;
  /** A key id, a command-line user or a system component. */
  readonly actor?: string;
  /** Entries at or after this time. */
  readonly from?: Date;
  /** Entries before this time. */
  readonly to?: Date;
  /** Entries with a smaller seq: the cursor for the next page (the last seq of this one). */
  readonly beforeSeq?: number;
  /** At most this many (default 100). */
  readonly limit?: number;
}

export interface AuditPage {
  /** Newest first. */
  readonly entries: AuditEntry[];
  /**
   * Lines passed over because they are not entries (a torn last line, an edited line). Listing does not
   * check the chain; a non-zero count is a reason to run `verifyAuditLog`.
   */
  readonly unreadableLines: number;
}

/**
 * Lists entries newest first, reading files from the newest back and stopping once `limit` are found.
 *
 * @example await listAuditEntries(folder, { action: 'personal_data.read', target: personId, limit: 20 })
 */
export async function listAuditEntries(folder: string, query: AuditQuery = {}): Promise<AuditPage> {
  const limit = query.limit ?? 100;
  const matches = entryMatcher(query);
  const entries: AuditEntry[] = [];
  let unreadableLines = 0;
  const files = listAuditFiles(folder).reverse();
  for (const file of files) {
    if (entries.length >= limit) break;
    if (query.beforeSeq !== undefined && file.firstSeq >= query.beforeSeq) continue;
    const { lines, torn } = splitLines(await readFile(file.path, 'utf8'));
    if (torn !== undefined) unreadableLines++;
    for (let index = lines.length - 1; index >= 0 && entries.length < limit; index--) {
      const parsed = parseEntryShape(lines[index]!);
      if ('problem' in parsed) unreadableLines++;
      else if (matches(parsed.entry)) entries.push(parsed.entry);
    }
  }
  return { entries, unreadableLines };
}

function entryMatcher(query: AuditQuery): (entry: AuditEntry) => boolean {
  const actions = query.action === undefined ? undefined : new Set<string>([query.action].flat());
  const from = query.from?.getTime();
  const to = query.to?.getTime();
  return (entry) => {
    if (query.beforeSeq !== undefined && entry.seq >= query.beforeSeq) return false;
    if (actions && !actions.has(entry.action)) return false;
    if (query.target !== undefined && entry.target !== query.target) return false;
    if (query.actor !== undefined && actorName(entry.actor) !== query.actor) return false;
    const at = Date.parse(entry.at);
    if (from !== undefined && at < from) return false;
    if (to !== undefined && at >= to) return false;
    return true;
  };
}

/** The id that names an actor: the key id, the command-line user or the system component. */
export function actorName(actor: AuditActor): string {
  if ('keyId' in actor) return actor.keyId;
  if ('cli' in actor) return actor.cli;
  return actor.system;
}

import { isJsonObject } from '../core/json-object.js';
import { readId } from '../identity/identifier-extraction.js';
import type { SuppressibleMessage, SuppressionList } from '../privacy/vault/suppression-list.js';

/**
 * The suppression check for the collector, remembering which plain messages passed it.
 *
 * Once one person is erased the list is never empty, and checking a message hashes each of its ids. Most
 * messages carry only a user id and/or an anonymous id, the same ones again and again (a visitor's every page
 * view), so the answer for such a pair is remembered: only "not suppressed", and only while the list keeps its
 * size (entries are never removed, so any erasure changes it and clears what was remembered). A message that
 * could name anyone else (a previousId, an email or phone in traits or context.traits) is always checked in full.
 */
export class SuppressionMemo {
  private clean = new Set<string>();
  private listSize = 0;

  constructor(
    private readonly list: SuppressionList,
    private readonly capacity = 10_000,
  ) {}

  /** True when the message names a suppressed identifier (as `SuppressionList.isSuppressed`). */
  isSuppressed(message: SuppressibleMessage): boolean {
    const size = this.list.size;
    if (size === 0) return false;
    if (size !== this.listSize) {
      this.clean = new Set();
      this.listSize = size;
    }
    const key = plainSubjectKey(message);
    if (key !== undefined && this.clean.has(key)) return false;
    const suppressed = this.list.isSuppressed(message);
    if (key !== undefined && !suppressed) {
      if (this.clean.size >= this.capacity) this.clean = new Set();
      this.clean.add(key);
    }
    return suppressed;
  }
}

/**
 * For a message whose only identifiers the suppression check reads are its user id and anonymous id: a key that
 * stands for exactly that pair (lengths make it unambiguous, whatever the ids hold). Undefined for any other.
 */
export function plainSubjectKey(message: SuppressibleMessage): string | undefined {
  if (readId(message.previousId) !== undefined) return undefined;
  if (message.type !== 'group' && namesContact(message.traits)) return undefined;
  if (isJsonObject(message.context) && namesContact(message.context.traits)) return undefined;
  const user = readId(message.userId);
  const anonymous = readId(message.anonymousId);
  return `${user === undefined ? -1 : user.length}:${user ?? ''}${anonymous === undefined ? '' : `:${anonymous}`}`;
}

function namesContact(traits: unknown): boolean {
  return isJsonObject(traits) && (traits.email !== undefined || traits.phone !== undefined);
}

import { correctTimestamp } from '../core/iso-time.js';
import { extractIdentifiers, type IdentityMessage } from '../identity/identifier-extraction.js';
import type { IdentifierHasher } from '../identity/identifier-hashing.js';
import type { IdentityRules } from '../identity/identity-rules.js';
import type { IdentityObservationRecord } from '../store/wal-format.js';

/**
 * Turns accepted messages into identity observation lines for the write-ahead log.
 *
 * Most events repeat an identifier set already observed (a visitor's every page view carries the same
 * anonymous id), and observing it again changes nothing in the graph. So a set is written only when it has not
 * been written within the last `capacity` distinct sets; `alias` calls are always written, since they exist to
 * link. Forgetting is safe: re-observing a set is a no-op for the graph, so a restart only costs a few lines.
 */
export class IdentityObservations {
  private recent = new Set<string>();
  private previous = new Set<string>();

  constructor(
    private readonly rules: IdentityRules,
    /** The workspace's keyed hashing of emails and phones (`WorkspacePrivacy.identifiers`). */
    private readonly hasher: IdentifierHasher,
    private readonly capacity = 50_000,
  ) {}

  /**
   * The line to write for `message` (its batch's context applied), or undefined when it carries no identifiers
   * or a set written lately.
   */
  lineFor(message: ObservedMessage, messageId: string, receivedAt: number): string | undefined {
    // Most events repeat a visitor's ids and nothing else: recognise a set written lately without extracting.
    const plain = plainKeyOf(message);
    if (plain !== undefined && (this.recent.has(plain) || this.previous.has(plain))) return undefined;
    const identifiers = extractIdentifiers(message, this.rules, this.hasher);
    if (identifiers.length === 0) return undefined;
    const ids = identifiers.map((identifier) => `${identifier.type}:${identifier.value}`);
    if (message.type !== 'alias') {
      const key = ids.join('\n');
      if (this.recent.has(key) || this.previous.has(key)) return undefined;
      this.remember(key);
    }
    // The event time as stored events get it: the client's timestamp corrected for its clock skew.
    const at = new Date(correctTimestamp(receivedAt, message.timestamp, message.sentAt)).toISOString();
    const line: IdentityObservationRecord = { k: 'i', id: messageId, at, ids };
    return `${JSON.stringify(line)}\n`;
  }

  // Two generations give least-recently-written eviction at the cost of one Set swap per `capacity` sets.
  private remember(key: string): void {
    if (this.recent.size >= this.capacity) {
      this.previous = this.recent;
      this.recent = new Set();
    }
    this.recent.add(key);
  }
}

/**
 * The set key of a message whose only possible identifiers are its user id and anonymous id (no alias, no email
 * or phone in its traits, no external ids), written as `extractIdentifiers` would give them; undefined for any
 * other message. A key that differs from the extracted one (a type the rules leave out, an id written as a
 * number) only misses the recent sets, and the message then takes the full path.
 */
function plainKeyOf(message: ObservedMessage): string | undefined {
  if (message.type === 'alias') return undefined;
  const context = message.context as { traits?: unknown; externalIds?: unknown } | null | undefined;
  if (context && (context.externalIds !== undefined || mayHoldContact(context.traits))) return undefined;
  if (message.type === 'identify' && mayHoldContact(message.traits)) return undefined;
  const { userId, anonymousId } = message;
  const user = typeof userId === 'string' && userId.trim() !== '' ? `user_id:${userId}` : undefined;
  const anonymous =
    typeof anonymousId === 'string' && anonymousId.trim() !== '' ? `anonymous_id:${anonymousId}` : undefined;
  if (user && anonymous) return `${user}\n${anonymous}`;
  return user ?? anonymous;
}

function mayHoldContact(traits: unknown): boolean {
  if (traits === null || typeof traits !== 'object') return false;
  const { email, phone } = traits as { email?: unknown; phone?: unknown };
  return email !== undefined || phone !== undefined;
}

/** A validated message: times already parsed to epoch milliseconds. */
export interface ObservedMessage extends IdentityMessage {
  readonly timestamp: number | undefined;
  readonly sentAt: number | undefined;
}

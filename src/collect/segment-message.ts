import type { EventType } from '../store/wal-format.js';

/** A Segment Spec message after validation: the fields Refinery relies on, with their types proven. */
export interface ValidMessage {
  readonly type: EventType;
  readonly messageId: string | undefined;
  readonly userId: string | null;
  readonly anonymousId: string | null;
  readonly groupId: string | null;
  readonly previousId: string | null;
  readonly event: string | null;
  readonly name: string | null;
  readonly category: string | null;
  readonly timestamp: number | undefined;
  readonly sentAt: number | undefined;
  readonly properties: Record<string, unknown> | null;
  readonly traits: Record<string, unknown> | null;
  readonly context: Record<string, unknown> | null;
  readonly integrations: Record<string, unknown> | null;
  readonly extra: Record<string, unknown> | null;
  /** An upper bound of the message's size as JSON, in bytes. */
  readonly sizeBound: number;
}

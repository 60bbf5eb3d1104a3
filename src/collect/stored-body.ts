import type { EventType } from '../store/wal-format.js';
import type { BatchDefaults } from './batch-body.js';

/**
 * What a request line's body holds: the request's messages as the collector checked them, re-serialised.
 *
 * The body is never written as the bytes the client sent. Two JSON parsers reading the same bytes can disagree
 * (JavaScript keeps the last of two duplicate keys, DuckDB the first), so storing the text would store what the
 * checks did not see: a clear email beside the sealed copy, an erased person's id past the suppression list, a
 * value a contract refused. `JSON.stringify` of the parsed value has no duplicate keys and no lone surrogates
 * (messages holding one are refused before this), so every reader of the log sees one and the same message.
 */
export interface StoredBody {
  /** The body object: the tail buffer expands it, and its JSON is the log's. */
  readonly value: unknown;
  /** `JSON.stringify(value)`. */
  readonly json: string;
}

export interface StoredMessages {
  readonly messages: readonly unknown[];
  /** Indexes left out (rejected, held or suppressed): `null` in their place keeps the others' indexes. */
  readonly skip: readonly number[];
  /** Messages to store in another form than received (personal fields sealed), by index. */
  readonly replaced: readonly unknown[];
  /** True when inheriting messages carry their own sealed copy of the batch context, so the batch's is left out. */
  readonly batchContextCopied: boolean;
}

/**
 * The stored body of a request: skipped messages as `null`, replaced ones in their new form, no `writeKey`
 * anywhere (credentials never reach storage), and for a batch only the batch-level fields storage reads.
 */
export function storedBody(
  parts: StoredMessages,
  impliedType: EventType | undefined,
  defaults: BatchDefaults,
): StoredBody {
  const stored = storedMessages(parts);
  const value = impliedType
    ? stored[0]
    : {
        batch: stored,
        sentAt: defaults.sentAt,
        context: parts.batchContextCopied ? undefined : defaults.context,
        integrations: defaults.integrations,
      };
  return { value, json: JSON.stringify(value) };
}

function storedMessages({ messages, skip, replaced }: StoredMessages): readonly unknown[] {
  // Copied only when something differs from what was received: most requests store their messages as they are.
  let stored: unknown[] | undefined;
  const skipped = skip.length > 0 ? new Set(skip) : undefined;
  for (let index = 0; index < messages.length; index++) {
    const received = messages[index];
    const message = skipped?.has(index) ? null : withoutWriteKey(replaced[index] ?? received);
    if (message !== received) {
      stored ??= messages.slice();
      stored[index] = message;
    }
  }
  return stored ?? messages;
}

function hasWriteKey(message: unknown): boolean {
  return message !== null && typeof message === 'object' && 'writeKey' in message;
}

function withoutWriteKey(message: unknown): unknown {
  if (!hasWriteKey(message)) return message;
  const { writeKey: _credential, ...rest } = message as Record<string, unknown>;
  return rest;
}

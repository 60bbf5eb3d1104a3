import { RefineryError } from '../core/errors.js';
import { parseIsoTimestamp } from '../core/iso-time.js';
import { EVENT_TYPES, type EventType, extraFieldsOf } from '../store/wal-format.js';
import { assertSafeJson } from './object-safety.js';
import type { ValidMessage } from './segment-message.js';

const MAX_ID_LENGTH = 512;
const MAX_NAME_LENGTH = 1024;
const EVENT_TYPE_SET = new Set<string>(EVENT_TYPES);

/** Batch-level fields a message without its own inherits (as storage applies them), and how to check it. */
export interface ValidationOptions {
  /** The batch's `sentAt`, for a message with none. */
  readonly sentAt?: unknown;
  /** The batch's `context`, for a message with none (or a null one). */
  readonly context?: Record<string, unknown> | undefined;
  /**
   * Look for lone surrogates in every string and key (default). False only when the JSON text the message was
   * parsed from holds no `\uD…` escape, so none can be there.
   */
  readonly checkUnicode?: boolean;
}

/**
 * Checks one message against the Segment Spec and returns it typed, or throws a RefineryError whose
 * `field` is a path such as `batch[3].userId`. `impliedType` comes from the endpoint (`/v1/track` …).
 * Inherited batch-level fields are read beside the message, never copied into it.
 */
export function validateMessage(
  raw: unknown,
  path: string,
  impliedType: EventType | undefined,
  maxDepth: number,
  options: ValidationOptions = {},
): ValidMessage {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw invalid(path, 'must be a JSON object');
  }
  // One walk over the whole message refuses poisoned keys, deep nesting, numbers JSON cannot write back and
  // (when there may be any) lone surrogates, in every field at once.
  const sizeBound = assertSafeJson(raw, path, maxDepth + 1, options.checkUnicode !== false);
  const message = raw as Record<string, unknown>;
  const type = readType(message.type, `${path}.type`, impliedType);
  const userId = readId(message.userId, `${path}.userId`);
  const anonymousId = readId(message.anonymousId, `${path}.anonymousId`);
  if (userId === null && anonymousId === null) {
    throw new RefineryError('REFINERY_ERR_MISSING_FIELD', `${path} needs a userId or an anonymousId.`, {
      field: `${path}.userId`,
    });
  }
  const event = readText(message.event, `${path}.event`, MAX_NAME_LENGTH);
  if (type === 'track' && !event) {
    throw new RefineryError('REFINERY_ERR_MISSING_FIELD', `${path}.event is required for a track call.`, {
      field: `${path}.event`,
    });
  }
  const groupId = readId(message.groupId, `${path}.groupId`);
  if (type === 'group' && groupId === null) {
    throw new RefineryError('REFINERY_ERR_MISSING_FIELD', `${path}.groupId is required for a group call.`, {
      field: `${path}.groupId`,
    });
  }
  const previousId = readId(message.previousId, `${path}.previousId`);
  if (type === 'alias' && previousId === null) {
    throw new RefineryError(
      'REFINERY_ERR_MISSING_FIELD',
      `${path}.previousId is required for an alias call.`,
      {
        field: `${path}.previousId`,
      },
    );
  }
  const messageId = readId(message.messageId, `${path}.messageId`) ?? undefined;
  const timestamp = readTime(message.timestamp ?? message.originalTimestamp, `${path}.timestamp`);
  const sentAt = readTime(message.sentAt ?? options.sentAt, `${path}.sentAt`);
  const properties = readObject(message.properties, `${path}.properties`);
  const traits = readObject(message.traits, `${path}.traits`);
  const context = readObject(message.context, `${path}.context`) ?? options.context ?? null;
  const integrations = readObject(message.integrations, `${path}.integrations`);
  const extra = extraFieldsOf(message);
  return {
    type,
    messageId,
    userId,
    anonymousId,
    groupId,
    previousId,
    event,
    name: readText(message.name, `${path}.name`, MAX_NAME_LENGTH),
    category: readText(message.category, `${path}.category`, MAX_NAME_LENGTH),
    timestamp,
    sentAt,
    properties,
    traits,
    context,
    integrations,
    extra,
    sizeBound,
  };
}

function readType(value: unknown, field: string, impliedType: EventType | undefined): EventType {
  if (value === undefined || value === null) {
    if (impliedType) return impliedType;
    throw new RefineryError('REFINERY_ERR_MISSING_FIELD', `${field} is required in a batch.`, { field });
  }
  if (typeof value !== 'string' || !EVENT_TYPE_SET.has(value)) {
    throw invalid(field, `must be one of ${EVENT_TYPES.join(', ')}`);
  }
  // An endpoint such as /v1/track fixes the type; a body that says otherwise is a client bug worth surfacing.
  if (impliedType && value !== impliedType) throw invalid(field, `must be "${impliedType}" on this endpoint`);
  return value as EventType;
}

// Segment accepts numeric ids and stores them as strings.
function readId(value: unknown, field: string): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string') throw invalid(field, 'must be a string');
  if (value.length > MAX_ID_LENGTH) throw invalid(field, `must be at most ${MAX_ID_LENGTH} characters`);
  assertNoLeadingByteOrderMark(value, field);
  return value;
}

function readText(value: unknown, field: string, maxLength: number): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw invalid(field, 'must be a string');
  if (value.length > maxLength) throw invalid(field, `must be at most ${maxLength} characters`);
  assertNoLeadingByteOrderMark(value, field);
  return value;
}

// DuckDB keeps a U+FEFF that opens a string, but its Node client drops it on every read (it decodes with a default
// TextDecoder), so an id or name starting with one would be checked as one value (suppression, contracts, identity)
// and read back as another ("\ufeffbob" as "bob").
// No SDK sends one; refusing it keeps what is checked and what is stored the same.
function assertNoLeadingByteOrderMark(value: string, field: string): void {
  if (value.charCodeAt(0) === 0xfeff) {
    throw invalid(field, 'must not begin with a byte-order mark (U+FEFF), which some readers drop');
  }
}

function readTime(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw invalid(field, 'must be an ISO 8601 date-time string');
  const millis = parseIsoTimestamp(value);
  if (millis === undefined) throw invalid(field, 'must be an ISO 8601 date-time string');
  return millis;
}

function readObject(value: unknown, field: string): Record<string, unknown> | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid(field, 'must be a JSON object');
  return value as Record<string, unknown>;
}

function invalid(field: string, requirement: string): RefineryError {
  return new RefineryError('REFINERY_ERR_INVALID_FIELD', `${field} ${requirement}.`, { field });
}

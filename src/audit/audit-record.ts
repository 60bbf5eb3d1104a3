import { RefineryError } from '../core/errors.js';
import { isJsonObject } from '../core/json-object.js';
import { AUDIT_ACTIONS, type AuditAction, type AuditActor, type JsonRecord } from './audit-entry.js';

/** What a caller asks to record; the log adds `seq`, `at`, `prev` and `hash`. */
export interface AuditRecord {
  readonly actor: AuditActor;
  readonly action: AuditAction;
  /** A person id, key id or request id, never a clear email: the log cannot be erased. */
  readonly target?: string | null;
  /** A few facts about the action (counts, purposes, a reason). At most `MAX_DETAIL_BYTES` as JSON. */
  readonly detail?: JsonRecord;
}

export const MAX_DETAIL_BYTES = 4096;

// Deliberately loose: anything shaped like local@domain.tld. A false positive costs a developer a rename; a
// false negative puts an address into a file that can never be erased.
const EMAIL = /[^\s@"'<>(),;:]+@[^\s@"'<>(),;:]+\.[A-Za-z]{2,}/;

/**
 * Checks a record before it enters the chain and returns the form that will be stored.
 *
 * The log is append-only, so nothing written to it can be erased later without breaking the chain: personal
 * data must never get in. `target` and `detail` are chosen by code, so an email there is a bug and is refused.
 * Actor names are chosen by people at runtime (a key called "anna@shop.example laptop"); refusing those would
 * block the access being audited, so emails in them are redacted instead — `keyId` still identifies the key.
 */
export function checkedRecord(record: AuditRecord): Required<AuditRecord> {
  if (!(AUDIT_ACTIONS as readonly string[]).includes(record.action)) {
    throw invalid(
      'action',
      `"${String(record.action)}" is not an audit action (${AUDIT_ACTIONS.join(', ')}).`,
    );
  }
  const target = record.target ?? null;
  if (target !== null && typeof target !== 'string')
    throw invalid('target', 'target must be a string or null.');
  if (target !== null && EMAIL.test(target)) {
    throw invalid(
      'target',
      'An audit target must be an id, never an email address: the log cannot be erased.',
    );
  }
  const detail = normalisedDetail(record.detail ?? {});
  return { actor: redactedActor(record.actor), action: record.action, target, detail };
}

/** The detail as JSON will store it (dates become strings, undefined members vanish), checked. */
function normalisedDetail(detail: JsonRecord): JsonRecord {
  if (!isJsonObject(detail)) throw invalid('detail', 'detail must be a JSON object.');
  const text = JSON.stringify(detail);
  if (Buffer.byteLength(text) > MAX_DETAIL_BYTES) {
    throw new RefineryError(
      'REFINERY_ERR_INVALID_FIELD',
      `Audit detail is ${Buffer.byteLength(text)} bytes as JSON, over ${MAX_DETAIL_BYTES}; record ids and counts, not data.`,
      { field: 'detail', limit: MAX_DETAIL_BYTES },
    );
  }
  const normalised = JSON.parse(text) as JsonRecord;
  const path = emailPath(normalised, 'detail');
  if (path) {
    throw invalid(path, `${path} holds an email address; audit entries must never hold personal data.`);
  }
  return normalised;
}

function emailPath(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return EMAIL.test(value) ? path : undefined;
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = emailPath(item, `${path}[${index}]`);
      if (found) return found;
    }
    return undefined;
  }
  if (isJsonObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      const found = EMAIL.test(key) ? `${path}.${key}` : emailPath(item, `${path}.${key}`);
      if (found) return found;
    }
  }
  return undefined;
}

function redactedActor(actor: AuditActor): AuditActor {
  if (!isJsonObject(actor)) throw invalid('actor', 'actor must be an object.');
  const redact = (text: string) => text.replace(new RegExp(EMAIL.source, 'g'), '[email]');
  const text = (value: unknown) => typeof value === 'string' && value !== '';
  if ('keyId' in actor && text(actor.keyId) && typeof actor.keyName === 'string' && text(actor.kind)) {
    return { keyId: actor.keyId, keyName: redact(actor.keyName), kind: actor.kind };
  }
  if ('cli' in actor && text(actor.cli)) return { cli: redact(actor.cli) };
  if ('system' in actor && text(actor.system)) return { system: actor.system };
  throw invalid('actor', 'actor must be { keyId, keyName, kind }, { cli } or { system }.');
}

function invalid(field: string, message: string): RefineryError {
  return new RefineryError('REFINERY_ERR_INVALID_FIELD', message, { field });
}

import { createHash } from 'node:crypto';
import { isJsonObject } from '../core/json-object.js';
import type { ApiKeyKind } from '../store/store.js';

/**
 * What an audit entry records. Stable strings: entries are kept for years and read by other tools, so a value
 * is never renamed; a new kind of event gets a new value.
 */
export const AUDIT_ACTIONS = [
  /** A person's profile, events or identifiers were shown to someone. */
  'personal_data.read',
  /** Data that may hold personal data left Refinery in bulk: a subject-access export, a quarantine export. */
  'personal_data.export',
  /** A person's data was erased (their key shredded, their rows deleted). */
  'personal_data.erase',
  /** A data-subject request (access, erasure, objection, …) was received or changed state. */
  'privacy.request',
  /** A person's consent changed through the API or a tool (consent captured from events is data, not audit). */
  'consent.change',
  'key.create',
  'key.revoke',
  /** Someone verified this log; `detail` holds the outcome. */
  'audit.verify',
  /** The log repaired itself on open (a torn last line after a crash); `detail` says what was removed. */
  'audit.recovered',
  /**
   * SQL ran over the public relations (which hold personal data) for a key that sees personal data; `detail`
   * holds the statement's SHA-256, the relations it read and the size of the answer, or why it was refused.
   */
  'query.run',
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** Who did it: an API key, a person at the command line, or Refinery itself. */
export type AuditActor =
  | { readonly keyId: string; readonly keyName: string; readonly kind: ApiKeyKind }
  | { readonly cli: string }
  | { readonly system: string };

export type JsonValue = string | number | boolean | null | readonly JsonValue[] | JsonRecord;
export interface JsonRecord {
  readonly [key: string]: JsonValue;
}

/** One line of the log. `hash` is the SHA-256 of the canonical form of every other field (see `entryHash`). */
export interface AuditEntry {
  readonly seq: number;
  readonly at: string;
  readonly actor: AuditActor;
  readonly action: AuditAction;
  /** What was acted on: a person id, a key id, a request id. Never a clear email or name. */
  readonly target: string | null;
  readonly detail: JsonRecord;
  readonly prev: string;
  readonly hash: string;
}

/** Where a chain ends: the last entry's seq and hash. */
export interface AuditHead {
  readonly seq: number;
  readonly hash: string;
}

/** The `prev` of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * RFC 8785 (JSON Canonicalization Scheme) for the values an entry can hold: object keys sorted by UTF-16 code
 * units at every level, no whitespace, strings and numbers as ECMAScript's JSON.stringify writes them. Any
 * JCS library (Python `jcs`, Go `cyberphone/json-canonicalization`) reproduces it, so the log can be checked
 * without Refinery.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isJsonObject(value)) {
    const members = Object.keys(value)
      .filter((key) => value[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value);
}

/** SHA-256 (hex) of the canonical JSON of the entry without its `hash`. */
export function entryHash(entry: Omit<AuditEntry, 'hash'>): string {
  const { seq, at, actor, action, target, detail, prev } = entry;
  const canonical = canonicalJson({ seq, at, actor, action, target, detail, prev });
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}

/** The entry as one NDJSON line: fields in reading order, `hash` last. */
export function entryLine(entry: AuditEntry): string {
  const { seq, at, actor, action, target, detail, prev, hash } = entry;
  return `${JSON.stringify({ seq, at, actor, action, target, detail, prev, hash })}\n`;
}

const HEX64 = /^[0-9a-f]{64}$/;

/**
 * Reads one line as an entry, checking its shape (not its place in the chain) and its own hash. Returns the
 * entry, or why the line is not a valid one.
 */
export function parseEntryLine(line: string): ParsedLine {
  const parsed = parseEntryShape(line);
  if ('problem' in parsed) return parsed;
  if (entryHash(parsed.entry) !== parsed.entry.hash) {
    return { problem: 'hash mismatch: the entry was changed after it was written', seq: parsed.entry.seq };
  }
  return parsed;
}

/** A parsed line, or why it is not an entry (with the seq it claims, when it has one). */
export type ParsedLine = { entry: AuditEntry } | { problem: string; seq?: number };

/** Like `parseEntryLine` without checking the hash: for listing, where integrity is `verify`'s job. */
export function parseEntryShape(line: string): ParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { problem: 'not valid JSON' };
  }
  if (!isJsonObject(value)) return { problem: 'not a JSON object' };
  const problem = entryShapeProblem(value);
  if (problem) {
    const seq = value.seq;
    return typeof seq === 'number' && Number.isSafeInteger(seq) ? { problem, seq } : { problem };
  }
  return { entry: value as unknown as AuditEntry };
}

function entryShapeProblem(value: Record<string, unknown>): string | undefined {
  const { seq, at, actor, action, target, detail, prev, hash } = value;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1)
    return '"seq" is not a positive integer';
  if (typeof at !== 'string' || Number.isNaN(Date.parse(at))) return '"at" is not a date-time';
  if (!isJsonObject(actor)) return '"actor" is not an object';
  if (typeof action !== 'string' || action === '') return '"action" is missing';
  if (target !== null && typeof target !== 'string') return '"target" is neither a string nor null';
  if (!isJsonObject(detail)) return '"detail" is not an object';
  if (typeof prev !== 'string' || !HEX64.test(prev)) return '"prev" is not a SHA-256 hex digest';
  if (typeof hash !== 'string' || !HEX64.test(hash)) return '"hash" is not a SHA-256 hex digest';
  const extra = Object.keys(value).find(
    (key) => !['seq', 'at', 'actor', 'action', 'target', 'detail', 'prev', 'hash'].includes(key),
  );
  // An extra field would sit outside the hash: refuse it rather than let unhashed text ride along.
  if (extra) return `unexpected field "${extra}" (not covered by the hash)`;
  return undefined;
}

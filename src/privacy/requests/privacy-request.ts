import { randomBytes } from 'node:crypto';
import { RefineryError } from '../../core/errors.js';
import { isJsonObject } from '../../core/json-object.js';
import { normaliseEmail } from '../../identity/identifier-extraction.js';
import type { IdentifierHasher } from '../../identity/identifier-hashing.js';
import type { Identifier } from '../../identity/identity-rules.js';
import {
  PRIVACY_REQUEST_KINDS,
  PRIVACY_REQUEST_STATUSES,
  type PrivacyRequestKind,
  type PrivacyRequestRow,
  type PrivacyRequestStatus,
} from '../../store/privacy-types.js';
import { consentPurposeOrThrow } from '../consent-purposes.js';

/**
 * A data-subject request as the API and CLI show it: the stored row without the hashes of the ids it named,
 * and whether it is overdue.
 */
export interface PrivacyRequest extends Omit<PrivacyRequestRow, 'subjectHashes'> {
  /** Still open after its due date. */
  readonly overdue: boolean;
}

/** Whom a request is about: at least one of these. */
export interface SubjectReference {
  readonly userId?: string;
  readonly anonymousId?: string;
  readonly email?: string;
}

export interface NewPrivacyRequest {
  readonly kind: PrivacyRequestKind;
  readonly subject: SubjectReference;
  readonly purpose?: string;
  /** Carry it out now (default) or leave it open in the queue. */
  readonly run: boolean;
}

const MAX_ID = 512;

/**
 * Checks a request body (`POST /v1/privacy/requests`, the CLI's options) and returns it typed; every problem is a
 * RefineryError naming its field.
 *
 * @example validateNewRequest({ kind: 'erase', userId: 'u42' })
 */
export function validateNewRequest(body: unknown): NewPrivacyRequest {
  if (!isJsonObject(body)) {
    throw new RefineryError(
      'REFINERY_ERR_INVALID_FIELD',
      'Send a JSON object: { "kind": "access", "userId": "…" }.',
      {
        field: 'body',
      },
    );
  }
  const kind = body.kind;
  if (typeof kind !== 'string' || !(PRIVACY_REQUEST_KINDS as readonly string[]).includes(kind)) {
    throw new RefineryError(
      kind === undefined ? 'REFINERY_ERR_MISSING_FIELD' : 'REFINERY_ERR_INVALID_FIELD',
      `kind must be one of ${PRIVACY_REQUEST_KINDS.join(', ')}.`,
      { field: 'kind' },
    );
  }
  const subject: { userId?: string; anonymousId?: string; email?: string } = {};
  for (const field of ['userId', 'anonymousId', 'email'] as const) {
    const value = body[field];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string' || value.trim() === '' || value.length > MAX_ID) {
      throw new RefineryError(
        'REFINERY_ERR_INVALID_FIELD',
        `${field} must be a non-empty string of at most ${MAX_ID} characters.`,
        {
          field,
        },
      );
    }
    subject[field] = value;
  }
  if (subject.email !== undefined && normaliseEmail(subject.email) === undefined) {
    throw new RefineryError('REFINERY_ERR_INVALID_FIELD', 'email is not a valid email address.', {
      field: 'email',
    });
  }
  if (Object.keys(subject).length === 0) {
    throw new RefineryError('REFINERY_ERR_MISSING_FIELD', 'Name the person: userId, anonymousId or email.', {
      field: 'userId',
    });
  }
  const purpose = body.purpose;
  if (purpose !== undefined && (typeof purpose !== 'string' || !/^[A-Za-z0-9_.:-]{1,64}$/.test(purpose))) {
    throw new RefineryError(
      'REFINERY_ERR_INVALID_FIELD',
      'purpose must be a purpose name such as "advertising".',
      {
        field: 'purpose',
      },
    );
  }
  if (kind === 'object' && purpose === undefined) {
    throw new RefineryError('REFINERY_ERR_MISSING_FIELD', 'An objection names the purpose objected to.', {
      field: 'purpose',
    });
  }
  // Checked before the request is logged, so an objection nobody can carry out never waits in the queue.
  if (kind === 'object') consentPurposeOrThrow(purpose);
  if (body.run !== undefined && typeof body.run !== 'boolean') {
    throw new RefineryError('REFINERY_ERR_INVALID_FIELD', 'run must be true or false.', { field: 'run' });
  }
  return {
    kind: kind as PrivacyRequestKind,
    subject,
    ...(typeof purpose === 'string' ? { purpose } : {}),
    run: body.run !== false,
  };
}

export function isRequestStatus(value: unknown): value is PrivacyRequestStatus {
  return typeof value === 'string' && (PRIVACY_REQUEST_STATUSES as readonly string[]).includes(value);
}

/** The identity-graph identifiers a reference names (emails hashed as the graph holds them). */
export function subjectIdentifiers(subject: SubjectReference, hasher: IdentifierHasher): Identifier[] {
  const identifiers: Identifier[] = [];
  if (subject.userId !== undefined) identifiers.push({ type: 'user_id', value: subject.userId });
  if (subject.anonymousId !== undefined)
    identifiers.push({ type: 'anonymous_id', value: subject.anonymousId });
  const email = subject.email === undefined ? undefined : hasher.email(subject.email);
  if (email !== undefined) identifiers.push({ type: 'email', value: email });
  return identifiers;
}

/**
 * How a stored request remembers whom it was about: the keyed index of each identifier it named. A named email
 * also gets the form an entry for it took when requests stored before keys were upgraded, so that such a request
 * is still found among the person's requests.
 */
export function subjectHashesOf(subject: SubjectReference, hasher: IdentifierHasher): string[] {
  const hashes = subjectIdentifiers(subject, hasher).map((identifier) => hasher.index(identifier));
  const upgraded = subject.email === undefined ? undefined : hasher.upgradedIndexOf('email', subject.email);
  return upgraded === undefined ? hashes : [...hashes, upgraded];
}

/** `al…42`: enough for a person to recognise an id they know, not enough to recover it. */
export function maskValue(value: string): string {
  if (value.length <= 6) return '…';
  return `${value.slice(0, 2)}…${value.slice(-2)}`;
}

export function maskedSubject(subject: SubjectReference): string {
  const parts: string[] = [];
  if (subject.userId !== undefined) parts.push(`user_id:${maskValue(subject.userId)}`);
  if (subject.anonymousId !== undefined) parts.push(`anonymous_id:${maskValue(subject.anonymousId)}`);
  if (subject.email !== undefined) parts.push(`email:${maskValue(subject.email.trim().toLowerCase())}`);
  return parts.join(' ');
}

export function newRequestId(): string {
  return `pr_${randomBytes(8).toString('hex')}`;
}

/** The due date: `days` after receipt. */
export function dueDate(receivedAt: Date, days: number): Date {
  return new Date(receivedAt.getTime() + days * 86_400_000);
}

export function toPrivacyRequest(row: PrivacyRequestRow, now: Date): PrivacyRequest {
  const { subjectHashes: _hashes, ...shown } = row;
  return { ...shown, overdue: row.status === 'open' && Date.parse(row.dueAt) < now.getTime() };
}

import { closeSync, fsyncSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { type ConsentDecisionInput, consentDecisionLine } from '../collect/consent-observations.js';
import { RefineryError } from '../core/errors.js';
import { parseIsoTimestamp } from '../core/iso-time.js';
import { isJsonObject } from '../core/json-object.js';
import type { Store } from '../store/store.js';
import { CONSENT_PURPOSES, isConsentPurpose } from './consent-purposes.js';

/**
 * The decisions of a consent API request: `{ userId | anonymousId, purposes: { advertising: false, … }, at? }`.
 * Throws REFINERY_ERR_MISSING_FIELD / REFINERY_ERR_INVALID_FIELD naming the offending field.
 *
 * @example consentDecisionsOf({ userId: '42', purposes: { advertising: false } }, new Date())
 */
export function consentDecisionsOf(body: unknown, now: Date): ConsentDecisionInput[] {
  if (!isJsonObject(body)) {
    throw new RefineryError(
      'REFINERY_ERR_INVALID_FIELD',
      'Send a JSON object: {"userId": …, "purposes": {…}}.',
      {
        field: 'body',
      },
    );
  }
  const identifier = subjectOf(body);
  const purposes = body.purposes;
  if (!isJsonObject(purposes) || Object.keys(purposes).length === 0) {
    throw new RefineryError(
      'REFINERY_ERR_MISSING_FIELD',
      `Name at least one purpose and whether it is granted: "purposes": {"advertising": false}. Purposes: ${CONSENT_PURPOSES.join(', ')}.`,
      { field: 'purposes' },
    );
  }
  const at = atOf(body.at, now);
  return Object.entries(purposes).map(([purpose, granted]) => {
    if (!isConsentPurpose(purpose)) {
      throw new RefineryError(
        'REFINERY_ERR_INVALID_FIELD',
        `"${purpose}" is not a purpose; use ${CONSENT_PURPOSES.join(', ')}.`,
        { field: `purposes.${purpose}` },
      );
    }
    if (typeof granted !== 'boolean') {
      throw new RefineryError(
        'REFINERY_ERR_INVALID_FIELD',
        `purposes.${purpose} must be true (granted) or false (denied).`,
        { field: `purposes.${purpose}` },
      );
    }
    return { identifier, purpose, granted, at, source: 'api' as const };
  });
}

function subjectOf(body: Record<string, unknown>): string {
  const { userId, anonymousId } = body;
  if (userId !== undefined && userId !== null) {
    if (typeof userId !== 'string' || userId.trim() === '') {
      throw new RefineryError('REFINERY_ERR_INVALID_FIELD', 'userId must be a non-empty string.', {
        field: 'userId',
      });
    }
    return `user_id:${userId}`;
  }
  if (anonymousId !== undefined && anonymousId !== null) {
    if (typeof anonymousId !== 'string' || anonymousId.trim() === '') {
      throw new RefineryError('REFINERY_ERR_INVALID_FIELD', 'anonymousId must be a non-empty string.', {
        field: 'anonymousId',
      });
    }
    return `anonymous_id:${anonymousId}`;
  }
  throw new RefineryError('REFINERY_ERR_MISSING_FIELD', 'Say whose consent this is: userId or anonymousId.', {
    field: 'userId',
  });
}

function atOf(value: unknown, now: Date): Date {
  if (value === undefined || value === null) return now;
  const time = typeof value === 'string' ? parseIsoTimestamp(value) : undefined;
  if (time === undefined) {
    throw new RefineryError('REFINERY_ERR_INVALID_FIELD', 'at must be an ISO 8601 date-time.', {
      field: 'at',
    });
  }
  // A decision cannot be dated after it was received: it would outrank choices the person makes later.
  return new Date(Math.min(time, now.getTime()));
}

/** The loader stream consent decisions made without a running server are loaded under. */
export const CONSENT_DECISION_STREAM = 'consent';
const DECISION_PREFIX = 'consent-decision-';

/**
 * Records decisions straight into the store when no server (and so no write-ahead log) is running: written
 * to a synced file first, then loaded like a WAL segment, so they take the same path into `consent_log`.
 */
export async function loadConsentDecisions(
  store: Store,
  workDir: string,
  decisions: readonly ConsentDecisionInput[],
): Promise<number> {
  const sequence = (await store.events.lastLoadedSequence(CONSENT_DECISION_STREAM)) + 1;
  mkdirSync(workDir, { recursive: true });
  const file = join(workDir, `${DECISION_PREFIX}${sequence}.ndjson`);
  const fd = openSync(file, 'w');
  try {
    writeSync(fd, consentDecisionLine(...decisions));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    await store.events.loadBatch({ stream: CONSENT_DECISION_STREAM, sequence, file, dedupeWindowHours: 0 });
  } finally {
    rmSync(file, { force: true });
  }
  return decisions.length;
}

/**
 * Whose consent a command names: `user_id:…`, `anonymous_id:…`, or a bare user id, as the consent API's body
 * takes it. Decisions are recorded for an identifier, so person ids and other identifier types are refused.
 */
export function consentSubjectOf(reference: string): { userId: string } | { anonymousId: string } {
  const text = reference.trim();
  if (text.startsWith('anonymous_id:')) return { anonymousId: text.slice('anonymous_id:'.length) };
  if (text.startsWith('user_id:')) return { userId: text.slice('user_id:'.length) };
  if (/^p_[0-9a-f]{16}$/.test(text) || /^[a-z_]+:/.test(text)) {
    throw new RefineryError(
      'REFINERY_ERR_INVALID_FIELD',
      `Record consent for a user id or an anonymous id (user_id:42, anonymous_id:…), not "${reference}".`,
      { field: 'id' },
    );
  }
  return { userId: text };
}

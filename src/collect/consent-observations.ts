import { randomUUID } from 'node:crypto';
import { readId } from '../identity/identifier-extraction.js';
import { consentObservationsOf } from '../privacy/consent-capture.js';
import type { ConsentConfig, ConsentPurpose } from '../privacy/consent-purposes.js';
import type { ConsentLineObservation, ConsentRecord } from '../store/wal-format.js';
import type { ConsentLineWriter } from './collector.js';
import type { ObservedMessage } from './identity-observations.js';
import type { WriteAheadLog } from './wal/write-ahead-log.js';
import { illFormedUnicode, isWellFormed } from './well-formed-unicode.js';

/**
 * Turns what stored messages say about consent (`context.consent.categoryPreferences`, the request's
 * `Sec-GPC` header) into consent lines for the write-ahead log.
 *
 * A message with neither costs one property read. Consent-manager wrappers stamp the same preferences on every
 * event, so a subject's unchanged preferences are written once: a line is skipped when the last line written
 * for the same subject carried the same decisions at an earlier or equal time. A change is always written,
 * and so is a message older than the last one written (it may belong earlier in the history). Forgetting is
 * safe: a repeated decision changes no state, so a restart only costs a few lines.
 */
export class ConsentObservations implements ConsentLineWriter {
  private recent = new Map<string, { signature: string; atMs: number }>();
  private previous = new Map<string, { signature: string; atMs: number }>();

  constructor(
    private readonly config: ConsentConfig,
    private readonly capacity = 50_000,
  ) {}

  lineFor(message: ObservedMessage, messageId: string, receivedAt: number, gpc: boolean): string | undefined {
    if (!gpc) {
      const context = message.context as { consent?: unknown } | null | undefined;
      if (!context || context.consent === undefined) return undefined;
    }
    const ids = subjectKeysOf(message);
    if (ids.length === 0) return undefined;
    const capture = consentObservationsOf(message, {
      gpc,
      categories: this.config.categories,
      receivedAt,
    });
    if (capture.observations.length === 0 && capture.unknownCategories.length === 0) return undefined;
    const subject = ids.join('\n');
    const signature = signatureOf(capture.observations, capture.unknownCategories);
    const atMs = capture.observations.length > 0 ? Date.parse(capture.observations[0]!.at) : receivedAt;
    const last = this.recent.get(subject) ?? this.previous.get(subject);
    if (last && last.signature === signature && atMs >= last.atMs) return undefined;
    this.remember(subject, { signature, atMs: Math.max(atMs, last?.atMs ?? atMs) });
    const line: ConsentRecord = {
      k: 'c',
      id: messageId,
      received_at: new Date(receivedAt).toISOString(),
      ids,
      consent: capture.observations,
      ...(capture.unknownCategories.length > 0 ? { unknown: capture.unknownCategories } : {}),
    };
    return `${JSON.stringify(line)}\n`;
  }

  // Two generations give least-recently-written eviction at the cost of one Map swap per `capacity` subjects.
  private remember(subject: string, entry: { signature: string; atMs: number }): void {
    if (!this.recent.has(subject) && this.recent.size >= this.capacity) {
      this.previous = this.recent;
      this.recent = new Map();
    }
    this.recent.set(subject, entry);
  }
}

/** A consent decision recorded through the API (or a privacy request): one purpose for one identifier. */
export interface ConsentDecisionInput {
  /** `type:value`, e.g. `user_id:42` or `anonymous_id:…`. */
  readonly identifier: string;
  readonly purpose: ConsentPurpose;
  readonly granted: boolean;
  readonly at: Date;
  readonly source?: 'api';
}

/**
 * Durably appends a consent line with source `api` to the write-ahead log: the decision reaches `consent_log`
 * with the next load and the person's flags with the identity run after it.
 *
 * @example await recordConsentDecision(wal, { identifier: 'user_id:42', purpose: 'advertising', granted: false, at: new Date() })
 */
export async function recordConsentDecision(
  wal: WriteAheadLog,
  decision: ConsentDecisionInput,
): Promise<void> {
  await wal.append(consentDecisionLine(decision));
}

/**
 * The WAL line (ending in a line break) for API decisions about one identifier. An identifier holding a lone
 * surrogate is refused: the HTTP body parser refuses one at the door, and no other caller may write one either.
 */
export function consentDecisionLine(...decisions: readonly ConsentDecisionInput[]): string {
  return decisions
    .map((decision) => {
      if (!isWellFormed(decision.identifier)) throw illFormedUnicode('identifier');
      const line: ConsentRecord = {
        k: 'c',
        id: `consent-api-${randomUUID()}`,
        received_at: new Date().toISOString(),
        ids: [decision.identifier],
        consent: [
          {
            purpose: decision.purpose,
            granted: decision.granted,
            source: 'api',
            category: null,
            at: decision.at.toISOString(),
          },
        ],
      };
      return `${JSON.stringify(line)}\n`;
    })
    .join('');
}

/** The subject of a message as identifier keys: its user id and its anonymous id, when present. */
export function subjectKeysOf(message: {
  readonly userId?: unknown;
  readonly anonymousId?: unknown;
}): string[] {
  const keys: string[] = [];
  const user = readId(message.userId);
  const anonymous = readId(message.anonymousId);
  if (user !== undefined) keys.push(`user_id:${user}`);
  if (anonymous !== undefined) keys.push(`anonymous_id:${anonymous}`);
  return keys;
}

function signatureOf(observations: readonly ConsentLineObservation[], unknown: readonly string[]): string {
  const parts = observations.map((o) => `${o.purpose}|${o.granted ? 1 : 0}|${o.source}|${o.category ?? ''}`);
  return `${parts.join(',')}#${unknown.join(',')}`;
}

import { randomUUID } from 'node:crypto';
import type { WorkspaceConfig } from '../config/workspace-config.js';
import type { ContractSet } from '../contracts/contract-set.js';
import { isRefineryError, RefineryError } from '../core/errors.js';
import { isJsonObject } from '../core/json-object.js';
import type { PersonalFields } from '../privacy/vault/personal-fields.js';
import {
  holdsPersonalFields,
  protectMessage,
  redactPersonalFields,
} from '../privacy/vault/personal-fields.js';
import type { SubjectKeyVault } from '../privacy/vault/subject-key-vault.js';
import type { SuppressionList } from '../privacy/vault/suppression-list.js';
import { withIp } from '../store/expand-request.js';
import type {
  EventType,
  FlagRecord,
  ParsedAgent,
  QuarantineRecord,
  RejectRecord,
  RequestRecord,
  StoredViolation,
} from '../store/wal-format.js';
import { applyIpPolicy } from './client-ip.js';
import type { IdentityObservations, ObservedMessage } from './identity-observations.js';
import type { IngestMeter } from './ingest-meter.js';
import { validateMessage } from './message-validation.js';
import type { TailBuffer } from './tail-buffer.js';
import type { UserAgentParser } from './user-agent.js';
import type { WriteAheadLog } from './wal/write-ahead-log.js';

/** What the HTTP layer knows about a request, independent of Fastify. */
export interface RequestFacts {
  readonly receivedAt: number;
  readonly ip: string | null;
  readonly userAgent: string | null;
  readonly source: string;
  /** The body as received (decompressed), stored verbatim in the write-ahead log. */
  readonly body: Buffer;
  /** Whether the request carried the Global Privacy Control signal (`Sec-GPC: 1`). */
  readonly gpc?: boolean;
}

/** Batch-level fields that apply to every message in it (the Segment batch format allows these). */
export interface BatchDefaults {
  readonly sentAt?: unknown;
  readonly context?: unknown;
  readonly integrations?: unknown;
}

export interface RejectedEvent {
  readonly index: number;
  readonly messageId: string | null;
  readonly code: string;
  readonly message: string;
  readonly field: string | null;
}

/** An event an enforced contract held back: durable in quarantine, not stored as an event. */
export interface QuarantinedEvent {
  readonly index: number;
  readonly messageId: string;
  readonly contract: string | null;
  readonly violations: readonly StoredViolation[];
}

export interface AcceptReport {
  /** Events stored (including flagged ones). */
  readonly accepted: number;
  /** Stored events that broke a contract in warn mode. */
  readonly flagged: number;
  readonly quarantined: readonly QuarantinedEvent[];
  readonly rejected: readonly RejectedEvent[];
  /** Messages dropped because they name an erased person (the suppression list); nothing of them is kept. */
  readonly suppressed: number;
}

export interface CollectorParts {
  readonly wal: WriteAheadLog;
  readonly tail: TailBuffer;
  readonly meter: IngestMeter;
  readonly userAgents: UserAgentParser;
  /** The contracts in force; read per request so a reload applies to the next request. */
  readonly contracts?: { readonly current: ContractSet };
  /** Writes identity observation lines for the identity graph; absent, none are written. */
  readonly identity?: IdentityObservations;
  /** Writes consent observation lines (`context.consent`, GPC); absent, none are written. */
  readonly consent?: ConsentLineWriter;
  /** Seals personal fields per person and drops erased people's ids; absent, messages are kept as sent. */
  readonly privacy?: CollectorPrivacy;
}

export interface CollectorPrivacy {
  readonly vault: SubjectKeyVault;
  readonly suppression: SuppressionList;
  readonly fields: PersonalFields;
}

/** Turns what one stored message says about consent into a write-ahead-log line, or nothing. */
export interface ConsentLineWriter {
  lineFor(message: ObservedMessage, messageId: string, receivedAt: number, gpc: boolean): string | undefined;
}

const MAX_REJECT_PAYLOAD = 64 * 1024;
const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const SPACE = 0x20;

/**
 * Validates the messages of one request and makes them durable: the accepted ones as one write-ahead-log
 * line holding the body verbatim, each rejected one as a reject line with its reason. Resolves only once
 * every line is on disk. Per accepted message it only checks and looks up; nothing is re-serialised unless
 * the request holds personal fields to seal (or a message to drop), in which case the body is written as
 * re-serialised JSON with sealed values, so no clear personal value ever reaches the disk.
 *
 * Suppression, contracts, identity and consent all read the clear message; sealing comes last.
 */
export class Collector {
  constructor(
    private readonly config: WorkspaceConfig,
    private readonly parts: CollectorParts,
  ) {}

  async accept(
    messages: readonly unknown[],
    impliedType: EventType | undefined,
    facts: RequestFacts,
    defaults: BatchDefaults = {},
  ): Promise<AcceptReport> {
    const { limits, collect } = this.config;
    const receivedIso = new Date(facts.receivedAt).toISOString();
    const rid = randomUUID();
    const contracts = this.parts.contracts?.current;
    const rejected: RejectedEvent[] = [];
    const quarantined: QuarantinedEvent[] = [];
    const rejectLines: string[] = [];
    const governanceLines: (string | QuarantineRecord)[] = [];
    const identityLines: string[] = [];
    const identity = this.parts.identity;
    const consent = this.parts.consent;
    const privacy = this.parts.privacy;
    let suppressed = 0;
    // Set when the verbatim body may not be written: a value to seal, or a dropped message to leave out.
    let rewrite = false;
    const toSeal: number[] = [];
    const sealed: unknown[] = [];
    let flagged = 0;
    const skip: number[] = [];
    const extraOf: number[] = [];
    const ipOf: (string | null)[] = new Array(messages.length).fill(null);
    const agentOf: (number | null)[] = new Array(messages.length).fill(null);
    const agents: ParsedAgent[] = [];
    const agentIndex = new Map<string, number>();
    // No event can be larger than the body that carried it, so small bodies skip the per-event check.
    const checkEachSize = facts.body.length > limits.maxEventBytes;
    const batchSentAt = typeof defaults.sentAt === 'string' ? defaults.sentAt : undefined;
    const batchContext = isJsonObject(defaults.context) ? defaults.context : undefined;
    // Scanned once per request, not once per message that inherits it.
    const batchContextPersonal =
      privacy !== undefined &&
      batchContext !== undefined &&
      holdsPersonalFields({ context: batchContext }, privacy.fields);
    for (let index = 0; index < messages.length; index++) {
      const raw = messages[index];
      const path = impliedType ? 'body' : `batch[${index}]`;
      try {
        const candidate = withBatchDefaults(raw, batchSentAt, defaults);
        // An erased person's ids arriving again: dropped before anything about the message is written.
        if (privacy && isJsonObject(candidate) && privacy.suppression.isSuppressed(candidate)) {
          skip.push(index);
          suppressed++;
          rewrite = true;
          continue;
        }
        const message = validateMessage(candidate, path, impliedType, limits.maxDepth);
        if (checkEachSize && message.sizeBound > limits.maxEventBytes)
          assertEventSize(raw, path, limits.maxEventBytes);
        if (message.extra) extraOf.push(index);
        const context = message.context ?? batchContext ?? null;
        const clientIp = typeof context?.ip === 'string' ? context.ip : facts.ip;
        ipOf[index] = applyIpPolicy(clientIp, collect.ip);
        const userAgent = typeof context?.userAgent === 'string' ? context.userAgent : facts.userAgent;
        if (userAgent) {
          let position = agentIndex.get(userAgent);
          if (position === undefined) {
            position = agents.push(this.parts.userAgents.parse(userAgent)) - 1;
            agentIndex.set(userAgent, position);
          }
          agentOf[index] = position;
        }
        let held = false;
        if (contracts) {
          const verdict = contracts.check(message, raw as Record<string, unknown>);
          if (verdict.action !== 'accept') {
            const shared = {
              id: message.messageId ?? `${rid}-${index}`,
              received_at: receivedIso,
              source: facts.source,
              type: message.type,
              event: message.type === 'track' ? message.event : message.name,
              contract: verdict.contract,
              contract_version: verdict.contractVersion,
              violations: verdict.violations,
            };
            if (verdict.action === 'flag') {
              flagged++;
              const line: FlagRecord = { k: 'f', ...shared };
              governanceLines.push(`${JSON.stringify(line)}\n`);
            } else {
              skip.push(index);
              held = true;
              const agent = agentOf[index];
              const line: QuarantineRecord = {
                k: 'x',
                ...shared,
                payload: heldPayload(raw, batchSentAt, defaults, ipOf[index] ?? null),
                ip: ipOf[index] ?? null,
                ua: userAgent ?? null,
                agent: agent === null || agent === undefined ? null : (agents[agent] ?? null),
              };
              // Sealed below, once every message is checked; the verbatim body must not keep it either.
              governanceLines.push(line);
              if (privacy && holdsPersonalFields(line.payload, privacy.fields)) rewrite = true;
              quarantined.push({
                index,
                messageId: shared.id,
                contract: verdict.contract,
                violations: verdict.violations,
              });
            }
          }
        }
        // A held event is not stored, so it asserts nothing yet; a replay stores and observes it.
        if ((identity || consent) && !held) {
          const observed = message.context || !context ? message : { ...message, context };
          const id = message.messageId ?? `${rid}-${index}`;
          const line = identity?.lineFor(observed, id, facts.receivedAt);
          if (line) identityLines.push(line);
          const consentLine = consent?.lineFor(observed, id, facts.receivedAt, facts.gpc === true);
          if (consentLine) identityLines.push(consentLine);
        }
        if (privacy && !held) {
          const own = raw as Record<string, unknown>;
          const inherits = own.context === undefined && batchContext !== undefined;
          if (holdsPersonalFields(own, privacy.fields) || (inherits && batchContextPersonal)) {
            toSeal.push(index);
            sealed[index] = inherits ? { ...own, context: batchContext } : own;
          }
        }
      } catch (error) {
        skip.push(index);
        const reason = asRefineryError(error);
        const messageId = messageIdOf(raw);
        const field = reason.details.field ?? null;
        rejected.push({ index, messageId, code: reason.code, message: reason.message, field });
        const line: RejectRecord = {
          k: 'r',
          received_at: receivedIso,
          source: facts.source,
          message_id: messageId,
          type: typeOf(raw) ?? impliedType ?? null,
          reason_code: reason.code,
          reason: reason.message,
          field,
          payload: excerpt(privacy ? redactPersonalFields(raw, privacy.fields) : raw),
        };
        // The verbatim body would keep the rejected message's clear values; leave it out of the body instead.
        if (privacy && isJsonObject(raw) && mayHoldPersonalFields(raw, privacy.fields)) rewrite = true;
        rejectLines.push(`${JSON.stringify(line)}\n`);
      }
    }
    // Quarantined messages are in `skip` too: the request line stores only what passed.
    const accepted = messages.length - skip.length;
    let body = facts.body;
    let stored = messages;
    if (privacy) {
      for (const index of toSeal) {
        const result = await protectMessage(
          sealed[index] as Record<string, unknown>,
          privacy.vault,
          privacy.fields,
        );
        sealed[index] = result.message;
        if (result.changed) rewrite = true;
      }
      for (let i = 0; i < governanceLines.length; i++) {
        const line = governanceLines[i]!;
        if (typeof line === 'string') continue;
        const { message: payload } = await protectMessage(line.payload, privacy.vault, privacy.fields);
        governanceLines[i] = `${JSON.stringify({ ...line, payload })}\n`;
      }
      if (rewrite && accepted > 0) {
        ({ body, stored } = sealedBody(messages, sealed, skip, impliedType, defaults, batchContext));
      }
    }
    const chunks: Buffer[] = [];
    let record: RequestRecord | undefined;
    if (accepted > 0) {
      const header: Omit<RequestRecord, 'body'> = {
        k: 'q',
        rid,
        received_at: receivedIso,
        source: facts.source,
        implied_type: impliedType ?? null,
        ua: facts.userAgent,
        ip_of: ipOf,
        agent_of: agentOf,
        agents,
        skip,
        extra_of: extraOf,
      };
      const head = JSON.stringify(header);
      chunks.push(Buffer.from(`${head.slice(0, -1)},"body":`), singleLine(body), Buffer.from('}\n'));
      record = {
        ...header,
        body: impliedType
          ? stored[0]
          : { batch: stored, ...defaults, ...(stored === messages ? {} : { context: undefined }) },
      };
    }
    if (rejectLines.length > 0) chunks.push(Buffer.from(rejectLines.join('')));
    if (governanceLines.length > 0) chunks.push(Buffer.from(governanceLines.map(lineText).join('')));
    if (identityLines.length > 0) chunks.push(Buffer.from(identityLines.join('')));
    if (chunks.length > 0) await this.parts.wal.append(chunks);
    if (record) this.parts.tail.push(record, accepted);
    this.parts.meter.record(accepted, rejected.length, facts.receivedAt, quarantined.length);
    return { accepted, flagged, quarantined, rejected, suppressed };
  }
}

/** A rejected message may be nested too deeply to scan (that may be why it was rejected): then assume so. */
function mayHoldPersonalFields(raw: Record<string, unknown>, fields: PersonalFields): boolean {
  try {
    return holdsPersonalFields(raw, fields);
  } catch {
    return true;
  }
}

function lineText(line: string | QuarantineRecord): string {
  return typeof line === 'string' ? line : `${JSON.stringify(line)}\n`;
}

/**
 * The request body to write when the verbatim one may not be: sealed messages in place of their clear form,
 * `null` where a message is skipped (rejected, held or suppressed: the loader never reads those places), and
 * the batch-level context copied into each message that had none and dropped from the batch, so personal
 * fields in it are sealed with each message's own subject key.
 */
function sealedBody(
  messages: readonly unknown[],
  sealed: readonly unknown[],
  skip: readonly number[],
  impliedType: EventType | undefined,
  defaults: BatchDefaults,
  batchContext: Record<string, unknown> | undefined,
): { body: Buffer; stored: unknown[] } {
  const skipped = new Set(skip);
  const stored = messages.map((raw, index) => {
    if (skipped.has(index)) return null;
    const own = sealed[index];
    if (own !== undefined) return own;
    if (batchContext && isJsonObject(raw) && raw.context === undefined)
      return { ...raw, context: batchContext };
    return raw;
  });
  const body = impliedType
    ? stored[0]
    : { sentAt: defaults.sentAt, integrations: defaults.integrations, batch: stored };
  return { body: Buffer.from(JSON.stringify(body)), stored };
}

// Valid JSON has line breaks only as whitespace between tokens (inside strings they must be escaped),
// so turning them into spaces keeps the body the same JSON on one line.
function singleLine(body: Buffer): Buffer {
  if (body.indexOf(NEWLINE) === -1 && body.indexOf(CARRIAGE_RETURN) === -1) return body;
  const copy = Buffer.from(body);
  for (let i = 0; i < copy.length; i++) {
    if (copy[i] === NEWLINE || copy[i] === CARRIAGE_RETURN) copy[i] = SPACE;
  }
  return copy;
}

function withBatchDefaults(raw: unknown, sentAt: string | undefined, defaults: BatchDefaults): unknown {
  if (!isJsonObject(raw)) return raw;
  const needsSentAt = sentAt !== undefined && raw.sentAt === undefined;
  const needsContext = defaults.context !== undefined && raw.context === undefined;
  if (!needsSentAt && !needsContext) return raw;
  return {
    ...raw,
    ...(needsSentAt ? { sentAt } : {}),
    ...(needsContext ? { context: defaults.context } : {}),
  };
}

/**
 * The message as a quarantine keeps it: batch-level fields applied (so a replay stores what storage would
 * have), the credential removed, and a client IP in the context replaced by what the IP policy allows.
 */
function heldPayload(
  raw: unknown,
  sentAt: string | undefined,
  defaults: BatchDefaults,
  policyIp: string | null,
): Record<string, unknown> {
  const message = { ...(withBatchDefaults(raw, sentAt, defaults) as Record<string, unknown>) };
  delete message.writeKey;
  if (message.integrations === undefined && isJsonObject(defaults.integrations))
    message.integrations = defaults.integrations;
  if (isJsonObject(message.context)) message.context = withIp(message.context, policyIp);
  return message;
}

function assertEventSize(raw: unknown, path: string, maxEventBytes: number): void {
  const size = Buffer.byteLength(safeStringify(raw) ?? '');
  if (size > maxEventBytes) {
    throw new RefineryError(
      'REFINERY_ERR_EVENT_TOO_LARGE',
      `${path} is ${size} bytes, over the limit of ${maxEventBytes} bytes per event (limits.maxEventBytes).`,
      { field: path, limit: maxEventBytes },
    );
  }
}

function asRefineryError(error: unknown): RefineryError {
  if (isRefineryError(error)) return error;
  return new RefineryError(
    'REFINERY_ERR_INVALID_FIELD',
    error instanceof Error ? error.message : String(error),
  );
}

function messageIdOf(raw: unknown): string | null {
  const id = isJsonObject(raw) ? raw.messageId : undefined;
  return typeof id === 'string' ? id.slice(0, 512) : null;
}

function typeOf(raw: unknown): string | undefined {
  const type = isJsonObject(raw) ? raw.type : undefined;
  return typeof type === 'string' ? type.slice(0, 32) : undefined;
}

function excerpt(raw: unknown): string {
  const text = safeStringify(raw) ?? '"(a value too deeply nested to serialise)"';
  return text.length > MAX_REJECT_PAYLOAD ? `${text.slice(0, MAX_REJECT_PAYLOAD)}…(truncated)` : text;
}

// JSON.stringify recurses; a hostile, very deep value can overflow the stack.
function safeStringify(value: unknown): string | undefined {
  try {
    return JSON.stringify(value) ?? 'null';
  } catch {
    return undefined;
  }
}

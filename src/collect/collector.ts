import { randomUUID } from 'node:crypto';
import type { WorkspaceConfig } from '../config/workspace-config.js';
import type { ContractSet } from '../contracts/contract-set.js';
import { isRefineryError, RefineryError } from '../core/errors.js';
import { isJsonObject } from '../core/json-object.js';
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
import type { IdentityObservations } from './identity-observations.js';
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
}

const MAX_REJECT_PAYLOAD = 64 * 1024;
const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const SPACE = 0x20;

/**
 * Validates the messages of one request and makes them durable: the accepted ones as one write-ahead-log
 * line holding the body verbatim, each rejected one as a reject line with its reason. Resolves only once
 * every line is on disk. Per accepted message it only checks and looks up; nothing is re-serialised.
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
    const governanceLines: string[] = [];
    const identityLines: string[] = [];
    const identity = this.parts.identity;
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
    for (let index = 0; index < messages.length; index++) {
      const raw = messages[index];
      const path = impliedType ? 'body' : `batch[${index}]`;
      try {
        const message = validateMessage(
          withBatchDefaults(raw, batchSentAt, defaults),
          path,
          impliedType,
          limits.maxDepth,
        );
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
              governanceLines.push(`${JSON.stringify(line)}\n`);
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
        if (identity && !held) {
          const observed = message.context || !context ? message : { ...message, context };
          const line = identity.lineFor(observed, message.messageId ?? `${rid}-${index}`, facts.receivedAt);
          if (line) identityLines.push(line);
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
          payload: excerpt(raw),
        };
        rejectLines.push(`${JSON.stringify(line)}\n`);
      }
    }
    // Quarantined messages are in `skip` too: the request line stores only what passed.
    const accepted = messages.length - skip.length;
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
      chunks.push(Buffer.from(`${head.slice(0, -1)},"body":`), singleLine(facts.body), Buffer.from('}\n'));
      record = { ...header, body: impliedType ? messages[0] : { batch: messages, ...defaults } };
    }
    if (rejectLines.length > 0) chunks.push(Buffer.from(rejectLines.join('')));
    if (governanceLines.length > 0) chunks.push(Buffer.from(governanceLines.join('')));
    if (identityLines.length > 0) chunks.push(Buffer.from(identityLines.join('')));
    if (chunks.length > 0) await this.parts.wal.append(chunks);
    if (record) this.parts.tail.push(record, accepted);
    this.parts.meter.record(accepted, rejected.length, facts.receivedAt, quarantined.length);
    return { accepted, flagged, quarantined, rejected };
  }
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

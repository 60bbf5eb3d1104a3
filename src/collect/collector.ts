import { randomUUID } from 'node:crypto';
import type { WorkspaceConfig } from '../config/workspace-config.js';
import type { ContractSet } from '../contracts/contract-set.js';
import { isRefineryError, RefineryError } from '../core/errors.js';
import { isJsonObject } from '../core/json-object.js';
import type { PersonalFields } from '../privacy/vault/personal-fields.js';
import {
  holdsPersonalFields,
  messageSubject,
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
import type { BatchDefaults } from './batch-body.js';
import { applyIpPolicy } from './client-ip.js';
import type { IdentityObservations, ObservedMessage } from './identity-observations.js';
import type { IngestMeter } from './ingest-meter.js';
import { validateMessage } from './message-validation.js';
import { storedBody } from './stored-body.js';
import { SuppressionMemo } from './suppression-memo.js';
import type { TailBuffer } from './tail-buffer.js';
import type { UserAgentParser } from './user-agent.js';
import type { WriteAheadLog } from './wal/write-ahead-log.js';
import {
  toWellFormed,
  wellFormedCut,
  wellFormedViolations,
  withoutLoneSurrogateEscapes,
} from './well-formed-unicode.js';

export type { BatchDefaults } from './batch-body.js';

/** What the HTTP layer knows about a request, independent of Fastify. */
export interface RequestFacts {
  readonly receivedAt: number;
  readonly ip: string | null;
  readonly userAgent: string | null;
  readonly source: string;
  /** The size of the body as received (decompressed), in bytes. */
  readonly bodyBytes: number;
  /**
   * False when the body's JSON text held no `\uD…` escape, so no string in it can hold a lone surrogate and the
   * per-string check is skipped; absent or true, every string and key is checked.
   */
  readonly mayHoldLoneSurrogate?: boolean;
  /** Whether the request carried the Global Privacy Control signal (`Sec-GPC: 1`). */
  readonly gpc?: boolean;
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
const MAX_REJECT_ID = 512;
const MAX_REJECT_TYPE = 32;
const LINE_END = Buffer.from('}\n');

/**
 * Validates the messages of one request and makes them durable: the accepted ones as one write-ahead-log
 * line, each rejected one as a reject line with its reason. Resolves only once every line is on disk.
 *
 * What the log holds is exactly what was checked: the request line's body is the parsed messages serialised
 * again (see `storedBody`), never the bytes received, so a second JSON parser cannot read something else out of
 * them. Suppression, contracts, identity and consent all read the clear message; sealing comes last, and
 * sealed messages take their clear form's place.
 */
export class Collector {
  private readonly suppression: SuppressionMemo | undefined;

  constructor(
    private readonly config: WorkspaceConfig,
    private readonly parts: CollectorParts,
  ) {
    this.suppression = parts.privacy && new SuppressionMemo(parts.privacy.suppression);
  }

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
    const checkEachSize = facts.bodyBytes > limits.maxEventBytes;
    const checkUnicode = facts.mayHoldLoneSurrogate !== false;
    const batchSentAt = typeof defaults.sentAt === 'string' ? defaults.sentAt : undefined;
    const batchContext = isJsonObject(defaults.context) ? defaults.context : undefined;
    const inherited = { sentAt: batchSentAt, context: batchContext, checkUnicode };
    // Scanned once per request, not once per message that inherits it.
    const batchContextPersonal =
      privacy !== undefined &&
      batchContext !== undefined &&
      holdsPersonalFields({ context: batchContext }, privacy.fields);
    const batchContextSuppressed =
      privacy !== undefined &&
      batchContext !== undefined &&
      privacy.suppression.isSuppressed({ context: batchContext });
    const last: {
      ip: string | null | undefined;
      policyIp: string | null;
      userAgent: string | undefined;
      agent: number | undefined;
    } = { ip: undefined, policyIp: null, userAgent: undefined, agent: undefined };
    for (let index = 0; index < messages.length; index++) {
      const raw = messages[index];
      const path = impliedType ? 'body' : `batch[${index}]`;
      try {
        // Storage gives a message with no (or a null) context the batch's; the checks read it the same way.
        const inherits =
          batchContext !== undefined &&
          isJsonObject(raw) &&
          (raw.context === undefined || raw.context === null);
        // An erased person's ids arriving again: dropped before anything about the message is written.
        if (
          this.suppression &&
          isJsonObject(raw) &&
          ((inherits && batchContextSuppressed) || this.suppression.isSuppressed(raw))
        ) {
          skip.push(index);
          suppressed++;
          continue;
        }
        const message = validateMessage(raw, path, impliedType, limits.maxDepth, inherited);
        if (checkEachSize && message.sizeBound > limits.maxEventBytes)
          assertEventSize(raw, path, limits.maxEventBytes);
        const own = raw as Record<string, unknown>;
        const personal =
          privacy !== undefined &&
          ((inherits && batchContextPersonal) || holdsPersonalFields(own, privacy.fields));
        // Sealing needs a subject's key; a message with none would keep its personal values in clear.
        if (personal && messageSubject(own) === undefined) throw subjectlessPersonalData(path);
        if (message.extra) extraOf.push(index);
        const context = message.context;
        // The messages of one request mostly come from one client: the last IP and agent are tried first.
        const clientIp = typeof context?.ip === 'string' ? context.ip : facts.ip;
        if (clientIp !== last.ip) {
          last.ip = clientIp;
          last.policyIp = applyIpPolicy(clientIp, collect.ip);
        }
        ipOf[index] = last.policyIp;
        const userAgent = typeof context?.userAgent === 'string' ? context.userAgent : facts.userAgent;
        if (userAgent) {
          let position = userAgent === last.userAgent ? last.agent : agentIndex.get(userAgent);
          if (position === undefined) {
            position = agents.push(this.parts.userAgents.parse(userAgent)) - 1;
            agentIndex.set(userAgent, position);
          }
          last.userAgent = userAgent;
          last.agent = position;
          agentOf[index] = position;
        }
        let held = false;
        if (contracts) {
          const verdict = contracts.check(message, own);
          if (verdict.action !== 'accept') {
            const violations = wellFormedViolations(verdict.violations);
            const shared = {
              id: message.messageId ?? `${rid}-${index}`,
              received_at: receivedIso,
              source: facts.source,
              type: message.type,
              event: message.type === 'track' ? message.event : message.name,
              contract: verdict.contract,
              contract_version: verdict.contractVersion,
              violations,
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
                payload: heldPayload(own, batchSentAt, defaults, ipOf[index] ?? null),
                ip: ipOf[index] ?? null,
                ua: userAgent ?? null,
                agent: agent === null || agent === undefined ? null : (agents[agent] ?? null),
              };
              // Sealed below, once every message is checked.
              governanceLines.push(line);
              quarantined.push({ index, messageId: shared.id, contract: verdict.contract, violations });
            }
          }
        }
        // A held event is not stored, so it asserts nothing yet; a replay stores and observes it.
        if ((identity || consent) && !held) {
          const id = message.messageId ?? `${rid}-${index}`;
          const line = identity?.lineFor(message, id, facts.receivedAt);
          if (line) identityLines.push(line);
          const consentLine = consent?.lineFor(message, id, facts.receivedAt, facts.gpc === true);
          if (consentLine) identityLines.push(consentLine);
        }
        if (personal && !held) {
          toSeal.push(index);
          // Sealed with this message's own key, the batch context is stored with it (and left out of the batch).
          sealed[index] = inherits && batchContextPersonal ? { ...own, context: batchContext } : own;
        }
      } catch (error) {
        skip.push(index);
        const reject = rejectOf(raw, index, asRefineryError(error));
        rejected.push(reject);
        const line: RejectRecord = {
          k: 'r',
          received_at: receivedIso,
          source: facts.source,
          message_id: reject.messageId,
          type: typeOf(raw) ?? impliedType ?? null,
          reason_code: reject.code,
          reason: reject.message,
          field: reject.field,
          payload: excerpt(privacy ? redactPersonalFields(raw, privacy.fields) : raw),
        };
        rejectLines.push(`${JSON.stringify(line)}\n`);
      }
    }
    // Quarantined messages are in `skip` too: the request line stores only what passed.
    const accepted = messages.length - skip.length;
    if (privacy) {
      for (const index of toSeal) {
        const result = await protectMessage(
          sealed[index] as Record<string, unknown>,
          privacy.vault,
          privacy.fields,
        );
        sealed[index] = result.message;
      }
      for (let i = 0; i < governanceLines.length; i++) {
        const line = governanceLines[i]!;
        if (typeof line === 'string') continue;
        const { message: payload } = await protectMessage(line.payload, privacy.vault, privacy.fields);
        governanceLines[i] = `${JSON.stringify({ ...line, payload })}\n`;
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
      const body = storedBody(
        { messages, skip, replaced: sealed, batchContextCopied: batchContextPersonal },
        impliedType,
        defaults,
      );
      const head = JSON.stringify(header);
      // Three buffers, not one string: joining them first would copy the whole body once more on the heap.
      chunks.push(Buffer.from(`${head.slice(0, -1)},"body":`), Buffer.from(body.json), LINE_END);
      record = { ...header, body: body.value };
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

function lineText(line: string | QuarantineRecord): string {
  return typeof line === 'string' ? line : `${JSON.stringify(line)}\n`;
}

function subjectlessPersonalData(path: string): RefineryError {
  return new RefineryError(
    'REFINERY_ERR_MISSING_FIELD',
    `${path} holds personal fields but no userId or anonymousId that is not blank, so they cannot be sealed.`,
    { field: `${path}.userId` },
  );
}

/**
 * The message as a quarantine keeps it: batch-level fields applied (so a replay stores what storage would
 * have), the credential removed, and a client IP in the context replaced by what the IP policy allows.
 */
function heldPayload(
  raw: Record<string, unknown>,
  sentAt: string | undefined,
  defaults: BatchDefaults,
  policyIp: string | null,
): Record<string, unknown> {
  const message = { ...raw };
  delete message.writeKey;
  if ((message.sentAt === undefined || message.sentAt === null) && sentAt !== undefined)
    message.sentAt = sentAt;
  if ((message.context === undefined || message.context === null) && isJsonObject(defaults.context))
    message.context = defaults.context;
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

/**
 * A rejected message as the client is told and the reject line keeps it. Its id, field path and reason may
 * quote what was sent (cut to a size, or a key holding a lone surrogate), so each is made well-formed.
 */
function rejectOf(raw: unknown, index: number, reason: RefineryError): RejectedEvent {
  const id = isJsonObject(raw) ? raw.messageId : undefined;
  const field = reason.details.field;
  return {
    index,
    messageId: typeof id === 'string' ? wellFormedCut(id, MAX_REJECT_ID) : null,
    code: reason.code,
    message: toWellFormed(reason.message),
    field: typeof field === 'string' ? toWellFormed(field) : null,
  };
}

function typeOf(raw: unknown): string | undefined {
  const type = isJsonObject(raw) ? raw.type : undefined;
  return typeof type === 'string' ? wellFormedCut(type, MAX_REJECT_TYPE) : undefined;
}

function excerpt(raw: unknown): string {
  const text = withoutLoneSurrogateEscapes(
    safeStringify(raw) ?? '"(a value too deeply nested to serialise)"',
  );
  return text.length > MAX_REJECT_PAYLOAD ? `${wellFormedCut(text, MAX_REJECT_PAYLOAD)}…(truncated)` : text;
}

// JSON.stringify recurses; a hostile, very deep value can overflow the stack.
function safeStringify(value: unknown): string | undefined {
  try {
    return JSON.stringify(value) ?? 'null';
  } catch {
    return undefined;
  }
}

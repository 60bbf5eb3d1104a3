import { randomUUID } from 'node:crypto';
import type { WorkspaceConfig } from '../config/workspace-config.js';
import { isRefineryError, RefineryError } from '../core/errors.js';
import type { EventRecord, EventType, RejectRecord } from '../store/event-record.js';
import { applyIpPolicy } from './client-ip.js';
import type { IngestMeter } from './ingest-meter.js';
import { validateMessage } from './message-validation.js';
import type { ValidMessage } from './segment-message.js';
import type { TailBuffer } from './tail-buffer.js';
import { correctTimestamp } from './timestamps.js';
import type { UserAgentParser } from './user-agent.js';
import type { WriteAheadLog } from './wal/write-ahead-log.js';

/** What the HTTP layer knows about a request, independent of Fastify. */
export interface RequestFacts {
  readonly receivedAt: number;
  readonly ip: string | null;
  readonly userAgent: string | null;
  readonly source: string;
  /** Size of the request body in bytes, used to skip per-event size checks when the whole body is small. */
  readonly bodyBytes: number;
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

export interface AcceptReport {
  readonly accepted: number;
  readonly rejected: readonly RejectedEvent[];
}

const MAX_REJECT_PAYLOAD = 64 * 1024;

export interface CollectorParts {
  readonly wal: WriteAheadLog;
  readonly tail: TailBuffer;
  readonly meter: IngestMeter;
  readonly userAgents: UserAgentParser;
}

/**
 * Turns Segment messages into WAL records: validates each one, enriches the good ones, keeps the bad ones
 * as rejects with their reason, and resolves only when every line is durable in the write-ahead log.
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
    pathPrefix = 'batch',
  ): Promise<AcceptReport> {
    const { limits } = this.config;
    const receivedIso = new Date(facts.receivedAt).toISOString();
    const lines: string[] = [];
    const accepted: EventRecord[] = [];
    const rejected: RejectedEvent[] = [];
    // No event can be larger than the body that carried it, so small bodies skip the per-event check.
    const checkEachSize = facts.bodyBytes > limits.maxEventBytes;
    const batchSentAt = typeof defaults.sentAt === 'string' ? defaults.sentAt : undefined;
    for (let index = 0; index < messages.length; index++) {
      const raw = messages[index];
      const path = messages.length === 1 && impliedType ? 'body' : `${pathPrefix}[${index}]`;
      try {
        if (checkEachSize) assertEventSize(raw, path, limits.maxEventBytes);
        const message = validateMessage(
          withBatchDefaults(raw, batchSentAt, defaults),
          path,
          impliedType,
          limits.maxDepth,
        );
        const record = this.toRecord(message, facts, receivedIso);
        lines.push(`${JSON.stringify(record)}\n`);
        accepted.push(record);
      } catch (error) {
        const reason = asRefineryError(error);
        const messageId = messageIdOf(raw);
        rejected.push({
          index,
          messageId,
          code: reason.code,
          message: reason.message,
          field: reason.details.field ?? null,
        });
        const rejectRecord: RejectRecord = {
          k: 'r',
          received_at: receivedIso,
          source: facts.source,
          message_id: messageId,
          type: typeOf(raw) ?? impliedType ?? null,
          reason_code: reason.code,
          reason: reason.message,
          field: reason.details.field ?? null,
          payload: excerpt(raw),
        };
        lines.push(`${JSON.stringify(rejectRecord)}\n`);
      }
    }
    if (lines.length > 0) await this.parts.wal.append(lines.join(''));
    for (const record of accepted) this.parts.tail.push(record);
    this.parts.meter.record(accepted.length, rejected.length, facts.receivedAt);
    return { accepted: accepted.length, rejected };
  }

  private toRecord(message: ValidMessage, facts: RequestFacts, receivedIso: string): EventRecord {
    const policy = this.config.collect.ip;
    const context = message.context;
    const clientIp = typeof context?.ip === 'string' ? context.ip : facts.ip;
    const ip = applyIpPolicy(clientIp, policy);
    const userAgent = typeof context?.userAgent === 'string' ? context.userAgent : facts.userAgent;
    const agent = this.parts.userAgents.parse(userAgent);
    const timestamp = correctTimestamp(facts.receivedAt, message.timestamp, message.sentAt);
    return {
      k: 'e',
      message_id: message.messageId ?? randomUUID(),
      type: message.type,
      event: message.event,
      name: message.name,
      category: message.category,
      user_id: message.userId,
      anonymous_id: message.anonymousId,
      group_id: message.groupId,
      previous_id: message.previousId,
      timestamp: timestamp === facts.receivedAt ? receivedIso : toIso(timestamp),
      original_timestamp: message.timestamp === undefined ? null : toIso(message.timestamp),
      sent_at: message.sentAt === undefined ? null : toIso(message.sentAt),
      received_at: receivedIso,
      properties: message.properties,
      traits: message.traits,
      // The context keeps only the IP the policy allows, so a truncated address never survives beside it.
      context: context && policy !== 'full' && 'ip' in context ? { ...context, ip } : context,
      integrations: message.integrations,
      extra: message.extra,
      source: facts.source,
      ip,
      user_agent: userAgent,
      browser: agent.browser,
      browser_version: agent.browserVersion,
      os: agent.os,
      device_type: agent.deviceType,
    };
  }
}

// Events of one request often share their timestamps; formatting each distinct one once saves real time.
let lastIsoMillis = Number.NaN;
let lastIso = '';
function toIso(millis: number): string {
  if (millis !== lastIsoMillis) {
    lastIsoMillis = millis;
    lastIso = new Date(millis).toISOString();
  }
  return lastIso;
}

function withBatchDefaults(raw: unknown, sentAt: string | undefined, defaults: BatchDefaults): unknown {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  const message = raw as Record<string, unknown>;
  const needsSentAt = sentAt !== undefined && message.sentAt === undefined;
  const needsContext = defaults.context !== undefined && message.context === undefined;
  const needsIntegrations = defaults.integrations !== undefined && message.integrations === undefined;
  if (!needsSentAt && !needsContext && !needsIntegrations) return raw;
  return {
    ...message,
    ...(needsSentAt ? { sentAt } : {}),
    ...(needsContext ? { context: defaults.context } : {}),
    ...(needsIntegrations ? { integrations: defaults.integrations } : {}),
  };
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
  const id = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>).messageId : undefined;
  return typeof id === 'string' ? id.slice(0, 512) : null;
}

function typeOf(raw: unknown): string | undefined {
  const type = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>).type : undefined;
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

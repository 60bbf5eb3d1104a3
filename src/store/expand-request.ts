import { correctTimestamp, parseOptionalTime } from '../core/iso-time.js';
import { asJsonObject } from '../core/json-object.js';
import { type EventRecord, type EventType, extraFieldsOf, type RequestRecord } from './wal-format.js';

/**
 * The reference meaning of a WAL request line: the event rows it stands for. Engines that expand lines in
 * SQL must give the same rows; the parity test in `test/store-conformance/` holds them to it.
 */
export function expandRequestRecord(record: RequestRecord): EventRecord[] {
  const body = asJsonObject(record.body) ?? {};
  const single = record.implied_type !== null;
  const messages: unknown[] = single ? [body] : Array.isArray(body.batch) ? body.batch : [];
  const batchContext = single ? null : asJsonObject(body.context);
  const batchIntegrations = single ? null : asJsonObject(body.integrations);
  const batchSentAt = single ? undefined : asText(body.sentAt);
  const receivedAt = Date.parse(record.received_at);
  const skip = new Set(record.skip);
  const rows: EventRecord[] = [];
  for (let index = 0; index < messages.length; index++) {
    if (skip.has(index)) continue;
    const message = asJsonObject(messages[index]);
    if (!message) continue;
    const original = parseOptionalTime(message.timestamp ?? message.originalTimestamp);
    const sentAt = parseOptionalTime(message.sentAt ?? batchSentAt);
    const ip = record.ip_of[index] ?? null;
    const context = withIp(asJsonObject(message.context) ?? batchContext, ip);
    const userAgent = asText(context?.userAgent) ?? record.ua;
    const agentIndex = record.agent_of[index];
    const agent = agentIndex === null || agentIndex === undefined ? undefined : record.agents[agentIndex];
    const type = (asText(message.type) ?? record.implied_type) as EventType;
    rows.push({
      message_id: asId(message.messageId) ?? `${record.rid}-${index}`,
      type,
      event: asText(message.event),
      name: asText(message.name),
      category: asText(message.category),
      user_id: asId(message.userId),
      anonymous_id: asId(message.anonymousId),
      group_id: asId(message.groupId),
      previous_id: asId(message.previousId),
      timestamp: new Date(correctTimestamp(receivedAt, original, sentAt)).toISOString(),
      original_timestamp: original === undefined ? null : new Date(original).toISOString(),
      sent_at: sentAt === undefined ? null : new Date(sentAt).toISOString(),
      received_at: record.received_at,
      properties: asJsonObject(message.properties),
      // RudderStack's browser SDK sends identify traits only in context.traits.
      traits: asJsonObject(message.traits) ?? (type === 'identify' ? asJsonObject(context?.traits) : null),
      context,
      integrations: asJsonObject(message.integrations) ?? batchIntegrations,
      extra: extraFieldsOf(message),
      source: record.source,
      ip,
      user_agent: userAgent,
      browser: agent?.browser ?? null,
      browser_version: agent?.browser_version ?? null,
      os: agent?.os ?? null,
      device_type: agent?.device_type ?? null,
    });
  }
  return rows;
}

// The context keeps only the IP the policy allows: a dropped IP loses its key, a truncated one is replaced.
/** The context with its `ip` as the workspace's IP policy left it (removed when the policy drops IPs). */
export function withIp(
  context: Record<string, unknown> | null,
  ip: string | null,
): Record<string, unknown> | null {
  if (!context || !('ip' in context) || context.ip === ip) return context;
  const { ip: _original, ...rest } = context;
  return ip === null ? rest : { ...rest, ip };
}

function asText(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

// Segment accepts numeric ids and stores them as text; an empty id is no id.
function asId(value: unknown): string | null {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return typeof value === 'string' && value !== '' ? value : null;
}

import { asJsonObject } from '../../core/json-object.js';
import type {
  PersonActivity,
  PersonEvent,
  PersonEventKeys,
  PersonEventQuery,
  ProfileRepository,
  TraitMatch,
} from '../profile-types.js';
import type { ClickHouseConnection } from './clickhouse-connection.js';
import { finalRead, integer, quote } from './clickhouse-sql.js';
import { textOrNull } from './clickhouse-values.js';

/**
 * ClickHouse 18.16 has no JSON path functions; `visitParamExtract*` read a field by name from the stored JSON
 * text, which is how traits are compared here. They find the first field of that name at any depth, which for
 * the flat trait objects Segment sends is the top-level one.
 */
export class ClickHouseProfiles implements ProfileRepository {
  constructor(private readonly db: ClickHouseConnection) {}

  async activity(keys: PersonEventKeys): Promise<PersonActivity> {
    const [row] = await this.db.rows(
      `SELECT count() AS events, min(timestamp) AS first_seen, max(timestamp) AS last_seen
       FROM event_log FINAL WHERE ${ofPerson(keys)}`,
    );
    const events = Number(row?.events ?? 0);
    return {
      events,
      firstSeen: events > 0 ? String(row!.first_seen) : null,
      lastSeen: events > 0 ? String(row!.last_seen) : null,
    };
  }

  async events(keys: PersonEventKeys, query: PersonEventQuery): Promise<PersonEvent[]> {
    const where = [ofPerson(keys)];
    if (query.types) where.push(`type IN (${list(query.types)})`);
    if (query.events) where.push(`(type != 'track' OR ifNull(event, '') IN (${list(query.events)}))`);
    if (query.withTraits) {
      where.push(`(traits IS NOT NULL OR visitParamExtractRaw(ifNull(context, ''), 'traits') LIKE '{%')`);
    }
    const rows = await this.db.rows(
      `SELECT * FROM ${finalRead(
        'event_log',
        `message_id, type, event, name, user_id, anonymous_id, timestamp, source, properties, traits,
         visitParamExtractRaw(ifNull(context, ''), 'traits') AS context_traits`,
        where.join(' AND '),
      )}
       ORDER BY timestamp ${query.order === 'newest' ? 'DESC' : 'ASC'}, message_id
       LIMIT ${integer(query.limit)}`,
    );
    return rows.map((row) => ({
      messageId: String(row.message_id),
      type: String(row.type),
      event: textOrNull(row.event),
      name: textOrNull(row.name),
      userId: textOrNull(row.user_id),
      anonymousId: textOrNull(row.anonymous_id),
      timestamp: String(row.timestamp),
      source: String(row.source),
      properties: objectOf(row.properties),
      traits: objectOf(row.traits),
      contextTraits: objectOf(row.context_traits),
    }));
  }

  async findByTrait(trait: string, value: string, limit: number): Promise<TraitMatch[]> {
    const name = quote(trait);
    const rows = await this.db.rows(
      `SELECT user_id, anonymous_id FROM event_log FINAL
       WHERE visitParamExtractString(ifNull(traits, ''), ${name}) = ${quote(value)}
          OR visitParamExtractString(visitParamExtractRaw(ifNull(context, ''), 'traits'), ${name}) = ${quote(value)}
       GROUP BY user_id, anonymous_id ORDER BY max(timestamp) DESC LIMIT ${integer(limit)}`,
    );
    return rows.map((row) => ({
      userId: textOrNull(row.user_id),
      anonymousId: textOrNull(row.anonymous_id),
    }));
  }
}

// As the `events` view maps events to people: by user id, else by anonymous id.
function ofPerson(keys: PersonEventKeys): string {
  const parts: string[] = [];
  if (keys.userIds.length > 0) parts.push(`user_id IN (${list(keys.userIds)})`);
  if (keys.anonymousIds.length > 0) {
    parts.push(`(user_id IS NULL AND anonymous_id IN (${list(keys.anonymousIds)}))`);
  }
  return parts.length > 0 ? `(${parts.join(' OR ')})` : '0';
}

function list(values: readonly string[]): string {
  return values.length > 0 ? values.map((value) => quote(value)).join(', ') : 'NULL';
}

function objectOf(value: unknown): Record<string, unknown> | null {
  if (typeof value !== 'string' || value === '') return asJsonObject(value);
  try {
    return asJsonObject(JSON.parse(value));
  } catch {
    return null;
  }
}

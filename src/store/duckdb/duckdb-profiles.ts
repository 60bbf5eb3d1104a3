import { asJsonObject } from '../../core/json-object.js';
import type {
  PersonActivity,
  PersonEvent,
  PersonEventKeys,
  PersonEventQuery,
  ProfileRepository,
  TraitMatch,
} from '../profile-types.js';
import type { DuckDbSession, SqlParam } from './duckdb-session.js';
import { parseJsonColumn } from './duckdb-values.js';

// The person's events, as the `events` view maps them: by user id, else by anonymous id. $1/$2: JSON id lists.
const OF_PERSON = `(user_id IN (SELECT unnest(json_transform($1::JSON, '["VARCHAR"]')))
  OR (user_id IS NULL AND anonymous_id IN (SELECT unnest(json_transform($2::JSON, '["VARCHAR"]')))))`;

export class DuckDbProfiles implements ProfileRepository {
  constructor(private readonly reader: DuckDbSession) {}

  async activity(keys: PersonEventKeys): Promise<PersonActivity> {
    const rows = await this.reader.all<{
      events: number;
      first_seen: string | null;
      last_seen: string | null;
    }>(
      `SELECT count(*) AS events, min(timestamp) AS first_seen, max(timestamp) AS last_seen
       FROM event_log WHERE ${OF_PERSON}`,
      keyParams(keys),
    );
    const row = rows[0]!;
    return { events: row.events, firstSeen: row.first_seen, lastSeen: row.last_seen };
  }

  async events(keys: PersonEventKeys, query: PersonEventQuery): Promise<PersonEvent[]> {
    const params: SqlParam[] = [...keyParams(keys)];
    const where = [OF_PERSON];
    if (query.types) {
      params.push(JSON.stringify(query.types));
      where.push(`type IN (SELECT unnest(json_transform($${params.length}::JSON, '["VARCHAR"]')))`);
    }
    if (query.events) {
      params.push(JSON.stringify(query.events));
      where.push(
        `(type <> 'track' OR event IN (SELECT unnest(json_transform($${params.length}::JSON, '["VARCHAR"]'))))`,
      );
    }
    if (query.withTraits) where.push(`(traits IS NOT NULL OR json_type(context, '$.traits') = 'OBJECT')`);
    params.push(query.limit);
    const rows = await this.reader.all<Record<string, unknown>>(
      `SELECT message_id, type, event, name, user_id, anonymous_id, timestamp, source, properties, traits,
              json_extract(context, '$.traits') AS context_traits
       FROM event_log WHERE ${where.join(' AND ')}
       ORDER BY timestamp ${query.order === 'newest' ? 'DESC' : 'ASC'}, message_id
       LIMIT $${params.length}`,
      params,
    );
    return rows.map((row) => ({
      messageId: String(row.message_id),
      type: String(row.type),
      event: (row.event as string | null) ?? null,
      name: (row.name as string | null) ?? null,
      userId: (row.user_id as string | null) ?? null,
      anonymousId: (row.anonymous_id as string | null) ?? null,
      timestamp: String(row.timestamp),
      source: String(row.source),
      properties: asJsonObject(parseJsonColumn(row.properties)),
      traits: asJsonObject(parseJsonColumn(row.traits)),
      contextTraits: asJsonObject(parseJsonColumn(row.context_traits)),
    }));
  }

  async findByTrait(trait: string, value: string, limit: number): Promise<TraitMatch[]> {
    const path = `$."${trait.replaceAll('"', '')}"`;
    const rows = await this.reader.all<{ user_id: string | null; anonymous_id: string | null }>(
      `SELECT user_id, anonymous_id FROM event_log
       WHERE (json_extract_string(traits, $1) = $2 OR json_extract_string(context, '$.traits.' || $3) = $2)
       GROUP BY user_id, anonymous_id ORDER BY max(timestamp) DESC LIMIT $4`,
      [path, value, `"${trait.replaceAll('"', '')}"`, limit],
    );
    return rows.map((row) => ({ userId: row.user_id, anonymousId: row.anonymous_id }));
  }
}

function keyParams(keys: PersonEventKeys): [string, string] {
  return [JSON.stringify(keys.userIds), JSON.stringify(keys.anonymousIds)];
}

import { SPEC_KEYS } from '../wal-format.js';

/**
 * DuckDB's expansion of write-ahead-log segments into event rows, done in SQL so the engine's own JSON
 * reader does the work. It must give exactly the rows `expandRequestRecord` gives (the parity test checks).
 * Each body is parsed once, straight into typed structs: per-field JSON extraction would re-parse a
 * message for every column and costs several times more.
 */

// Columns of a WAL line as DuckDB's NDJSON reader should type them (request lines and reject lines).
const WAL_LINE_COLUMNS = `{
  k: 'VARCHAR', rid: 'VARCHAR', received_at: 'TIMESTAMPTZ', source: 'VARCHAR', implied_type: 'VARCHAR',
  ua: 'VARCHAR', ip_of: 'VARCHAR[]', agent_of: 'INTEGER[]',
  agents: 'STRUCT(browser VARCHAR, browser_version VARCHAR, os VARCHAR, device_type VARCHAR)[]',
  skip: 'INTEGER[]', extra_of: 'INTEGER[]', body: 'JSON',
  message_id: 'VARCHAR', type: 'VARCHAR', reason_code: 'VARCHAR', reason: 'VARCHAR', field: 'VARCHAR', payload: 'JSON',
  id: 'VARCHAR', event: 'VARCHAR', contract: 'VARCHAR', contract_version: 'VARCHAR', violations: 'JSON',
  ip: 'VARCHAR', agent: 'JSON', ids: 'VARCHAR[]', status: 'VARCHAR', "at": 'TIMESTAMPTZ', "by": 'VARCHAR',
  consent: 'STRUCT(purpose VARCHAR, granted BOOLEAN, source VARCHAR, category VARCHAR, "at" TIMESTAMPTZ)[]',
  unknown: 'VARCHAR[]'
}`;

/** Reads a segment file ($1) into the temp table `wal_lines`. */
export const READ_SEGMENT_SQL = `CREATE OR REPLACE TEMP TABLE wal_lines AS
  SELECT * FROM read_ndjson($1, columns = ${WAL_LINE_COLUMNS}, format = 'newline_delimited',
    maximum_object_size = 33554432)`;

// The typed shape of one message; numbers in id fields come out as their text, JSON null as NULL.
const MESSAGE_SHAPE = {
  messageId: 'VARCHAR',
  type: 'VARCHAR',
  event: 'VARCHAR',
  name: 'VARCHAR',
  category: 'VARCHAR',
  userId: 'VARCHAR',
  anonymousId: 'VARCHAR',
  groupId: 'VARCHAR',
  previousId: 'VARCHAR',
  timestamp: 'VARCHAR',
  originalTimestamp: 'VARCHAR',
  sentAt: 'VARCHAR',
  properties: 'JSON',
  traits: 'JSON',
  context: 'JSON',
  integrations: 'JSON',
};
const BATCH_SHAPE = JSON.stringify({
  batch: [MESSAGE_SHAPE],
  sentAt: 'VARCHAR',
  context: 'JSON',
  integrations: 'JSON',
});
const SINGLE_SHAPE = JSON.stringify(MESSAGE_SHAPE);

// Spec keys removed from a message to leave its `extra` fields (a JSON merge patch deletes null members).
const SPEC_KEYS_PATCH = JSON.stringify(Object.fromEntries([...SPEC_KEYS].map((key) => [key, null])));

const objectOrNull = (json: string) => `CASE WHEN json_type(${json}) = 'OBJECT' THEN ${json} END`;
const timeOrNull = (text: string) => `TRY_CAST(nullif(${text}, '') AS TIMESTAMPTZ)`;

/**
 * Expands `wal_lines` into `wal_events`: one row per accepted message with every `event_log` column but
 * `load_seq`, plus its index in the request.
 */
export const EXPAND_SEGMENT_SQL = `CREATE OR REPLACE TEMP TABLE wal_events AS
WITH parsed AS (
  SELECT rid, received_at, source, implied_type, ua, ip_of, agent_of, agents, skip, extra_of, body,
    CASE WHEN implied_type IS NULL THEN json_transform(body, '${BATCH_SHAPE}') END AS batch_body,
    CASE WHEN implied_type IS NOT NULL THEN json_transform(body, '${SINGLE_SHAPE}') END AS single_body
  FROM wal_lines WHERE k = 'q'
),
requests AS (
  SELECT * EXCLUDE (single_body),
    CASE WHEN implied_type IS NULL THEN struct_extract(batch_body, 'batch') ELSE [single_body] END AS messages
  FROM parsed
),
messages AS (
  SELECT * EXCLUDE (messages), unnest(messages) AS m, unnest(range(0::BIGINT, len(messages)::BIGINT)) AS idx
  FROM requests
),
resolved AS (
  SELECT *,
    ${timeOrNull('coalesce(m.timestamp, m.originalTimestamp)')} AS original,
    ${timeOrNull("coalesce(m.sentAt, struct_extract(batch_body, 'sentAt'))")} AS sent,
    coalesce(${objectOrNull('m.context')}, ${objectOrNull("struct_extract(batch_body, 'context')")}) AS ctx,
    ip_of[idx + 1] AS client_ip,
    agents[agent_of[idx + 1] + 1] AS agent
  FROM messages
  WHERE m IS NOT NULL AND NOT list_contains(coalesce(skip, []), idx::INTEGER)
)
SELECT
  coalesce(nullif(m.messageId, ''), rid || '-' || idx) AS message_id,
  coalesce(m.type, implied_type) AS "type",
  m.event AS "event",
  m.name AS "name",
  m.category AS category,
  nullif(m.userId, '') AS user_id,
  nullif(m.anonymousId, '') AS anonymous_id,
  nullif(m.groupId, '') AS group_id,
  nullif(m.previousId, '') AS previous_id,
  CASE WHEN original IS NULL THEN received_at WHEN sent IS NULL THEN original
       ELSE received_at - (sent - original) END AS "timestamp",
  original AS original_timestamp,
  sent AS sent_at,
  received_at,
  ${objectOrNull('m.properties')} AS properties,
  -- RudderStack's browser SDK sends identify traits only in context.traits.
  coalesce(${objectOrNull('m.traits')},
    CASE WHEN coalesce(m.type, implied_type) = 'identify' THEN ${objectOrNull("ctx -> 'traits'")} END) AS traits,
  CASE WHEN ctx IS NULL OR json_type(ctx, '$.ip') IS NULL OR (ctx ->> 'ip') IS NOT DISTINCT FROM client_ip THEN ctx
       ELSE json_merge_patch(ctx, json_object('ip', client_ip)) END AS context,
  coalesce(${objectOrNull('m.integrations')}, ${objectOrNull("struct_extract(batch_body, 'integrations')")}) AS integrations,
  CASE WHEN list_contains(coalesce(extra_of, []), idx::INTEGER) THEN
    json_merge_patch(CASE WHEN implied_type IS NULL THEN json_extract(body, '$.batch[' || idx || ']') ELSE body END,
      '${SPEC_KEYS_PATCH}') END AS extra,
  source,
  client_ip AS ip,
  coalesce(CASE WHEN json_type(ctx, '$.userAgent') = 'VARCHAR' THEN ctx ->> 'userAgent' END, ua) AS user_agent,
  agent.browser AS browser,
  agent.browser_version AS browser_version,
  agent.os AS os,
  agent.device_type AS device_type,
  idx
FROM resolved`;

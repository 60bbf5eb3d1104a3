import type { DuckDBConnection } from '@duckdb/node-api';
import type { Identifier } from '../../identity/identity-rules.js';
import { CONSENT_FLAG_COLUMNS, NO_CONSENT_FLAGS } from '../consent-types.js';
import {
  type IdentityChanges,
  type IdentityCursors,
  type IdentityObservationRow,
  type IdentityRepository,
  identifierKey,
  parseIdentifierKey,
  refusalKey,
  type StoredIdentityGraph,
  type StoredMerge,
  type StoredPerson,
  type StoredRefusal,
} from '../identity-types.js';
import { makeChangesPhysical } from './duckdb-privacy.js';
import { type DuckDbSession, readOn, rowsOf, runOn } from './duckdb-session.js';

const PERSON_SHAPE = JSON.stringify([
  { person_id: 'VARCHAR', seq: 'BIGINT', first_seen_at: 'TIMESTAMPTZ', merged_into: 'VARCHAR' },
]);
const LINK_SHAPE = JSON.stringify([
  {
    identifier: 'VARCHAR',
    identifier_type: 'VARCHAR',
    identifier_value: 'VARCHAR',
    person_id: 'VARCHAR',
    consent_analytics: 'BOOLEAN',
    consent_personalisation: 'BOOLEAN',
    consent_advertising: 'BOOLEAN',
    consent_sale_sharing: 'BOOLEAN',
  },
]);
const LINK_COLUMNS = `identifier, identifier_type, identifier_value, person_id, ${CONSENT_FLAG_COLUMNS.join(', ')}`;
const MERGE_SHAPE = JSON.stringify([
  {
    from_id: 'VARCHAR',
    into_id: 'VARCHAR',
    via_type: 'VARCHAR',
    via_value: 'VARCHAR',
    at: 'TIMESTAMPTZ',
    message_id: 'VARCHAR',
  },
]);
const REFUSAL_SHAPE = JSON.stringify([
  {
    refusal_key: 'VARCHAR',
    reason: 'VARCHAR',
    identifier_type: 'VARCHAR',
    identifier_value: 'VARCHAR',
    held_by: 'VARCHAR',
    person_id: 'VARCHAR',
    limit_type: 'VARCHAR',
    limit_value: 'BIGINT',
    would_hold: 'BIGINT',
    count: 'BIGINT',
    first_at: 'TIMESTAMPTZ',
    first_message_id: 'VARCHAR',
    last_at: 'TIMESTAMPTZ',
    last_message_id: 'VARCHAR',
  },
]);

/** Rows handed to DuckDB as one JSON parameter and unnested in SQL: one statement however many rows. */
const rowsFrom = (shape: string, param = '$1') =>
  `(SELECT unnest(json_transform(${param}::JSON, '${shape}'), recursive := true))`;

export class DuckDbIdentity implements IdentityRepository {
  constructor(
    private readonly writer: DuckDbSession,
    private readonly reader: DuckDbSession,
  ) {}

  async observationsAfter(cursors: IdentityCursors, limit: number): Promise<IdentityObservationRow[]> {
    const rows = await this.reader.all<{
      stream: string;
      load_seq: number;
      message_id: string;
      at: string;
      identifiers: string[];
    }>(
      `SELECT o.stream, o.load_seq, o.message_id, o."at", o.identifiers
       FROM identity_observation_log o
       LEFT JOIN (SELECT unnest(json_transform($1::JSON, '[{"stream":"VARCHAR","seq":"BIGINT"}]'), recursive := true)) c
         ON c.stream = o.stream
       WHERE o.load_seq > coalesce(c.seq, 0)
       ORDER BY o.load_seq, o.stream, o.line_no
       LIMIT $2`,
      [JSON.stringify([...cursors].map(([stream, seq]) => ({ stream, seq }))), limit],
    );
    return rows.map((row) => ({
      stream: row.stream,
      loadSeq: row.load_seq,
      messageId: row.message_id,
      at: row.at,
      identifiers: row.identifiers.map(parseIdentifierKey),
    }));
  }

  async readGraph(): Promise<StoredIdentityGraph> {
    const [persons, links, merges, refusals, cursors] = await Promise.all([
      this.reader.all<{ person_id: string; seq: number; first_seen_at: string; merged_into: string | null }>(
        'SELECT person_id, seq, first_seen_at, merged_into FROM identity_persons ORDER BY seq',
      ),
      this.reader.all<{ identifier_type: string; identifier_value: string; person_id: string }>(
        'SELECT identifier_type, identifier_value, person_id FROM identity_links',
      ),
      this.reader.all<MergeRow>(`SELECT ${MERGE_COLUMNS} FROM identity_merge_log ORDER BY "at", version`),
      this.reader.all<RefusalRow>(`SELECT ${REFUSAL_COLUMNS} FROM identity_refusal_log ORDER BY first_at`),
      this.reader.all<{ stream: string; load_seq: number }>('SELECT stream, load_seq FROM identity_cursors'),
    ]);
    const version = await this.reader.all<{ v: number | null }>(
      'SELECT max(version) AS v FROM identity_persons',
    );
    const identifiersOf = new Map<string, Identifier[]>();
    for (const link of links) {
      const list = identifiersOf.get(link.person_id) ?? [];
      list.push({ type: link.identifier_type, value: link.identifier_value });
      identifiersOf.set(link.person_id, list);
    }
    return {
      version: version[0]?.v ?? 0,
      persons: persons.map((row) => ({
        personId: row.person_id,
        seq: row.seq,
        firstSeenAt: row.first_seen_at,
        mergedInto: row.merged_into,
        identifiers: row.merged_into ? [] : (identifiersOf.get(row.person_id) ?? []),
      })),
      merges: merges.map(mergeOf),
      refusals: refusals.map(refusalOf),
      cursors: new Map(cursors.map((row) => [row.stream, row.load_seq])),
    };
  }

  saveChanges(changes: IdentityChanges): Promise<void> {
    return this.writer.exclusive(async (c) => {
      await runOn(c, 'BEGIN TRANSACTION');
      try {
        if (changes.persons.length > 0) {
          const persons = JSON.stringify(
            changes.persons.map((person) => ({
              person_id: person.personId,
              seq: person.seq,
              first_seen_at: person.firstSeenAt,
              merged_into: person.mergedInto,
            })),
          );
          await runOn(
            c,
            `DELETE FROM identity_persons WHERE person_id IN (SELECT person_id FROM ${rowsFrom(PERSON_SHAPE)})`,
            [persons],
          );
          await runOn(
            c,
            `INSERT INTO identity_persons SELECT person_id, seq, first_seen_at, merged_into, $2
             FROM ${rowsFrom(PERSON_SHAPE)}`,
            [persons, changes.version],
          );
          const links = JSON.stringify(
            changes.persons.flatMap((person) =>
              person.identifiers.map((identifier) => {
                const flags = person.consent ?? NO_CONSENT_FLAGS;
                return {
                  identifier: identifierKey(identifier),
                  identifier_type: identifier.type,
                  identifier_value: identifier.value,
                  person_id: person.personId,
                  consent_analytics: flags.analytics,
                  consent_personalisation: flags.personalisation,
                  consent_advertising: flags.advertising,
                  consent_sale_sharing: flags.sale_sharing,
                };
              }),
            ),
          );
          // A merged-away person's links moved to the survivor, which is among the changed persons too.
          await runOn(
            c,
            `DELETE FROM identity_links WHERE person_id IN (SELECT person_id FROM ${rowsFrom(PERSON_SHAPE)})
               OR identifier IN (SELECT identifier FROM ${rowsFrom(LINK_SHAPE, '$2')})`,
            [persons, links],
          );
          await runOn(
            c,
            `INSERT INTO identity_links (${LINK_COLUMNS}, version) SELECT ${LINK_COLUMNS}, $2
             FROM ${rowsFrom(LINK_SHAPE)}`,
            [links, changes.version],
          );
        }
        if (changes.merges.length > 0) {
          await runOn(
            c,
            `INSERT INTO identity_merge_log SELECT from_id, into_id, via_type, via_value, "at", message_id, $2
             FROM ${rowsFrom(MERGE_SHAPE)}`,
            [
              JSON.stringify(
                changes.merges.map((merge) => ({
                  from_id: merge.from,
                  into_id: merge.into,
                  via_type: merge.via.type,
                  via_value: merge.via.value,
                  at: merge.at,
                  message_id: merge.messageId,
                })),
              ),
              changes.version,
            ],
          );
        }
        if (changes.refusals.length > 0) {
          const refusals = JSON.stringify(changes.refusals.map(refusalRowOf));
          await runOn(
            c,
            `DELETE FROM identity_refusal_log
             WHERE refusal_key IN (SELECT refusal_key FROM ${rowsFrom(REFUSAL_SHAPE)})`,
            [refusals],
          );
          await runOn(
            c,
            `INSERT INTO identity_refusal_log SELECT ${REFUSAL_INSERT_COLUMNS}, $2 FROM ${rowsFrom(REFUSAL_SHAPE)}`,
            [refusals, changes.version],
          );
        }
        for (const [stream, seq] of changes.cursors) {
          await runOn(c, 'DELETE FROM identity_cursors WHERE stream = $1', [stream]);
          await runOn(c, 'INSERT INTO identity_cursors VALUES ($1, $2)', [stream, seq]);
        }
        await runOn(c, 'COMMIT');
      } catch (error) {
        await runOn(c, 'ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
  }

  async personOf(identifier: Identifier): Promise<string | undefined> {
    const rows = await this.reader.all<{ person_id: string }>(
      'SELECT person_id FROM identity_links WHERE identifier = $1 LIMIT 1',
      [identifierKey(identifier)],
    );
    return rows[0]?.person_id;
  }

  async person(personId: string): Promise<StoredPerson | undefined> {
    // Follow merges to the live person; chains are short, and a cycle cannot occur (merges go one way).
    let id = personId;
    for (let hop = 0; hop < 64; hop++) {
      const rows = await this.reader.all<{
        person_id: string;
        seq: number;
        first_seen_at: string;
        merged_into: string | null;
      }>('SELECT person_id, seq, first_seen_at, merged_into FROM identity_persons WHERE person_id = $1', [
        id,
      ]);
      const row = rows[0];
      if (!row) return undefined;
      if (row.merged_into) {
        id = row.merged_into;
        continue;
      }
      const links = await this.reader.all<{ identifier_type: string; identifier_value: string }>(
        `SELECT identifier_type, identifier_value FROM identity_links WHERE person_id = $1
         ORDER BY identifier_type, identifier_value`,
        [id],
      );
      return {
        personId: row.person_id,
        seq: row.seq,
        firstSeenAt: row.first_seen_at,
        mergedInto: null,
        identifiers: links.map((link) => ({ type: link.identifier_type, value: link.identifier_value })),
      };
    }
    return undefined;
  }

  async personsHolding(identifiers: readonly Identifier[]): Promise<string[]> {
    if (identifiers.length === 0) return [];
    const rows = await this.reader.all<{ person_id: string }>(
      `SELECT DISTINCT person_id FROM identity_links
       WHERE identifier IN (SELECT unnest(json_transform($1::JSON, '["VARCHAR"]')))
       ORDER BY person_id`,
      [JSON.stringify(identifiers.map(identifierKey))],
    );
    return rows.map((row) => row.person_id);
  }

  async summary(): Promise<{ persons: number; identifiers: number; merges: number; refusals: number }> {
    const rows = await this.reader.all<{
      persons: number;
      identifiers: number;
      merges: number;
      refusals: number;
    }>(
      `SELECT (SELECT count(*) FROM identity_persons WHERE merged_into IS NULL) AS persons,
              (SELECT count(*) FROM identity_links) AS identifiers,
              (SELECT count(*) FROM identity_merge_log) AS merges,
              (SELECT coalesce(sum(count), 0) FROM identity_refusal_log) AS refusals`,
    );
    return rows[0]!;
  }

  upgradeLegacyIdentifiers(upgrade: (identifier: Identifier) => Identifier): Promise<number> {
    return this.writer.exclusive(async (c) => {
      const legacy = rowsOf<{ type: string; value: string }>(await readOn(c, LEGACY_IDENTIFIERS));
      const mapping = legacy.flatMap((identifier) => {
        const upgraded = upgrade(identifier);
        return upgraded.value === identifier.value
          ? []
          : [{ type: identifier.type, legacy: identifier.value, keyed: upgraded.value }];
      });
      if (mapping.length === 0) return 0;
      let changed = 0;
      await runOn(c, 'BEGIN TRANSACTION');
      try {
        for (let start = 0; start < mapping.length; start += UPGRADE_CHUNK) {
          const chunk = JSON.stringify(mapping.slice(start, start + UPGRADE_CHUNK));
          for (const statement of UPGRADE_STATEMENTS) changed += await runOn(c, statement, [chunk]);
        }
        await runOn(c, 'COMMIT');
      } catch (error) {
        await runOn(c, 'ROLLBACK').catch(() => undefined);
        throw error;
      }
      // The old values must not stay readable in the file's free blocks.
      await makeChangesPhysical(c, true);
      return changed;
    });
  }

  async recentRefusals(limit: number): Promise<StoredRefusal[]> {
    const rows = await this.reader.all<RefusalRow>(
      `SELECT ${REFUSAL_COLUMNS} FROM identity_refusal_log ORDER BY last_at DESC LIMIT $1`,
      [limit],
    );
    return rows.map(refusalOf);
  }
}

/** An email or phone as stored before hashes were keyed: the bare SHA-256 hex of the normalised value. */
const IS_LEGACY = (type: string, value: string) =>
  `${type} IN ('email', 'phone') AND regexp_full_match(${value}, '[0-9a-f]{64}')`;

/** Every legacy identifier any identity table or observation holds, once. */
const LEGACY_IDENTIFIERS = `SELECT DISTINCT type, value FROM (
    SELECT identifier_type AS type, identifier_value AS value FROM identity_links
    UNION ALL SELECT via_type, via_value FROM identity_merge_log
    UNION ALL SELECT identifier_type, identifier_value FROM identity_refusal_log
    UNION ALL SELECT split_part(k, ':', 1), substr(k, strpos(k, ':') + 1)
      FROM (SELECT unnest(identifiers) AS k FROM identity_observation_log)
  ) WHERE ${IS_LEGACY('type', 'value')}`;

const UPGRADE_CHUNK = 20_000;
/** The mapping ($1: type, legacy value, keyed value) as rows. */
const MAPPING = `(SELECT unnest(json_transform($1::JSON, '[{"type":"VARCHAR","legacy":"VARCHAR","keyed":"VARCHAR"}]'), recursive := true))`;
/** The same mapping as a MAP of identifier keys, for rewriting observation lists in place. */
const KEY_MAP = `(SELECT map_from_entries(list(struct_pack(k := type || ':' || legacy, v := type || ':' || keyed))) AS keys
  FROM ${MAPPING})`;

const UPGRADE_STATEMENTS: readonly string[] = [
  `UPDATE identity_links SET identifier = m.type || ':' || m.keyed, identifier_value = m.keyed FROM ${MAPPING} m
   WHERE identity_links.identifier_type = m.type AND identity_links.identifier_value = m.legacy`,
  `UPDATE identity_merge_log SET via_value = m.keyed FROM ${MAPPING} m
   WHERE identity_merge_log.via_type = m.type AND identity_merge_log.via_value = m.legacy`,
  // The refusal key names the identifier as `type:value` (see refusalKey).
  `UPDATE identity_refusal_log
   SET identifier_value = m.keyed, refusal_key = replace(refusal_key, m.type || ':' || m.legacy, m.type || ':' || m.keyed)
   FROM ${MAPPING} m
   WHERE identity_refusal_log.identifier_type = m.type AND identity_refusal_log.identifier_value = m.legacy`,
  `UPDATE identity_observation_log SET identifiers = list_transform(identifiers, x -> coalesce(u.keys[x], x))
   FROM ${KEY_MAP} u WHERE list_has_any(identity_observation_log.identifiers, map_keys(u.keys))`,
];

/** Writes the observations of the segment in `wal_lines` inside the loader's transaction. */
export async function loadIdentityLines(
  c: DuckDBConnection,
  stream: string,
  sequence: number,
): Promise<void> {
  await runOn(
    c,
    `INSERT INTO identity_observation_log
     SELECT $1, $2, row_number() OVER (), id, "at", ids FROM wal_lines WHERE k = 'i'`,
    [stream, sequence],
  );
}

interface MergeRow {
  from_id: string;
  into_id: string;
  via_type: string;
  via_value: string;
  at: string;
  message_id: string | null;
}

const MERGE_COLUMNS = 'from_id, into_id, via_type, via_value, "at", message_id';

function mergeOf(row: MergeRow): StoredMerge {
  return {
    from: row.from_id,
    into: row.into_id,
    via: { type: row.via_type, value: row.via_value },
    at: row.at,
    messageId: row.message_id,
  };
}

interface RefusalRow {
  reason: 'limit' | 'link_disabled';
  identifier_type: string;
  identifier_value: string;
  held_by: string | null;
  person_id: string;
  limit_type: string | null;
  limit_value: number | null;
  would_hold: number | null;
  count: number;
  first_at: string;
  first_message_id: string | null;
  last_at: string;
  last_message_id: string | null;
}

const REFUSAL_COLUMNS = `reason, identifier_type, identifier_value, held_by, person_id, limit_type, limit_value,
  would_hold, count, first_at, first_message_id, last_at, last_message_id`;
const REFUSAL_INSERT_COLUMNS = `refusal_key, ${REFUSAL_COLUMNS}`;

function refusalOf(row: RefusalRow): StoredRefusal {
  return {
    reason: row.reason,
    identifier: { type: row.identifier_type, value: row.identifier_value },
    heldBy: row.held_by,
    personId: row.person_id,
    limitType: row.limit_type,
    limit: row.limit_value,
    wouldHold: row.would_hold,
    count: row.count,
    firstAt: row.first_at,
    firstMessageId: row.first_message_id,
    lastAt: row.last_at,
    lastMessageId: row.last_message_id,
  };
}

function refusalRowOf(refusal: StoredRefusal): RefusalRow & { refusal_key: string } {
  return {
    refusal_key: refusalKey(refusal),
    reason: refusal.reason,
    identifier_type: refusal.identifier.type,
    identifier_value: refusal.identifier.value,
    held_by: refusal.heldBy,
    person_id: refusal.personId,
    limit_type: refusal.limitType,
    limit_value: refusal.limit,
    would_hold: refusal.wouldHold,
    count: refusal.count,
    first_at: refusal.firstAt,
    first_message_id: refusal.firstMessageId,
    last_at: refusal.lastAt,
    last_message_id: refusal.lastMessageId,
  };
}

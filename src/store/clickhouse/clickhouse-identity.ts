import type { Identifier } from '../../identity/identity-rules.js';
import { NO_CONSENT_FLAGS } from '../consent-types.js';
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
import type { ClickHouseConnection } from './clickhouse-connection.js';
import { chunked } from './clickhouse-events.js';
import { hasRows, mutateOnEveryNode } from './clickhouse-privacy.js';
import { finalRead, integer, quote } from './clickhouse-sql.js';
import { textOrNull } from './clickhouse-values.js';

/**
 * Every read of these tables goes through FINAL, and ClickHouse may move a WHERE condition to PREWHERE, which
 * runs before FINAL has picked a key's newest version (a tombstone would then reveal the link it hides).
 */
const FINAL_READ = { optimize_move_to_prewhere: 0 } as const;
// Reads that sort or limit keep FINAL in a subquery without ORDER BY or LIMIT (see `finalRead`): on a Distributed
// table ClickHouse 18.16 otherwise fails with "Cannot find column version in source stream".

// Rows as the tables hold them. Types, not interfaces, so they pass as plain records to `insert`.
type PersonRow = {
  readonly person_id: string;
  readonly seq: number;
  readonly first_seen_ms: number;
  readonly merged_into: string | null;
  readonly version: number;
};
type LinkRow = {
  readonly identifier: string;
  readonly identifier_type: string;
  readonly identifier_value: string;
  readonly person_id: string;
  readonly deleted: 0 | 1;
  readonly version: number;
  /** The person's consent per purpose: 1, 0, or null for no decision. */
  readonly consent_analytics?: 0 | 1 | null;
  readonly consent_personalisation?: 0 | 1 | null;
  readonly consent_advertising?: 0 | 1 | null;
  readonly consent_sale_sharing?: 0 | 1 | null;
};

function flagValue(flag: boolean | null): 0 | 1 | null {
  return flag === null ? null : flag ? 1 : 0;
}
type MergeRow = {
  readonly from_id: string;
  readonly into_id: string;
  readonly via_type: string;
  readonly via_value: string;
  readonly at_ms: number;
  readonly message_id: string | null;
  /** Position in its save, so merges of one moment keep their order. */
  readonly ordinal: number;
  readonly version: number;
};
type RefusalRow = {
  readonly refusal_key: string;
  readonly reason: StoredRefusal['reason'];
  readonly identifier_type: string;
  readonly identifier_value: string;
  readonly held_by: string | null;
  readonly person_id: string;
  readonly limit_type: string | null;
  readonly limit_value: number | null;
  readonly would_hold: number | null;
  readonly count: number;
  readonly first_at_ms: number;
  readonly first_message_id: string | null;
  readonly last_at_ms: number;
  readonly last_message_id: string | null;
  readonly version: number;
};
type CursorRow = { readonly stream: string; readonly load_seq: number; readonly version: number };

/** Everything one save writes, as rows: recorded whole in `identity_change_log` before it is applied. */
interface PendingSave {
  readonly version: number;
  readonly persons: readonly PersonRow[];
  readonly links: readonly LinkRow[];
  readonly merges: readonly MergeRow[];
  readonly refusals: readonly RefusalRow[];
  readonly cursors: readonly CursorRow[];
}

/**
 * The identity graph's persistence on ClickHouse: ReplacingMergeTree tables keyed by person, identifier, merged
 * person, refusal and stream, where a save writes newer versions (a link that goes away gets a tombstone).
 *
 * There are no transactions, and a half-written save cannot simply be re-done from the old state: a background
 * merge may already have dropped the versions the new rows replace. So a save is a redo record: all its rows go
 * into `identity_change_log` in one single-row insert (the moment it counts as saved), are then applied to the
 * tables (cursors last), and an applied marker replaces the record. A save interrupted after its record is
 * finished by the next `readGraph` or `saveChanges`, re-inserting the same rows at the same version; one
 * interrupted before it left nothing behind, and resolution re-reads from the old cursors.
 */
export class ClickHouseIdentity implements IdentityRepository {
  constructor(private readonly db: ClickHouseConnection) {}

  async observationsAfter(cursors: IdentityCursors, limit: number): Promise<IdentityObservationRow[]> {
    // Conditions on the sorting key only, so FINAL is exact and the primary index narrows the read.
    const named = [...cursors];
    const after = named.map(([stream, seq]) => `(stream = ${quote(stream)} AND load_seq > ${integer(seq)})`);
    if (named.length > 0) after.push(`stream NOT IN (${named.map(([stream]) => quote(stream)).join(', ')})`);
    const rows = await this.rows(
      `SELECT stream, load_seq, message_id, at_ms, identifiers
       FROM ${finalRead(
         'identity_observation_log',
         'stream, load_seq, line_no, message_id, at_ms, identifiers',
         after.length > 0 ? after.join(' OR ') : undefined,
       )}
       ORDER BY load_seq, stream, line_no
       LIMIT ${integer(limit)}`,
    );
    return rows.map((row) => ({
      stream: String(row.stream),
      loadSeq: Number(row.load_seq),
      messageId: String(row.message_id),
      at: isoOf(row.at_ms),
      identifiers: (row.identifiers as string[]).map(parseIdentifierKey),
    }));
  }

  async readGraph(): Promise<StoredIdentityGraph> {
    await this.finishPendingSaves();
    const [persons, links, merges, refusals, cursors, version] = await Promise.all([
      this.rows(
        `SELECT person_id, seq, first_seen_ms, merged_into FROM (SELECT * FROM identity_persons FINAL)
         ORDER BY seq, person_id`,
      ),
      this.rows(
        `SELECT identifier_type, identifier_value, person_id
         FROM (SELECT * FROM identity_links FINAL)
         WHERE deleted = 0`,
      ),
      this.rows(
        `SELECT ${MERGE_COLUMNS} FROM (SELECT * FROM identity_merge_log FINAL) ORDER BY at_ms, version, ordinal`,
      ),
      this.rows(
        `SELECT ${REFUSAL_COLUMNS} FROM (SELECT * FROM identity_refusal_log FINAL) ORDER BY first_at_ms, refusal_key`,
      ),
      this.rows('SELECT stream, load_seq FROM (SELECT * FROM identity_cursors FINAL)'),
      // Every table, not only the change log: rows copied in by `refinery migrate` carry their versions too.
      this.rows(
        `SELECT max(v) AS v FROM (${VERSIONED_TABLES.map((table) => `SELECT max(version) AS v FROM ${table}`).join(' UNION ALL ')})`,
      ),
    ]);
    const identifiersOf = new Map<string, Identifier[]>();
    for (const link of links) {
      const personId = String(link.person_id);
      const list = identifiersOf.get(personId) ?? [];
      list.push({ type: String(link.identifier_type), value: String(link.identifier_value) });
      identifiersOf.set(personId, list);
    }
    return {
      version: Number(version[0]?.v ?? 0),
      persons: persons.map((row) => {
        const person = storedPersonOf(row);
        return person.mergedInto
          ? person
          : { ...person, identifiers: identifiersOf.get(person.personId) ?? [] };
      }),
      merges: merges.map(mergeOf),
      refusals: refusals.map(refusalOf),
      cursors: new Map(cursors.map((row) => [String(row.stream), Number(row.load_seq)])),
    };
  }

  async saveChanges(changes: IdentityChanges): Promise<void> {
    // A save left half-applied must not end up behind this newer one.
    await this.finishPendingSaves();
    const save = await this.pendingSaveOf(changes);
    await this.db.insert('identity_change_log', [
      { version: save.version, changes: JSON.stringify(save), applied: 0 },
    ]);
    await this.apply(save);
  }

  async personOf(identifier: Identifier): Promise<string | undefined> {
    const rows = await this.rows(
      `SELECT person_id, deleted FROM identity_links FINAL WHERE identifier = ${quote(identifierKey(identifier))}`,
    );
    const row = rows[0];
    return row && Number(row.deleted) === 0 ? String(row.person_id) : undefined;
  }

  async person(personId: string): Promise<StoredPerson | undefined> {
    // Follow merges to the live person; chains are short, and a cycle cannot occur (merges go one way).
    let id = personId;
    for (let hop = 0; hop < 64; hop++) {
      const rows = await this.rows(
        `SELECT person_id, seq, first_seen_ms, merged_into FROM identity_persons FINAL
         WHERE person_id = ${quote(id)}`,
      );
      const row = rows[0];
      if (!row) return undefined;
      const person = storedPersonOf(row);
      if (person.mergedInto) {
        id = person.mergedInto;
        continue;
      }
      const links = await this.liveLinksOf([id]);
      const identifiers = links
        .map((link) => ({ type: link.identifier_type, value: link.identifier_value }))
        .sort((a, b) => compare(a.type, b.type) || compare(a.value, b.value));
      return { ...person, identifiers };
    }
    return undefined;
  }

  async personsHolding(identifiers: readonly Identifier[]): Promise<string[]> {
    const found = new Set<string>();
    for (const keys of chunked(identifiers.map(identifierKey))) {
      const rows = await this.rows(
        `SELECT DISTINCT person_id
         FROM (SELECT person_id, deleted FROM identity_links FINAL WHERE identifier IN (${keys.map(quote).join(', ')}))
         WHERE deleted = 0`,
      );
      for (const row of rows) found.add(String(row.person_id));
    }
    return [...found].sort(compare);
  }

  async summary(): Promise<{ persons: number; identifiers: number; merges: number; refusals: number }> {
    const rows = await this.rows(
      `SELECT
         (SELECT count() FROM (SELECT merged_into FROM identity_persons FINAL) WHERE isNull(merged_into)) AS persons,
         (SELECT count() FROM (SELECT deleted FROM identity_links FINAL) WHERE deleted = 0) AS identifiers,
         (SELECT count() FROM (SELECT * FROM identity_merge_log FINAL)) AS merges,
         (SELECT sum(count) FROM (SELECT * FROM identity_refusal_log FINAL)) AS refusals`,
    );
    const row = rows[0] ?? {};
    return {
      persons: Number(row.persons ?? 0),
      identifiers: Number(row.identifiers ?? 0),
      merges: Number(row.merges ?? 0),
      refusals: Number(row.refusals ?? 0),
    };
  }

  async recentRefusals(limit: number): Promise<StoredRefusal[]> {
    const rows = await this.rows(
      `SELECT ${REFUSAL_COLUMNS} FROM (SELECT * FROM identity_refusal_log FINAL)
       ORDER BY last_at_ms DESC, refusal_key LIMIT ${integer(limit)}`,
    );
    return rows.map(refusalOf);
  }

  async upgradeLegacyIdentifiers(upgrade: (identifier: Identifier) => Identifier): Promise<number> {
    // A save recorded with plain values and finished later would put them back.
    await this.finishPendingSaves();
    const keyed = (type: unknown, value: unknown) =>
      upgrade({ type: String(type), value: String(value) }).value;
    const read = (sql: string) => this.db.rows(sql, FINAL_READ);
    // Each table: copies of the newest rows with keyed values, then a mutation removing every row (any version)
    // that still holds a plain value. Mutation texts name a pattern, never a value.
    const links = await read(
      `SELECT * FROM (SELECT * FROM identity_links FINAL) WHERE deleted = 0 AND ${LEGACY_LINK}`,
    );
    await this.db.insert(
      'identity_links',
      links.map((row) => {
        const value = keyed(row.identifier_type, row.identifier_value);
        return { ...row, identifier: `${row.identifier_type}:${value}`, identifier_value: value };
      }),
    );
    const merges = await read(`SELECT * FROM (SELECT * FROM identity_merge_log FINAL) WHERE ${LEGACY_MERGE}`);
    await this.db.insert(
      'identity_merge_log',
      merges.map((row) => ({ ...row, via_value: keyed(row.via_type, row.via_value) })),
    );
    const refusals = await read(
      `SELECT * FROM (SELECT * FROM identity_refusal_log FINAL) WHERE ${LEGACY_LINK}`,
    );
    await this.db.insert(
      'identity_refusal_log',
      refusals.map((row) => {
        const identifier = {
          type: String(row.identifier_type),
          value: keyed(row.identifier_type, row.identifier_value),
        };
        return {
          ...row,
          identifier_value: identifier.value,
          refusal_key: refusalKey({ ...refusalOf(row), identifier }),
        };
      }),
    );
    const observations = await read(`SELECT * FROM identity_observation_log WHERE ${LEGACY_OBSERVATION}`);
    await this.db.insert(
      'identity_observation_log',
      observations.map((row) => ({
        ...row,
        identifiers: (row.identifiers as string[]).map((key) => {
          const identifier = parseIdentifierKey(key);
          return identifierKey({ type: identifier.type, value: keyed(identifier.type, identifier.value) });
        }),
      })),
    );
    let removed = false;
    for (const [table, where] of [
      ['identity_links', LEGACY_LINK],
      ['identity_merge_log', LEGACY_MERGE],
      ['identity_refusal_log', LEGACY_LINK],
      ['identity_observation_log', LEGACY_OBSERVATION],
    ] as const) {
      if (!(await hasRows(this.db, table, where))) continue;
      await mutateOnEveryNode(this.db, table, `DELETE WHERE ${where}`);
      removed = true;
    }
    // Applied saves keep their recorded rows until merged into their applied marker.
    if (removed) {
      const changeLog = this.db.cluster ? 'identity_change_log_local' : 'identity_change_log';
      await this.db.onEveryNode(`OPTIMIZE TABLE ${changeLog} FINAL`);
    }
    return links.length + merges.length + refusals.length + observations.length;
  }

  /** The rows a save writes, tombstones included: links the changed persons hold now but no longer will. */
  private async pendingSaveOf(changes: IdentityChanges): Promise<PendingSave> {
    const { version } = changes;
    const links: LinkRow[] = changes.persons.flatMap((person) => {
      const flags = person.consent ?? NO_CONSENT_FLAGS;
      return person.identifiers.map((identifier) => ({
        identifier: identifierKey(identifier),
        identifier_type: identifier.type,
        identifier_value: identifier.value,
        person_id: person.personId,
        deleted: 0 as const,
        version,
        consent_analytics: flagValue(flags.analytics),
        consent_personalisation: flagValue(flags.personalisation),
        consent_advertising: flagValue(flags.advertising),
        consent_sale_sharing: flagValue(flags.sale_sharing),
      }));
    });
    const kept = new Set(links.map((link) => link.identifier));
    const held = await this.liveLinksOf(changes.persons.map((person) => person.personId));
    for (const link of held) {
      if (!kept.has(link.identifier)) links.push({ ...link, deleted: 1, version });
    }
    return {
      version,
      persons: changes.persons.map((person) => ({
        person_id: person.personId,
        seq: person.seq,
        first_seen_ms: msOf(person.firstSeenAt),
        merged_into: person.mergedInto,
        version,
      })),
      links,
      merges: changes.merges.map((merge, ordinal) => ({
        from_id: merge.from,
        into_id: merge.into,
        via_type: merge.via.type,
        via_value: merge.via.value,
        at_ms: msOf(merge.at),
        message_id: merge.messageId,
        ordinal,
        version,
      })),
      refusals: changes.refusals.map((refusal) => ({
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
        first_at_ms: msOf(refusal.firstAt),
        first_message_id: refusal.firstMessageId,
        last_at_ms: msOf(refusal.lastAt),
        last_message_id: refusal.lastMessageId,
        version,
      })),
      cursors: [...changes.cursors].map(([stream, seq]) => ({ stream, load_seq: seq, version })),
    };
  }

  /** Writes a recorded save into the tables, cursors last, then marks it applied. Safe to run twice. */
  private async apply(save: PendingSave): Promise<void> {
    await this.db.insert('identity_persons', save.persons);
    await this.db.insert('identity_links', save.links);
    await this.db.insert('identity_merge_log', save.merges);
    await this.db.insert('identity_refusal_log', save.refusals);
    await this.db.insert('identity_cursors', save.cursors);
    await this.db.insert('identity_change_log', [{ version: save.version, changes: '', applied: 1 }]);
  }

  /** Applies saves recorded but not marked applied (the process stopped, or an insert failed, half-way). */
  private async finishPendingSaves(): Promise<void> {
    const pending = await this.rows(
      'SELECT version FROM identity_change_log GROUP BY version HAVING max(applied) = 0 ORDER BY version',
    );
    for (const { version } of pending) {
      const record = await this.rows(
        `SELECT changes FROM identity_change_log WHERE version = ${integer(Number(version))} AND applied = 0 LIMIT 1`,
      );
      const changes = record[0]?.changes;
      if (typeof changes === 'string' && changes !== '') await this.apply(JSON.parse(changes) as PendingSave);
    }
  }

  /** The links the given persons hold now (latest version, not a tombstone). */
  private async liveLinksOf(personIds: readonly string[]): Promise<LinkRow[]> {
    const links: LinkRow[] = [];
    for (const ids of chunked([...new Set(personIds)])) {
      const list = ids.map(quote).join(', ');
      // The identifiers ever linked to these persons (any version), then their newest version: the sorting
      // key narrows FINAL's read, and the newest version decides whether the link is still theirs.
      const rows = await this.rows(
        `SELECT identifier, identifier_type, identifier_value, person_id, version
         FROM (
           SELECT identifier, identifier_type, identifier_value, person_id, deleted, version
           FROM identity_links FINAL
           WHERE identifier GLOBAL IN (SELECT identifier FROM identity_links WHERE person_id IN (${list}))
         )
         WHERE deleted = 0 AND person_id IN (${list})`,
      );
      for (const row of rows) {
        links.push({
          identifier: String(row.identifier),
          identifier_type: String(row.identifier_type),
          identifier_value: String(row.identifier_value),
          person_id: String(row.person_id),
          deleted: 0,
          version: Number(row.version),
        });
      }
    }
    return links;
  }

  private async rows(sql: string): Promise<Record<string, unknown>[]> {
    return (await this.db.json(sql, FINAL_READ)).data;
  }
}

/** An email or phone as stored before hashes were keyed: the bare SHA-256 hex of the normalised value. */
const isLegacy = (type: string, value: string) =>
  `${type} IN ('email', 'phone') AND match(${value}, '^[0-9a-f]{64}$')`;
const LEGACY_LINK = isLegacy('identifier_type', 'identifier_value');
const LEGACY_MERGE = isLegacy('via_type', 'via_value');
const LEGACY_OBSERVATION = "arrayExists(x -> match(x, '^(email|phone):[0-9a-f]{64}$'), identifiers)";

const VERSIONED_TABLES = [
  'identity_persons',
  'identity_links',
  'identity_merge_log',
  'identity_refusal_log',
  'identity_cursors',
  'identity_change_log',
] as const;

const MERGE_COLUMNS = 'from_id, into_id, via_type, via_value, at_ms, message_id';

const REFUSAL_COLUMNS = `reason, identifier_type, identifier_value, held_by, person_id, limit_type, limit_value,
  would_hold, count, first_at_ms, first_message_id, last_at_ms, last_message_id`;

/** Epoch milliseconds for the Int64 time columns (18.16 has no DateTime64). */
function msOf(iso: string): number {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new RangeError(`not an ISO 8601 time: ${iso}`);
  return ms;
}

/** Int64 arrives as a JSON string; times leave as ISO 8601 UTC with milliseconds, as DuckDB's do. */
function isoOf(value: unknown): string {
  return new Date(Number(value)).toISOString();
}

function numberOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function storedPersonOf(row: Record<string, unknown>): StoredPerson {
  return {
    personId: String(row.person_id),
    seq: Number(row.seq),
    firstSeenAt: isoOf(row.first_seen_ms),
    mergedInto: textOrNull(row.merged_into),
    identifiers: [],
  };
}

function mergeOf(row: Record<string, unknown>): StoredMerge {
  return {
    from: String(row.from_id),
    into: String(row.into_id),
    via: { type: String(row.via_type), value: String(row.via_value) },
    at: isoOf(row.at_ms),
    messageId: textOrNull(row.message_id),
  };
}

function refusalOf(row: Record<string, unknown>): StoredRefusal {
  return {
    reason: String(row.reason) as StoredRefusal['reason'],
    identifier: { type: String(row.identifier_type), value: String(row.identifier_value) },
    heldBy: textOrNull(row.held_by),
    personId: String(row.person_id),
    limitType: textOrNull(row.limit_type),
    limit: numberOrNull(row.limit_value),
    wouldHold: numberOrNull(row.would_hold),
    count: Number(row.count),
    firstAt: isoOf(row.first_at_ms),
    firstMessageId: textOrNull(row.first_message_id),
    lastAt: isoOf(row.last_at_ms),
    lastMessageId: textOrNull(row.last_message_id),
  };
}

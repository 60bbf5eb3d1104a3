import type { DuckDBConnection } from '@duckdb/node-api';
import { damagedLineMentions, damagedLineNeedles } from '../damaged-line-erasure.js';
import type { Migration } from '../migration.js';
import type {
  ErasureReport,
  ErasureTarget,
  PersonRecords,
  PrivacyRepository,
  PrivacyRequestRow,
  PrivacyRequestStatus,
} from '../privacy-types.js';
import { type DuckDbSession, readOn, rowsOf, runOn, type SqlParam } from './duckdb-session.js';
import { parseJsonColumn } from './duckdb-values.js';

export const PRIVACY_MIGRATION: Migration = {
  // Data-subject requests. The subject is kept as hashes of the identifiers the request named plus a masked
  // display form, so a request outlives the erasure it asks for without holding the ids it erased.
  id: '008-privacy-requests',
  statements: [
    `CREATE TABLE privacy_requests (
      id VARCHAR NOT NULL, kind VARCHAR NOT NULL, subject VARCHAR NOT NULL, subject_hashes VARCHAR[] NOT NULL,
      person_id VARCHAR, purpose VARCHAR, status VARCHAR NOT NULL, received_at TIMESTAMPTZ NOT NULL,
      due_at TIMESTAMPTZ NOT NULL, completed_at TIMESTAMPTZ, actor VARCHAR NOT NULL, result JSON
    )`,
  ],
};

const COLUMNS = `id, kind, subject, subject_hashes, person_id, purpose, status, received_at, due_at, completed_at,
  actor, result`;

/** A JSON list parameter as a VARCHAR list in SQL. */
const list = (param: string) => `(SELECT unnest(json_transform(${param}::JSON, '["VARCHAR"]')))`;
const listValue = (param: string) => `json_transform(${param}::JSON, '["VARCHAR"]')`;
/** True when the text holds one of the needles ($6): ids inside raw payloads. */
const mentions = (text: string) =>
  `coalesce(len([n FOR n IN ${listValue('$6')} IF contains(ifnull(${text}, ''), n)]), 0) > 0`;

/**
 * Import rows of the person: their user id as the customer id, the keyed hash kept beside a sealed email (an
 * order line known only by its email), or an email an older import stored in clear.
 */
const IMPORT_MATCH = `customer_id IN ${list('$1')} OR email_hash IN ${list('$8')}
  OR sha256(lower(trim(email))) IN ${list('$7')}`;

/** Tables an erasure may delete from, and how a row of each names the person. $1…$9: see `targetParams`. */
const ERASE_STATEMENTS: readonly { table: string; where: string }[] = [
  {
    table: 'event_log',
    where: `user_id IN ${list('$1')} OR anonymous_id IN ${list('$2')} OR previous_id IN ${list('$3')}
      OR message_id IN (SELECT message_id FROM erase_messages)`,
  },
  { table: 'rejected_events', where: `${mentions('payload')}` },
  { table: 'quarantine_log', where: 'id IN (SELECT message_id FROM erase_messages)' },
  { table: 'contract_violation_log', where: 'message_id IN (SELECT message_id FROM erase_messages)' },
  { table: 'identity_observation_log', where: `list_has_any(identifiers, ${listValue('$4')})` },
  { table: 'identity_links', where: `identifier IN ${list('$4')} OR person_id IN ${list('$5')}` },
  { table: 'identity_persons', where: `person_id IN ${list('$5')} OR merged_into IN ${list('$5')}` },
  { table: 'identity_merge_log', where: `from_id IN ${list('$5')} OR into_id IN ${list('$5')}` },
  {
    table: 'identity_refusal_log',
    where: `person_id IN ${list('$5')} OR held_by IN ${list('$5')}
      OR identifier_type || ':' || identifier_value IN ${list('$4')}`,
  },
  { table: 'customer_data', where: IMPORT_MATCH },
  { table: 'order_line_data', where: IMPORT_MATCH },
  { table: 'wal_damaged_lines', where: `id IN ${list('$9')}` },
  { table: 'import_reject_log', where: `${mentions('"row"')}` },
  { table: 'consent_log', where: `identifier IN ${list('$4')}` },
];

/** `damagedIds`: the set-aside log lines that name the person (matched in this process, see `damagedLineNeedles`). */
function targetParams(target: ErasureTarget, damagedIds: readonly string[] = []): SqlParam[] {
  return [
    JSON.stringify(target.userIds),
    JSON.stringify(target.anonymousIds),
    JSON.stringify([...target.userIds, ...target.anonymousIds]),
    JSON.stringify(target.identifierKeys),
    JSON.stringify(target.personIds),
    JSON.stringify(target.needles.filter((needle) => needle.length > 0)),
    JSON.stringify(target.emailDigests),
    JSON.stringify(target.emailHashes),
    JSON.stringify(damagedIds),
  ];
}

/** Only the parameters a statement names, renumbered in order (DuckDB refuses unused parameters). */
function bind(sql: string, params: readonly SqlParam[]): { sql: string; params: SqlParam[] } {
  const used = [...new Set([...sql.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])))].sort((a, b) => a - b);
  const renumbered = sql.replace(/\$(\d+)/g, (_, n: string) => `$${used.indexOf(Number(n)) + 1}`);
  return { sql: renumbered, params: used.map((n) => params[n - 1] ?? null) };
}

export class DuckDbPrivacy implements PrivacyRepository {
  constructor(
    private readonly writer: DuckDbSession,
    private readonly reader: DuckDbSession,
  ) {}

  async insert(row: PrivacyRequestRow): Promise<void> {
    await this.writer.run(
      `INSERT INTO privacy_requests (${COLUMNS}) VALUES
       ($1, $2, $3, ${listValue('$4')}, $5, $6, $7, $8::TIMESTAMPTZ, $9::TIMESTAMPTZ, $10::TIMESTAMPTZ, $11, $12::JSON)`,
      rowParams(row),
    );
  }

  async update(row: PrivacyRequestRow): Promise<void> {
    await this.writer.run(
      `UPDATE privacy_requests SET person_id = $2, status = $3, completed_at = $4::TIMESTAMPTZ, result = $5::JSON
       WHERE id = $1`,
      [
        row.id,
        row.personId,
        row.status,
        row.completedAt,
        row.result === null ? null : JSON.stringify(row.result),
      ],
    );
  }

  async get(id: string): Promise<PrivacyRequestRow | undefined> {
    const rows = await this.reader.all(`SELECT ${COLUMNS} FROM privacy_requests WHERE id = $1`, [id]);
    return rows[0] ? requestOf(rows[0]) : undefined;
  }

  async list(options: { status?: PrivacyRequestStatus; limit: number }): Promise<PrivacyRequestRow[]> {
    const rows = await this.reader.all(
      `SELECT ${COLUMNS} FROM privacy_requests WHERE ($1::VARCHAR IS NULL OR status = $1)
       ORDER BY status <> 'open', CASE WHEN status = 'open' THEN due_at END, received_at DESC, id
       LIMIT $2`,
      [options.status ?? null, options.limit],
    );
    return rows.map(requestOf);
  }

  async listBySubject(hashes: readonly string[]): Promise<PrivacyRequestRow[]> {
    const rows = await this.reader.all(
      `SELECT ${COLUMNS} FROM privacy_requests WHERE list_has_any(subject_hashes, ${listValue('$1')})
       ORDER BY received_at, id`,
      [JSON.stringify(hashes)],
    );
    return rows.map(requestOf);
  }

  async personRecords(target: ErasureTarget): Promise<PersonRecords> {
    const params = targetParams(target);
    const read = async (sql: string) => {
      const bound = bind(sql, params);
      return this.reader.all(bound.sql, bound.params);
    };
    const quarantined = await read(
      `SELECT id, received_at, source, type, event, contract, status, status_at, violations, payload
       FROM quarantine_log WHERE ${mentions('payload::VARCHAR')}
       ORDER BY received_at, id`,
    );
    const merges = await read(
      `SELECT from_id AS merged_person_id, into_id AS person_id, via_type, via_value, "at", message_id
       FROM identity_merge_log WHERE from_id IN ${list('$5')} OR into_id IN ${list('$5')} ORDER BY "at"`,
    );
    const consents = (await this.hasTable('consent_log'))
      ? await read(`SELECT * FROM consent_log WHERE identifier IN ${list('$4')}`)
      : [];
    const customers = await read(
      `SELECT * EXCLUDE (extra), extra FROM customer_data WHERE ${IMPORT_MATCH} ORDER BY customer_id`,
    );
    const orders = await read(
      `SELECT * FROM order_line_data WHERE ${IMPORT_MATCH} ORDER BY ordered_at, order_id, line_number`,
    );
    return {
      quarantined: quarantined.map((row) => ({
        ...row,
        violations: parseJsonColumn(row.violations),
        payload: parseJsonColumn(row.payload),
      })),
      merges,
      consents,
      customers,
      orders,
    };
  }

  erase(target: ErasureTarget): Promise<ErasureReport> {
    return this.writer.exclusive(async (c) => {
      const deleted = await this.deleteRows(c, target);
      const physical = await makeChangesPhysical(c, Object.keys(deleted).length > 0);
      return { deleted, physical: { engine: 'duckdb', ...physical } };
    });
  }

  upgradeLegacySubjectHashes(upgrade: (hash: string) => string): Promise<number> {
    return this.writer.exclusive(async (c) => {
      const rows = rowsOf<{ id: string; subject_hashes: string[] }>(
        await readOn(
          c,
          `SELECT id, subject_hashes FROM privacy_requests
           WHERE len(list_filter(subject_hashes, h -> regexp_full_match(h, '[0-9a-f]{64}'))) > 0`,
        ),
      );
      if (rows.length === 0) return 0;
      const upgraded = rows.map((row) => ({
        id: row.id,
        hashes: row.subject_hashes.map((hash) => (/^[0-9a-f]{64}$/.test(hash) ? upgrade(hash) : hash)),
      }));
      const changed = await runOn(
        c,
        `UPDATE privacy_requests SET subject_hashes = u.hashes
         FROM (SELECT unnest(json_transform($1::JSON, '[{"id":"VARCHAR","hashes":["VARCHAR"]}]'), recursive := true)) u
         WHERE privacy_requests.id = u.id`,
        [JSON.stringify(upgraded)],
      );
      // The plain hashes must not stay readable in the file's free blocks.
      await makeChangesPhysical(c, true);
      return changed;
    });
  }

  /** One transaction: every row about the person goes, or none does. */
  private async deleteRows(c: DuckDBConnection, target: ErasureTarget): Promise<Record<string, number>> {
    const tables = new Set(
      rowsOf<{ name: string }>(
        await readOn(c, "SELECT table_name AS name FROM duckdb_tables() WHERE schema_name = 'main'"),
      ).map((row) => row.name),
    );
    const params = targetParams(
      target,
      tables.has('wal_damaged_lines') ? await damagedLinesOf(c, target) : [],
    );
    const deleted: Record<string, number> = {};
    await runOn(c, 'BEGIN TRANSACTION');
    try {
      // The messages whose violations and held copies go too: the person's events and held events.
      const messages = bind(
        `CREATE OR REPLACE TEMP TABLE erase_messages AS
         SELECT message_id FROM event_log
         WHERE user_id IN ${list('$1')} OR anonymous_id IN ${list('$2')} OR previous_id IN ${list('$3')}
         UNION SELECT id FROM quarantine_log
         WHERE ${mentions('payload::VARCHAR')}`,
        params,
      );
      await runOn(c, messages.sql, messages.params);
      for (const statement of ERASE_STATEMENTS) {
        if (!tables.has(statement.table)) continue;
        const bound = bind(`DELETE FROM ${statement.table} WHERE ${statement.where}`, params);
        const n = await runOn(c, bound.sql, bound.params);
        if (n > 0) deleted[statement.table] = n;
      }
      await runOn(c, 'DROP TABLE erase_messages');
      await runOn(c, 'COMMIT');
    } catch (error) {
      await runOn(c, 'ROLLBACK').catch(() => undefined);
      throw error;
    }
    return deleted;
  }

  private async hasTable(name: string): Promise<boolean> {
    const rows = await this.reader.all(
      "SELECT 1 FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = $1",
      [name],
    );
    return rows.length > 0;
  }
}

/** Ids of the set-aside log lines whose bytes name the person (a handful at most: lines are set aside rarely). */
async function damagedLinesOf(c: DuckDBConnection, target: ErasureTarget): Promise<string[]> {
  const needles = damagedLineNeedles(target);
  if (needles.length === 0) return [];
  const rows = rowsOf<{ id: string; raw: string }>(await readOn(c, 'SELECT id, raw FROM wal_damaged_lines'));
  return rows.filter((row) => damagedLineMentions(row.raw, needles)).map((row) => row.id);
}

/**
 * Makes deleted and overwritten values unrecoverable from the database file: when `changed`, every table is
 * rewritten (a checkpoint packs small segments of different tables into shared blocks, so a block holding an old
 * value can stay in use by another table's live segment), then the file is checkpointed and its free blocks are
 * overwritten. For erasures and for rewrites of values that must not linger (plain hashes replaced by keyed ones).
 */
export async function makeChangesPhysical(
  c: DuckDBConnection,
  changed: boolean,
): Promise<{ rewrittenTables: string[]; overwrittenBlocks: number }> {
  const rewrittenTables = changed ? await allTables(c) : [];
  await rewriteTables(c, rewrittenTables);
  await checkpoint(c);
  const overwrittenBlocks = await overwriteFreeBlocks(c);
  return { rewrittenTables, overwrittenBlocks };
}

async function allTables(c: DuckDBConnection): Promise<string[]> {
  const rows = rowsOf<{ name: string }>(
    await readOn(
      c,
      "SELECT table_name AS name FROM duckdb_tables() WHERE schema_name = 'main' AND NOT temporary ORDER BY table_name",
    ),
  );
  return rows
    .map((row) => row.name)
    .filter((name) => /^[a-z_][a-z0-9_]*$/.test(name) && !name.endsWith('__erase'));
}

/**
 * DuckDB marks deleted rows in their row group and keeps writing the row group, deleted values included, and
 * small segments of different tables share blocks. So every table is rebuilt (one transaction): created anew
 * from its own definition, filled with its surviving rows, the old one dropped and the new one renamed. After
 * the checkpoint no block of the old tables is in use, and the free blocks are overwritten next.
 */
async function rewriteTables(c: DuckDBConnection, tables: readonly string[]): Promise<void> {
  if (tables.length === 0) return;
  await runOn(c, 'BEGIN TRANSACTION');
  try {
    for (const table of tables) {
      const definition = rowsOf<{ sql: string }>(
        await readOn(c, "SELECT sql FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = $1", [
          table,
        ]),
      )[0]?.sql;
      const head = new RegExp(`^CREATE TABLE ("?)${table}\\1\\s*\\(`, 'i');
      if (!definition || !head.test(definition)) throw new Error(`cannot read the definition of ${table}`);
      const copy = `${table}__erase`;
      await runOn(c, definition.replace(head, `CREATE TABLE ${copy}(`));
      await runOn(c, `INSERT INTO ${copy} SELECT * FROM ${table}`);
      await runOn(c, `DROP TABLE ${table}`);
      await runOn(c, `ALTER TABLE ${copy} RENAME TO ${table}`);
    }
    await runOn(c, 'COMMIT');
  } catch (error) {
    await runOn(c, 'ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** A checkpoint, retried while another connection's write transaction holds it off. */
async function checkpoint(c: DuckDBConnection): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await runOn(c, 'CHECKPOINT');
      return;
    } catch (error) {
      if (attempt >= 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/**
 * Free blocks keep whatever they held: DuckDB does not zero them. Fills them with random bytes (a scratch table
 * sized to the free space, checkpointed, then dropped) and returns how many blocks were overwritten.
 */
async function overwriteFreeBlocks(c: DuckDBConnection): Promise<number> {
  const freeBlocks = async () =>
    rowsOf<{ free: number; size: number }>(
      await readOn(c, 'SELECT free_blocks AS free, block_size AS size FROM pragma_database_size()'),
    )[0];
  const first = await freeBlocks();
  if (!first || first.free === 0) return 0;
  await runOn(c, 'CREATE OR REPLACE TABLE erase_filler (b VARCHAR)');
  let state = first;
  for (let round = 0; round < 6 && state.free > 0; round++) {
    // 64 random hex characters a row; twice the free space, since the engine may compress some of it.
    const rows = Math.ceil((state.free * state.size * 2) / 64) + 1024;
    await runOn(c, `INSERT INTO erase_filler SELECT sha256(random()::VARCHAR || range) FROM range(${rows})`);
    await checkpoint(c);
    state = (await freeBlocks()) ?? { free: 0, size: state.size };
  }
  await runOn(c, 'DROP TABLE erase_filler');
  await checkpoint(c);
  return first.free;
}

function rowParams(row: PrivacyRequestRow): SqlParam[] {
  return [
    row.id,
    row.kind,
    row.subject,
    JSON.stringify(row.subjectHashes),
    row.personId,
    row.purpose,
    row.status,
    row.receivedAt,
    row.dueAt,
    row.completedAt,
    row.actor,
    row.result === null ? null : JSON.stringify(row.result),
  ];
}

function requestOf(row: Record<string, unknown>): PrivacyRequestRow {
  return {
    id: String(row.id),
    kind: row.kind as PrivacyRequestRow['kind'],
    subject: String(row.subject),
    subjectHashes: (row.subject_hashes as string[] | null) ?? [],
    personId: (row.person_id as string | null) ?? null,
    purpose: (row.purpose as string | null) ?? null,
    status: row.status as PrivacyRequestStatus,
    receivedAt: String(row.received_at),
    dueAt: String(row.due_at),
    completedAt: (row.completed_at as string | null) ?? null,
    actor: String(row.actor),
    result: (parseJsonColumn(row.result) as Record<string, unknown> | null) ?? null,
  };
}

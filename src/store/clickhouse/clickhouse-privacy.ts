import { createHash } from 'node:crypto';
import { damagedLineMentions, damagedLineNeedles } from '../damaged-line-erasure.js';
import type { Migration } from '../migration.js';
import type {
  ErasureOptions,
  ErasureReport,
  ErasureTarget,
  PersonRecords,
  PrivacyRepository,
  PrivacyRequestRow,
  PrivacyRequestStatus,
} from '../privacy-types.js';
import type { ClickHouseConnection } from './clickhouse-connection.js';
import { waitForMutations } from './clickhouse-mutations.js';
import { finalRead, quote } from './clickhouse-sql.js';
import { textOrNull } from './clickhouse-values.js';

export const CLICKHOUSE_PRIVACY_MIGRATION: Migration = {
  // Data-subject requests, one version per change (ReplacingMergeTree(version), read FINAL). Times are epoch
  // milliseconds. The subject is kept as hashes and a masked display form (see PrivacyRequestRow).
  id: '007-privacy-requests',
  statements: [
    `CREATE TABLE privacy_requests (
      id String, kind String, subject String, subject_hashes Array(String), person_id Nullable(String),
      purpose Nullable(String), status String, received_ms Int64, due_ms Int64, completed_ms Nullable(Int64),
      actor String, result Nullable(String), version UInt64
    ) ENGINE = ReplacingMergeTree(version) ORDER BY id`,
  ],
};

const FINAL_READ = { optimize_move_to_prewhere: 0 } as const;

/** The columns of the public `customers` and `orders` views, read from their tables for the access bundle. */
const CUSTOMER_COLUMNS = `customer_id, email, phone, first_name, last_name, name, city, postal_code, country,
  created_at, extra, import_id, imported_at`;
const ORDER_COLUMNS = `order_id, line_number, ordered_at, customer_id, email, channel, store, product_id,
  product_name, category, quantity, unit_price, amount, currency, country, status, extra, import_id, imported_at`;

/**
 * Ids are never written into SQL text here: ClickHouse keeps mutation commands on disk (`mutation_*.txt`) and may
 * log queries. Rows are matched by `hex(MD5(value))` against hashes computed here, or found by reading and
 * scanning payload text in this process, and then deleted by keys that name no one (message ids, row keys).
 */
function md5(value: string): string {
  return createHash('md5').update(value, 'utf8').digest('hex').toUpperCase();
}

function hashList(values: readonly string[]): string {
  // An empty IN list is a syntax error; a hash of nothing matches no stored value that names a person.
  const hashes = values.length > 0 ? values.map(md5) : ['-'];
  return `(${hashes.map(quote).join(', ')})`;
}

function textList(values: readonly string[]): string {
  return `(${(values.length > 0 ? values : ['-']).map(quote).join(', ')})`;
}

function numberList(values: readonly string[]): string {
  return `(${values.length > 0 ? values.join(', ') : '0'})`;
}

export class ClickHousePrivacy implements PrivacyRepository {
  constructor(private readonly db: ClickHouseConnection) {}

  async insert(row: PrivacyRequestRow): Promise<void> {
    await this.db.insert('privacy_requests', [storedRow(row)]);
  }

  async update(row: PrivacyRequestRow): Promise<void> {
    await this.db.insert('privacy_requests', [storedRow(row)]);
  }

  async get(id: string): Promise<PrivacyRequestRow | undefined> {
    const rows = await this.db.rows(
      // The id (the sorting key) beside FINAL: an outer WHERE would read every request first.
      `SELECT * FROM ${finalRead('privacy_requests', '*', `id = ${quote(id)}`)}`,
      FINAL_READ,
    );
    return rows[0] ? requestOf(rows[0]) : undefined;
  }

  async list(options: { status?: PrivacyRequestStatus; limit: number }): Promise<PrivacyRequestRow[]> {
    const where = options.status ? `WHERE status = ${quote(options.status)}` : '';
    const rows = await this.db.rows(
      `SELECT * FROM (SELECT * FROM privacy_requests FINAL) ${where}
       ORDER BY status != 'open', if(status = 'open', due_ms, 0), received_ms DESC, id
       LIMIT ${Math.max(0, Math.floor(options.limit))}`,
      FINAL_READ,
    );
    return rows.map(requestOf);
  }

  async listBySubject(hashes: readonly string[]): Promise<PrivacyRequestRow[]> {
    const rows = await this.db.rows(
      `SELECT * FROM (SELECT * FROM privacy_requests FINAL)
       WHERE hasAny(subject_hashes, [${(hashes.length > 0 ? hashes : ['-']).map(quote).join(', ')}])
       ORDER BY received_ms, id`,
      FINAL_READ,
    );
    return rows.map(requestOf);
  }

  async personRecords(target: ErasureTarget): Promise<PersonRecords> {
    const quarantineIds = await this.quarantinedIds(target);
    const quarantined = quarantineIds.length
      ? await this.db.rows(
          `SELECT * FROM ${finalRead(
            'quarantine_log',
            'id, received_at, source, type, event, contract, status, status_at, violations, payload',
            `id IN ${textList(quarantineIds)}`,
          )}
           ORDER BY received_at, id`,
          FINAL_READ,
        )
      : [];
    const people = textList(target.personIds);
    const merges = await this.db.rows(
      `SELECT from_id AS merged_person_id, into_id AS person_id, via_type, via_value,
              toDateTime(intDiv(at_ms, 1000), 'UTC') AS at, message_id
       FROM (SELECT * FROM identity_merge_log FINAL)
       WHERE from_id IN ${people} OR into_id IN ${people} ORDER BY at_ms`,
      FINAL_READ,
    );
    const consents = (await this.hasTable('consent_log'))
      ? await this.db.rows(
          `SELECT * FROM consent_log WHERE hex(MD5(identifier)) IN ${hashList(target.identifierKeys)}`,
        )
      : [];
    // The tables, not the views: the keyed email hash is a column of the tables only.
    const customers = await this.db.rows(
      `SELECT * FROM ${finalRead('customer_data', CUSTOMER_COLUMNS, importMatch(target))} ORDER BY customer_id`,
      FINAL_READ,
    );
    const orders = await this.db.rows(
      `SELECT * FROM ${finalRead('order_line_data', ORDER_COLUMNS, `deleted = 0 AND (${importMatch(target)})`)}
       ORDER BY ordered_at, order_id, line_number`,
      FINAL_READ,
    );
    return {
      quarantined: quarantined.map((row) => ({
        ...row,
        violations: parseJson(row.violations),
        payload: parseJson(row.payload),
      })),
      merges,
      consents,
      customers,
      orders,
    };
  }

  async erase(target: ErasureTarget, options: ErasureOptions = {}): Promise<ErasureReport> {
    const deleted: Record<string, number> = {};
    const users = hashList(target.userIds);
    const anonymous = hashList(target.anonymousIds);
    const either = hashList([...target.userIds, ...target.anonymousIds]);
    const keys = hashList(target.identifierKeys);
    const people = textList(target.personIds);

    const eventIds = (
      await this.db.rows(
        `SELECT DISTINCT message_id FROM event_log
         WHERE hex(MD5(ifNull(user_id, ''))) IN ${users} OR hex(MD5(ifNull(anonymous_id, ''))) IN ${anonymous}
            OR hex(MD5(ifNull(previous_id, ''))) IN ${either}`,
      )
    ).map((row) => String(row.message_id));
    const quarantineIds = await this.quarantinedIds(target);
    const messageIds = [...new Set([...eventIds, ...quarantineIds])];

    const remove = async (table: string, where: string) => {
      const counted = await this.db.rows(
        // A count is safe on a Distributed FINAL read (only sorting, limiting or de-duplicating is not, see
        // `finalRead`), and reads only the columns the condition names.
        `SELECT count() AS n FROM ${table} FINAL WHERE ${where}`,
        FINAL_READ,
      );
      const n = Number(counted[0]?.n ?? 0);
      if (n > 0) {
        await this.mutate(table, `DELETE WHERE ${where}`);
        deleted[table] = n;
      }
    };
    for (let start = 0; start < messageIds.length; start += 2000) {
      const chunk = textList(messageIds.slice(start, start + 2000));
      await remove('event_log', `message_id IN ${chunk}`);
      await remove('quarantine_log', `id IN ${chunk}`);
      await remove('contract_violation_log', `message_id IN ${chunk}`);
    }
    const rejects = await this.scan('reject_log', 'cityHash64(stream, load_seq, line_no)', 'payload', target);
    if (rejects.length > 0)
      await remove('reject_log', `cityHash64(stream, load_seq, line_no) IN ${numberList(rejects)}`);
    const importRejects = await this.scan('import_reject_log', 'cityHash64(import_id, line)', 'row', target);
    if (importRejects.length > 0) {
      await remove('import_reject_log', `cityHash64(import_id, line) IN ${numberList(importRejects)}`);
    }
    await remove(
      'identity_observation_log',
      `hasAny(arrayMap(x -> hex(MD5(x)), identifiers), [${keys.slice(1, -1)}])`,
    );
    await remove('identity_links', `hex(MD5(identifier)) IN ${keys} OR person_id IN ${people}`);
    await remove('identity_persons', `person_id IN ${people} OR ifNull(merged_into, '') IN ${people}`);
    await remove('identity_merge_log', `from_id IN ${people} OR into_id IN ${people}`);
    await remove(
      'identity_refusal_log',
      `person_id IN ${people} OR ifNull(held_by, '') IN ${people}
       OR hex(MD5(concat(identifier_type, ':', identifier_value))) IN ${keys}`,
    );
    await remove('customer_data', importMatch(target));
    await remove('order_line_data', importMatch(target));
    const damaged = await this.damagedLines(target);
    for (let start = 0; start < damaged.length; start += 2000) {
      await remove('wal_damaged_lines', `id IN ${textList(damaged.slice(start, start + 2000))}`);
    }
    if (await this.hasTable('consent_log')) await remove('consent_log', `hex(MD5(identifier)) IN ${keys}`);

    // Saved identity changes are kept whole until applied; merging collapses them into their applied marker.
    const optimizedTables = [...Object.keys(deleted), 'identity_change_log'];
    for (const table of optimizedTables)
      await this.db.onEveryNode(`OPTIMIZE TABLE ${this.local(table)} FINAL`);
    const started = Date.now();
    let left = await this.inactiveParts(optimizedTables);
    while (left > 0 && Date.now() - started < (options.waitForCleanupMs ?? 0)) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      left = await this.inactiveParts(optimizedTables);
    }
    return {
      deleted,
      physical: {
        engine: 'clickhouse',
        optimizedTables,
        inactivePartsLeft: left,
        waitedMs: Date.now() - started,
      },
    };
  }

  async upgradeLegacySubjectHashes(upgrade: (hash: string) => string): Promise<number> {
    const plain = "arrayExists(h -> match(h, '^[0-9a-f]{64}$'), subject_hashes)";
    const rows = await this.db.rows(
      `SELECT * FROM (SELECT * FROM privacy_requests FINAL) WHERE ${plain}`,
      FINAL_READ,
    );
    // A newer version of each request with its hashes keyed, then every row holding a plain hash goes (older
    // versions too); the mutation names a pattern, never a hash.
    await this.db.insert(
      'privacy_requests',
      rows.map((row) => ({
        ...row,
        subject_hashes: (row.subject_hashes as string[]).map((hash) =>
          /^[0-9a-f]{64}$/.test(hash) ? upgrade(hash) : hash,
        ),
        version: Number(row.version) + 1,
      })),
    );
    if (await hasRows(this.db, 'privacy_requests', plain)) {
      await mutateOnEveryNode(this.db, 'privacy_requests', `DELETE WHERE ${plain}`);
    }
    return rows.length;
  }

  /** Held events whose payload names the person. */
  private async quarantinedIds(target: ErasureTarget): Promise<string[]> {
    const rows = await this.db.rows('SELECT id, payload FROM quarantine_log');
    return [...new Set(rows.filter((row) => mentions(row.payload, target)).map((row) => String(row.id)))];
  }

  /**
   * Set-aside log lines whose bytes name the person, matched here (they are stored as base64, see
   * `damagedLineNeedles`); their ids (`<stream>.<segment>.<line>`) name no one. Every version is read, not only
   * the newest: the bytes are the same in each.
   */
  private async damagedLines(target: ErasureTarget): Promise<string[]> {
    const needles = damagedLineNeedles(target);
    if (needles.length === 0) return [];
    const rows = await this.db.rows('SELECT id, raw FROM wal_damaged_lines');
    const named = rows.filter((row) => damagedLineMentions(String(row.raw), needles));
    return [...new Set(named.map((row) => String(row.id)))];
  }

  /** Keys (as `key` computes them) of rows whose `text` column names the person, scanned here. */
  private async scan(table: string, key: string, text: string, target: ErasureTarget): Promise<string[]> {
    if (target.needles.length === 0) return [];
    const rows = await this.db.rows(`SELECT toString(${key}) AS k, ${text} AS t FROM ${table}`);
    return [...new Set(rows.filter((row) => mentions(row.t, target)).map((row) => String(row.k)))];
  }

  private local(table: string): string {
    return this.db.cluster ? `${table}_local` : table;
  }

  private async hasTable(name: string): Promise<boolean> {
    const rows = await this.db.rows(
      `SELECT count() AS n FROM system.tables WHERE database = ${quote(this.db.database)} AND name = ${quote(name)}`,
    );
    return Number(rows[0]?.n ?? 0) > 0;
  }

  private mutate(table: string, mutation: string): Promise<void> {
    return mutateOnEveryNode(this.db, table, mutation);
  }

  private async inactiveParts(tables: readonly string[]): Promise<number> {
    let total = 0;
    const names = textList(tables.map((table) => this.local(table)));
    for (const node of this.db.cluster?.nodes ?? [this.db.client]) {
      const result = await node.query({
        query: `SELECT count() AS n FROM system.parts
                WHERE database = ${quote(this.db.database)} AND table IN ${names} AND active = 0`,
        format: 'JSON',
      });
      const answer = (await result.json()) as unknown as { data: { n: string }[] };
      total += Number(answer.data[0]?.n ?? 0);
    }
    return total;
  }
}

/** Runs a mutation on every node's local table and waits until it is done everywhere (18.16 runs them later). */
export async function mutateOnEveryNode(
  db: ClickHouseConnection,
  table: string,
  mutation: string,
): Promise<void> {
  const target = db.cluster ? `${table}_local` : table;
  await db.onEveryNode(`ALTER TABLE ${target} ${mutation}`);
  for (const node of db.cluster?.nodes ?? [db.client]) {
    await waitForMutations(node, db.database, target);
  }
}

/** Whether any stored row of the table (any version, not only the newest) meets the condition. */
export async function hasRows(db: ClickHouseConnection, table: string, where: string): Promise<boolean> {
  const rows = await db.rows(`SELECT count() AS n FROM ${table} WHERE ${where}`);
  return Number(rows[0]?.n ?? 0) > 0;
}

/**
 * Import rows of the person: their user id as the customer id, the keyed hash kept beside a sealed email (an
 * order line known only by its email), or an email an older import stored in clear. Hashes compared by MD5 like
 * ids, so the keyed email hashes stay out of mutation files too.
 */
function importMatch(target: ErasureTarget): string {
  return `hex(MD5(ifNull(customer_id, ''))) IN ${hashList(target.userIds)}
    OR hex(MD5(ifNull(email_hash, ''))) IN ${hashList(target.emailHashes)}
    OR hex(MD5(lower(hex(SHA256(lower(ifNull(email, ''))))))) IN ${hashList(target.emailDigests)}`;
}

function mentions(text: unknown, target: ErasureTarget): boolean {
  if (typeof text !== 'string' || text === '') return false;
  return target.needles.some((needle) => needle.length > 0 && text.includes(needle));
}

function storedRow(row: PrivacyRequestRow): Record<string, unknown> {
  return {
    id: row.id,
    kind: row.kind,
    subject: row.subject,
    subject_hashes: row.subjectHashes,
    person_id: row.personId,
    purpose: row.purpose,
    status: row.status,
    received_ms: Date.parse(row.receivedAt),
    due_ms: Date.parse(row.dueAt),
    completed_ms: row.completedAt === null ? null : Date.parse(row.completedAt),
    actor: row.actor,
    result: row.result === null ? null : JSON.stringify(row.result),
    // Each change is a newer version; a clock that goes back still orders a request's own changes.
    version: Date.now() * 1000 + (row.status === 'open' ? 0 : 1),
  };
}

function requestOf(row: Record<string, unknown>): PrivacyRequestRow {
  const completed = textOrNull(row.completed_ms);
  return {
    id: String(row.id),
    kind: row.kind as PrivacyRequestRow['kind'],
    subject: String(row.subject),
    subjectHashes: (row.subject_hashes as string[] | null) ?? [],
    personId: textOrNull(row.person_id),
    purpose: textOrNull(row.purpose),
    status: row.status as PrivacyRequestStatus,
    receivedAt: new Date(Number(row.received_ms)).toISOString(),
    dueAt: new Date(Number(row.due_ms)).toISOString(),
    completedAt: completed === null ? null : new Date(Number(completed)).toISOString(),
    actor: String(row.actor),
    result:
      row.result === null || row.result === undefined
        ? null
        : (parseJson(row.result) as Record<string, unknown>),
  };
}

function parseJson(value: unknown): unknown {
  if (typeof value !== 'string') return value ?? null;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

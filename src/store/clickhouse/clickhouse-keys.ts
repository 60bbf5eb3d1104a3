import type { ApiKeyRow, KeyRepository, MetadataRepository } from '../store.js';
import type { ClickHouseConnection } from './clickhouse-connection.js';
import { finalRead, quote, toDateTimeText } from './clickhouse-sql.js';
import { toPlainRows } from './clickhouse-values.js';

const KEY_COLUMNS = 'id, kind, name, source, hash, prefix, created_at AS createdAt, revoked_at AS revokedAt';
const SELECT_KEY = `SELECT ${KEY_COLUMNS} FROM api_keys FINAL`;

/** Keys as versioned rows: a revocation writes a newer version of the row, FINAL reads the latest. */
export class ClickHouseKeys implements KeyRepository {
  constructor(private readonly db: ClickHouseConnection) {}

  async insert(row: Omit<ApiKeyRow, 'revokedAt'>): Promise<void> {
    await this.db.insert('api_keys', [
      {
        id: row.id,
        kind: row.kind,
        name: row.name,
        source: row.source,
        hash: row.hash,
        prefix: row.prefix,
        created_at: toDateTimeText(row.createdAt),
        revoked_at: null,
        version: 1,
      },
    ]);
  }

  async findByHash(hash: string): Promise<ApiKeyRow | undefined> {
    return (await this.select(`${SELECT_KEY} WHERE hash = ${quote(hash)}`))[0];
  }

  list(): Promise<ApiKeyRow[]> {
    return this.select(`SELECT * FROM ${finalRead('api_keys', KEY_COLUMNS)} ORDER BY createdAt, id`);
  }

  async revoke(id: string, at: Date): Promise<boolean> {
    const answer = await this.db.json(
      `SELECT id, kind, name, source, hash, prefix, created_at, version FROM api_keys FINAL
       WHERE id = ${quote(id)} AND revoked_at IS NULL`,
    );
    const current = answer.data[0];
    if (!current) return false;
    await this.db.insert('api_keys', [
      { ...current, revoked_at: toDateTimeText(at), version: Number(current.version) + 1 },
    ]);
    return true;
  }

  private async select(sql: string): Promise<ApiKeyRow[]> {
    return toPlainRows(await this.db.json(sql)).rows as unknown as ApiKeyRow[];
  }
}

export class ClickHouseMetadata implements MetadataRepository {
  constructor(private readonly db: ClickHouseConnection) {}

  async get(key: string): Promise<string | undefined> {
    const answer = await this.db.json(`SELECT value FROM metadata FINAL WHERE key = ${quote(key)}`);
    return answer.data[0]?.value as string | undefined;
  }

  async set(key: string, value: string): Promise<void> {
    // The version orders writes; a later set in the same millisecond still wins by the counter.
    this.counter = (this.counter + 1) % 1000;
    await this.db.insert('metadata', [{ key, value, version: Date.now() * 1000 + this.counter }]);
  }

  private counter = 0;
}

import type { ApiKeyRow, KeyRepository } from '../store.js';
import type { DuckDbSession } from './duckdb-session.js';

const SELECT_KEY = `SELECT id, kind, name, source, hash, prefix, created_at AS "createdAt", revoked_at AS "revokedAt"
  FROM api_keys`;

export class DuckDbKeys implements KeyRepository {
  constructor(
    private readonly writer: DuckDbSession,
    private readonly reader: DuckDbSession,
  ) {}

  async insert(row: Omit<ApiKeyRow, 'revokedAt'>): Promise<void> {
    await this.writer.run('INSERT INTO api_keys VALUES ($1, $2, $3, $4, $5, $6, $7::TIMESTAMPTZ, NULL)', [
      row.id,
      row.kind,
      row.name,
      row.source,
      row.hash,
      row.prefix,
      row.createdAt,
    ]);
  }

  async findByHash(hash: string): Promise<ApiKeyRow | undefined> {
    const rows = await this.reader.all<ApiKeyRow>(`${SELECT_KEY} WHERE hash = $1`, [hash]);
    return rows[0];
  }

  list(): Promise<ApiKeyRow[]> {
    return this.reader.all<ApiKeyRow>(`${SELECT_KEY} ORDER BY created_at, id`);
  }

  async revoke(id: string, at: Date): Promise<boolean> {
    const changed = await this.writer.run(
      'UPDATE api_keys SET revoked_at = $2::TIMESTAMPTZ WHERE id = $1 AND revoked_at IS NULL',
      [id, at.toISOString()],
    );
    return changed > 0;
  }
}

import type { MetadataRepository } from '../store.js';
import type { DuckDbSession } from './duckdb-session.js';

export class DuckDbMetadata implements MetadataRepository {
  constructor(
    private readonly writer: DuckDbSession,
    private readonly reader: DuckDbSession,
  ) {}

  async get(key: string): Promise<string | undefined> {
    const rows = await this.reader.all<{ value: string }>('SELECT value FROM metadata WHERE key = $1', [key]);
    return rows[0]?.value;
  }

  async set(key: string, value: string): Promise<void> {
    await this.writer.run(
      'INSERT INTO metadata VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      [key, value],
    );
  }
}

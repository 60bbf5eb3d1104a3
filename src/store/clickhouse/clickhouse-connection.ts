import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';
import { toStoreError } from './clickhouse-errors.js';
import type { ClickHouseJson } from './clickhouse-values.js';

/** The few calls the store makes, each turning driver failures into store errors. */
export class ClickHouseConnection {
  constructor(
    readonly client: ClickHouseClient,
    readonly database: string,
  ) {}

  async command(sql: string, settings: ClickHouseSettings = {}): Promise<void> {
    try {
      await this.client.command({ query: sql, clickhouse_settings: settings });
    } catch (error) {
      throw toStoreError(error, sql);
    }
  }

  /** Runs a SELECT and returns ClickHouse's JSON answer (types in `meta`). Errors are the driver's own. */
  async jsonRaw(sql: string, settings: ClickHouseSettings = {}): Promise<ClickHouseJson> {
    const result = await this.client.query({ query: sql, format: 'JSON', clickhouse_settings: settings });
    return (await result.json()) as unknown as ClickHouseJson;
  }

  async json(sql: string, settings: ClickHouseSettings = {}): Promise<ClickHouseJson> {
    try {
      return await this.jsonRaw(sql, settings);
    } catch (error) {
      throw toStoreError(error, sql);
    }
  }

  async insert(table: string, rows: readonly Record<string, unknown>[]): Promise<void> {
    if (rows.length === 0) return;
    try {
      await this.client.insert({ table, values: rows as Record<string, unknown>[], format: 'JSONEachRow' });
    } catch (error) {
      throw toStoreError(error, `INSERT INTO ${table}`);
    }
  }
}

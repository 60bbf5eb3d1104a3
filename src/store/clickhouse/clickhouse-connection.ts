import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';
import { toStoreError } from './clickhouse-errors.js';
import { type ClickHouseJson, toPlainRows } from './clickhouse-values.js';

export interface ClusterLayout {
  /** The `remote_servers` cluster name the Distributed tables use. */
  readonly name: string;
  /** A client per node, for what a Distributed table cannot do: DDL and mutations. */
  readonly nodes: readonly ClickHouseClient[];
}

/** The few calls the store makes, each turning driver failures into store errors. */
export class ClickHouseConnection {
  constructor(
    readonly client: ClickHouseClient,
    readonly database: string,
    readonly cluster?: ClusterLayout,
  ) {}

  /** Inserts through a Distributed table wait until every shard has the rows, as a local insert would. */
  get insertSettings(): ClickHouseSettings {
    return this.cluster ? { insert_distributed_sync: 1 } : {};
  }

  /** Runs a statement on every node of the cluster (or the one node without one). */
  async onEveryNode(sql: string): Promise<void> {
    for (const node of this.cluster?.nodes ?? [this.client]) {
      try {
        await node.command({ query: sql });
      } catch (error) {
        throw toStoreError(error, sql);
      }
    }
  }

  async command(sql: string, settings: ClickHouseSettings = {}): Promise<void> {
    try {
      await this.client.command({ query: sql, clickhouse_settings: settings });
    } catch (error) {
      throw toStoreError(error, sql);
    }
  }

  /** Runs a SELECT and returns ClickHouse's JSON answer (types in `meta`). */
  async json(sql: string, settings: ClickHouseSettings = {}): Promise<ClickHouseJson> {
    try {
      const result = await this.client.query({ query: sql, format: 'JSON', clickhouse_settings: settings });
      return (await result.json()) as unknown as ClickHouseJson;
    } catch (error) {
      throw toStoreError(error, sql);
    }
  }

  /**
   * Runs a SELECT and returns its rows as plain values. A query longer than ClickHouse's default
   * `max_query_size` (256 KiB: long id lists) raises the limit to fit it.
   */
  async rows(sql: string, settings: ClickHouseSettings = {}): Promise<Record<string, unknown>[]> {
    const sized =
      sql.length > 200_000 ? { max_query_size: String(sql.length + 1024), ...settings } : settings;
    return toPlainRows(await this.json(sql, sized)).rows;
  }

  async insert(table: string, rows: readonly Record<string, unknown>[]): Promise<void> {
    if (rows.length === 0) return;
    try {
      await this.client.insert({
        table,
        values: rows as Record<string, unknown>[],
        format: 'JSONEachRow',
        clickhouse_settings: this.insertSettings,
      });
    } catch (error) {
      throw toStoreError(error, `INSERT INTO ${table}`);
    }
  }
}

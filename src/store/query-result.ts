export interface QueryColumn {
  readonly name: string;
  readonly type: string;
}

/** A query answer in plain JSON values: BigInt becomes number (or string past 2^53), dates ISO strings. */
export interface QueryResult {
  readonly columns: QueryColumn[];
  readonly rows: Record<string, unknown>[];
  /** True when the answer was cut at `maxRows` rows or `maxBytes` bytes. */
  readonly truncated: boolean;
  /** The public relations the query read, as the engine's check resolved them (for the audit log). */
  readonly relations?: string[];
}

/** The memory a query may take when its caller sets no cap. */
export const DEFAULT_QUERY_MEMORY_BYTES = 1024 * 1024 * 1024;

/**
 * Collects rows under the caps of a query: at most `maxRows` rows and, when set, about `maxBytes` bytes as
 * JSON. `add` answers false once the answer is full; the caller then stops fetching.
 */
export class CappedRows {
  readonly rows: Record<string, unknown>[] = [];
  truncated = false;
  private bytes = 2;

  constructor(
    private readonly maxRows: number,
    private readonly maxBytes = Number.POSITIVE_INFINITY,
  ) {}

  add(row: Record<string, unknown>): boolean {
    if (this.rows.length >= this.maxRows) return this.cut();
    const size = JSON.stringify(row).length + 1;
    if (this.bytes + size > this.maxBytes) return this.cut();
    this.bytes += size;
    this.rows.push(row);
    return true;
  }

  private cut(): false {
    this.truncated = true;
    return false;
  }
}

export interface QueryColumn {
  readonly name: string;
  readonly type: string;
}

/** A query answer in plain JSON values: BigInt becomes number (or string past 2^53), dates ISO strings. */
export interface QueryResult {
  readonly columns: QueryColumn[];
  readonly rows: Record<string, unknown>[];
  /** True when the answer was cut at `maxRows`. */
  readonly truncated: boolean;
}

import { RefineryError } from '../core/errors.js';
import type { ConsentPurpose } from '../privacy/consent-purposes.js';
import type { ReadQueryOptions } from './store.js';

/** The `limits` settings of refinery.yaml that bound a user's query. */
export interface QueryLimitSettings {
  readonly queryTimeoutMs: number;
  readonly queryMaxRows: number;
  readonly queryMaxBytes: number;
  readonly queryMaxMemory: string;
}

/** The store options for a user's query (POST /v1/query, `refinery query`) under the workspace's limits. */
export function userQueryOptions(limits: QueryLimitSettings, purpose?: ConsentPurpose): ReadQueryOptions {
  return {
    timeoutMs: limits.queryTimeoutMs,
    maxRows: limits.queryMaxRows,
    maxBytes: limits.queryMaxBytes,
    maxMemoryBytes: byteSize(limits.queryMaxMemory),
    ...(purpose !== undefined ? { purpose } : {}),
  };
}

const UNITS: Readonly<Record<string, number>> = {
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  KIB: 2 ** 10,
  MIB: 2 ** 20,
  GIB: 2 ** 30,
  TIB: 2 ** 40,
};

/** '512MB' → 512000000, '1GiB' → 1073741824: the units DuckDB's memory_limit takes, with its meanings. */
export function byteSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([KMGT]i?B)$/i.exec(text.trim());
  const unit = match ? UNITS[match[2]!.toUpperCase()] : undefined;
  if (!match || unit === undefined) {
    throw new RefineryError(
      'REFINERY_ERR_CONFIG_INVALID',
      `"${text}" is not a size such as 512MB or 1GiB.`,
      {},
    );
  }
  return Math.round(Number(match[1]) * unit);
}

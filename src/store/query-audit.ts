import { createHash } from 'node:crypto';
import type { JsonRecord } from '../audit/audit-entry.js';
import { RefineryError } from '../core/errors.js';
import type { QueryResult } from './query-result.js';

/**
 * What the audit log records about one user query. The SQL is recorded as its SHA-256, never as text: its
 * literals are where personal values go (`WHERE email = '…'`), and the log can never be erased. Whoever holds
 * the text (a notebook, a script) can show it is the one that ran; the relations, the purpose and the size of
 * the answer say what was read without it.
 */
export function queryAuditDetail(
  sql: string,
  purpose: string | undefined,
  outcome: { readonly result: QueryResult } | { readonly error: unknown },
): JsonRecord {
  const common = {
    sqlSha256: createHash('sha256').update(sql).digest('hex'),
    sqlLength: sql.length,
    ...(purpose !== undefined ? { purpose } : {}),
  };
  if ('result' in outcome) {
    return {
      ...common,
      relations: outcome.result.relations ?? [],
      rows: outcome.result.rows.length,
      truncated: outcome.result.truncated,
    };
  }
  const error = outcome.error;
  return { ...common, refused: error instanceof RefineryError ? error.code : 'REFINERY_ERR_INTERNAL' };
}

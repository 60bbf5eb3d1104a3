import { textOrNull } from './row-values.js';
import type { DamagedLineRow } from './store.js';
import type { DamagedLineStatus } from './wal-format.js';

/** A set-aside log line as either engine returns it (the same column names on both), as the seam's row. */
export function damagedRowOf(row: Record<string, unknown>): DamagedLineRow {
  return {
    id: String(row.id),
    stream: String(row.stream),
    sequence: Number(row.load_seq),
    lineNo: Number(row.line_no),
    damage: String(row.damage),
    reason: String(row.reason),
    bytes: Number(row.bytes),
    foundAt: String(row.found_at),
    status: String(row.status) as DamagedLineStatus,
    statusAt: textOrNull(row.status_at),
    statusBy: textOrNull(row.status_by),
    ...(row.raw === undefined ? {} : { raw: String(row.raw) }),
  };
}

import type { QuarantinedEventRow, QuarantineFilter, Store } from '../store/store.js';

const PAGE = 1000;

/** Every quarantined event the filter selects, newest first, read a page at a time. */
export async function* quarantinedRows(
  store: Store,
  filter: QuarantineFilter,
  withPayload: boolean,
): AsyncGenerator<QuarantinedEventRow> {
  for (let offset = 0; ; offset += PAGE) {
    const page = await store.governance.listQuarantined(filter, { limit: PAGE, offset, withPayload });
    yield* page;
    if (page.length < PAGE) return;
  }
}

/** The filter without its status: counts per status, and decisions (which apply to held events only). */
export function withoutStatus(filter: QuarantineFilter): QuarantineFilter {
  const { status: _status, ...rest } = filter;
  return rest;
}

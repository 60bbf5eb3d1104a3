// ISO 8601 with a date, optional time and optional zone; what the Segment and RudderStack SDKs send.
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/** Parses an ISO 8601 string to epoch milliseconds, or undefined when it is not one. */
export function parseIsoTimestamp(value: string): number | undefined {
  if (value.length > 40 || !ISO_8601.test(value)) return undefined;
  // A date-time without a zone is UTC, as the store reads it (JavaScript alone would take local time).
  const hasTime = value.length > 10;
  const hasZone = /(?:Z|[+-]\d{2}:?\d{2})$/.test(value);
  const millis = Date.parse(hasTime && !hasZone ? `${value}Z` : value);
  return Number.isNaN(millis) ? undefined : millis;
}

/**
 * Corrects for a wrong client clock the way Segment documents it: the delay between the event and the
 * send is measured on the client's clock and subtracted from the server's receive time, so
 * `timestamp = receivedAt - (sentAt - originalTimestamp)`. Without `sentAt` the client's time is kept;
 * without any client time the receive time is used.
 */
/** A non-empty ISO 8601 text as epoch milliseconds; undefined for anything else (absent, empty, not a time). */
export function parseOptionalTime(value: unknown): number | undefined {
  return typeof value === 'string' && value !== '' ? parseIsoTimestamp(value) : undefined;
}

export function correctTimestamp(receivedAt: number, originalTimestamp?: number, sentAt?: number): number {
  if (originalTimestamp === undefined) return receivedAt;
  if (sentAt === undefined) return originalTimestamp;
  return receivedAt - (sentAt - originalTimestamp);
}

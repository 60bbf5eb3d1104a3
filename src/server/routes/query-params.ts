import type { FastifyRequest } from 'fastify';
import { RefineryError } from '../../core/errors.js';

/** The query string of the timeline routes: `interval` and an optional [from, to) range. */
export const TIMELINE_QUERY = {
  type: 'object',
  properties: {
    interval: { enum: ['hour', 'day'] },
    from: { type: 'string', format: 'date-time' },
    to: { type: 'string', format: 'date-time' },
  },
} as const;

/** `?limit=` as a positive integer, `fallback` when absent or invalid, never above `max`. */
export function limitOf(request: FastifyRequest, fallback: number, max: number): number {
  const raw = Number((request.query as { limit?: string }).limit ?? fallback);
  return Number.isInteger(raw) && raw > 0 ? Math.min(raw, max) : fallback;
}

/** `?offset=` as a whole number of rows to skip (0 when absent), or a 400 naming the field. */
export function offsetOf(request: FastifyRequest): number {
  const raw = (request.query as { offset?: string }).offset;
  if (raw === undefined || raw === '') return 0;
  const offset = Number(raw);
  // Beyond the safe integers a number is no longer exact, and the engines refuse it as a row count.
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new RefineryError(
      'REFINERY_ERR_INVALID_FIELD',
      'offset must be a whole number of rows, 0 or more.',
      {
        field: 'offset',
      },
    );
  }
  return offset;
}

/** An ISO 8601 query value as a Date, or a 400 naming the field. */
export function parseDate(value: string, field: string): Date {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) {
    throw new RefineryError('REFINERY_ERR_INVALID_FIELD', `${field} must be an ISO 8601 date-time.`, {
      field,
    });
  }
  return date;
}

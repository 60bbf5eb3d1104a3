import { RefineryError } from '../core/errors.js';

/**
 * The log on disk is not what this process wrote: a line was changed or cut, or an anchor is ahead of it.
 * Appending would chain onto something unverified, so the log refuses to open until someone has looked.

 */
export function auditLogBroken(message: string, details: Record<string, unknown> = {}): RefineryError {
  return new RefineryError('REFINERY_ERR_AUDIT_LOG_BROKEN', message, details);
}

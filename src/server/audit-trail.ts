import type { FastifyRequest } from 'fastify';
import type { AuditAction, AuditActor, JsonRecord } from '../audit/audit-entry.js';
import type { AuditLog } from '../audit/audit-log.js';
import { findApiKey } from './authorise.js';

/**
 * Records what a request did to personal data or keys in the audit log, as the key that authenticated it.
 * The request fails when the entry cannot be made durable: an access that cannot be audited does not happen.
 */
export async function audit(
  log: AuditLog | undefined,
  request: FastifyRequest,
  action: AuditAction,
  target: string | null,
  detail: JsonRecord = {},
): Promise<void> {
  if (!log) return;
  await log.append({ actor: actorOf(request), action, target, detail });
}

export function actorOf(request: FastifyRequest): AuditActor {
  const key = findApiKey(request);
  return key ? { keyId: key.id, keyName: key.name, kind: key.kind } : { system: 'server' };
}

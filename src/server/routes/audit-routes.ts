import type { FastifyInstance } from 'fastify';
import { storeMetadataAnchor } from '../../audit/audit-anchor.js';
import { AUDIT_ACTIONS, type AuditAction } from '../../audit/audit-entry.js';
import type { AuditLog } from '../../audit/audit-log.js';
import { listAuditEntries } from '../../audit/audit-query.js';
import { verifyAuditLog } from '../../audit/verify-audit-log.js';
import { RefineryError } from '../../core/errors.js';
import type { Store } from '../../store/store.js';
import { API_KEY_SECURITY } from '../authorise.js';
import { parseDate } from './query-params.js';

export interface AuditRouteDeps {
  readonly store: Store;
  readonly audit?: AuditLog;
}

/** The audit log: who read personal data, exported, erased or changed keys; and a check of its chain. */
export function registerAuditRoutes(app: FastifyInstance, deps: AuditRouteDeps): void {
  app.get(
    '/v1/audit',
    {
      config: { permission: 'audit:read' },
      schema: {
        tags: ['admin'],
        summary: 'Audit log entries, newest first (filter by action, target, actor, time; page with before)',
        security: API_KEY_SECURITY,
        querystring: {
          type: 'object',
          properties: {
            action: { type: 'string', enum: [...AUDIT_ACTIONS] },
            target: { type: 'string' },
            actor: { type: 'string' },
            from: { type: 'string', format: 'date-time' },
            to: { type: 'string', format: 'date-time' },
            before: { type: 'integer', minimum: 1 },
            limit: { type: 'integer', minimum: 1, maximum: 1000 },
          },
        },
      },
    },
    async (request) => {
      const log = logOrThrow(deps);
      const query = request.query as Record<string, string | undefined>;
      if (query.action !== undefined && !(AUDIT_ACTIONS as readonly string[]).includes(query.action)) {
        throw new RefineryError(
          'REFINERY_ERR_INVALID_FIELD',
          `action must be one of ${AUDIT_ACTIONS.join(', ')}.`,
          {
            field: 'action',
          },
        );
      }
      const before = query.before === undefined ? undefined : Number(query.before);
      const limit = Number(query.limit ?? 100);
      return listAuditEntries(log.folder, {
        ...(query.action ? { action: query.action as AuditAction } : {}),
        ...(query.target ? { target: query.target } : {}),
        ...(query.actor ? { actor: query.actor } : {}),
        ...(query.from ? { from: parseDate(query.from, 'from') } : {}),
        ...(query.to ? { to: parseDate(query.to, 'to') } : {}),
        ...(before !== undefined && Number.isInteger(before) ? { beforeSeq: before } : {}),
        limit: Number.isInteger(limit) && limit > 0 ? Math.min(limit, 1000) : 100,
      });
    },
  );

  app.get(
    '/v1/audit/verify',
    {
      config: { permission: 'audit:read' },
      schema: {
        tags: ['admin'],
        summary: 'Recompute the audit chain and compare its head with the anchors (file and store)',
        security: API_KEY_SECURITY,
      },
    },
    async () => verifyAuditLog(logOrThrow(deps).folder, storeMetadataAnchor(deps.store.metadata)),
  );
}

function logOrThrow(deps: AuditRouteDeps): AuditLog {
  if (!deps.audit) {
    throw new RefineryError('REFINERY_ERR_NOT_FOUND', 'This server keeps no audit log.', { field: 'audit' });
  }
  return deps.audit;
}

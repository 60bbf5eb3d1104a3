import type { FastifyInstance } from 'fastify';
import { createApiKey, describeKey, type KeyRing, parseApiKeyKind } from '../../access/api-keys.js';
import { seesPersonalData } from '../../access/roles.js';
import type { AuditLog } from '../../audit/audit-log.js';
import type { IngestMeter } from '../../collect/ingest-meter.js';
import type { Loader } from '../../collect/loader.js';
import type { TailBuffer } from '../../collect/tail-buffer.js';
import type { WriteAheadLog } from '../../collect/wal/write-ahead-log.js';
import type { WorkspaceConfig } from '../../config/workspace-config.js';
import { RefineryError } from '../../core/errors.js';
import { consentPurposeOrThrow } from '../../privacy/consent-purposes.js';
import { eventCounts } from '../../store/event-counts.js';
import { queryAuditDetail } from '../../store/query-audit.js';
import { userQueryOptions } from '../../store/query-limits.js';
import { API_KEY_KINDS, type Store } from '../../store/store.js';
import { audit } from '../audit-trail.js';
import { API_KEY_SECURITY, findApiKey } from '../authorise.js';
import { limitOf, parseDate, TIMELINE_QUERY } from './query-params.js';

export interface AdminRouteDeps {
  readonly audit?: AuditLog;
  readonly config: WorkspaceConfig;
  readonly store: Store;
  readonly keys: KeyRing;
  readonly meter: IngestMeter;
  readonly tail: TailBuffer;
  readonly loader: Loader;
  readonly wal: WriteAheadLog;
}

export function registerAdminRoutes(app: FastifyInstance, deps: AdminRouteDeps): void {
  app.get(
    '/v1/stats',
    {
      config: { permission: 'read:analytics' },
      schema: { tags: ['admin'], summary: 'Counts, ingest rate and loader lag', security: API_KEY_SECURITY },
    },
    async () => {
      const [{ total, rejected, bySource }, damaged] = await Promise.all([
        eventCounts(deps.store),
        deps.store.events.countDamagedLines(),
      ]);
      const loader = deps.loader.current;
      const accepted = deps.meter.acceptedTotal;
      return {
        workspace: deps.config.name,
        store: { engine: deps.store.engine },
        events: { total, rejected },
        ingest: {
          acceptedTotal: accepted,
          rejectedTotal: deps.meter.rejectedTotal,
          quarantinedTotal: deps.meter.quarantinedTotal,
          // Every event received since start is exactly one of these three.
          receivedTotal: accepted + deps.meter.rejectedTotal + deps.meter.quarantinedTotal,
          eventsPerSecond: deps.meter.rate(),
        },
        loader: {
          lastLoadedSequence: loader.lastLoadedSequence,
          pendingSegments: loader.pendingSegments,
          lagEvents: Math.max(0, accepted - loader.loadedEvents - loader.duplicates),
          lagSeconds: loader.oldestPendingSince ? (Date.now() - loader.oldestPendingSince) / 1000 : 0,
          walBytes: deps.wal.bytes,
          lastError: loader.lastError,
          // Log lines set aside instead of loaded (GET /v1/wal/damaged lists them), by what became of them.
          damagedLines: {
            held: damaged.find((row) => row.status === 'held')?.count ?? 0,
            replayed: damaged.find((row) => row.status === 'replayed')?.count ?? 0,
            discarded: damaged.find((row) => row.status === 'discarded')?.count ?? 0,
          },
        },
        bySource,
      };
    },
  );

  app.get(
    '/v1/events/timeline',
    {
      config: { permission: 'read:analytics' },
      schema: {
        tags: ['admin'],
        summary: 'Event counts per hour or day and type',
        security: API_KEY_SECURITY,
        querystring: TIMELINE_QUERY,
      },
    },
    async (request) => {
      const query = request.query as { interval?: string; from?: string; to?: string };
      const interval = query.interval === 'hour' ? 'hour' : 'day';
      const points = await deps.store.events.timeline({
        interval,
        ...(query.from ? { from: parseDate(query.from, 'from') } : {}),
        ...(query.to ? { to: parseDate(query.to, 'to') } : {}),
      });
      return { interval, points };
    },
  );

  app.get(
    '/v1/events/by-type',
    {
      config: { permission: 'read:analytics' },
      schema: { tags: ['admin'], summary: 'Event counts by type', security: API_KEY_SECURITY },
    },
    async () => ({
      items: await deps.store.events.countsByType(),
    }),
  );

  app.get(
    '/v1/events/by-name',
    {
      config: { permission: 'read:analytics' },
      schema: { tags: ['admin'], summary: 'Most frequent event names', security: API_KEY_SECURITY },
    },
    async (request) => ({ items: await deps.store.events.topEventNames(limitOf(request, 20, 1000)) }),
  );

  app.get(
    '/v1/events/recent',
    {
      config: { permission: 'read:events' },
      schema: { tags: ['admin'], summary: 'Most recently loaded events', security: API_KEY_SECURITY },
    },
    async (request) => {
      const after = Number((request.query as { after?: string }).after ?? 0) || 0;
      return {
        events: await deps.store.events.recent({ limit: limitOf(request, 50, 1000), afterLoadSeq: after }),
      };
    },
  );

  app.get(
    '/v1/events/rejects',
    {
      config: { permission: 'read:events' },
      schema: {
        tags: ['admin'],
        summary: 'Most recent rejected events with their reasons',
        security: API_KEY_SECURITY,
      },
    },
    async (request) => ({ items: await deps.store.events.recentRejects(limitOf(request, 50, 1000)) }),
  );

  app.get(
    '/v1/tail',
    {
      config: { permission: 'read:events' },
      schema: {
        tags: ['admin'],
        summary: 'Live tail of accepted events (durable, maybe not yet loaded)',
        security: API_KEY_SECURITY,
      },
    },
    async (request) => {
      const after = Number((request.query as { after?: string }).after ?? 0) || 0;
      const entries = deps.tail.since(after, limitOf(request, 100, 500));
      return {
        cursor: deps.tail.cursor,
        events: entries.map(({ cursor, record }) => ({
          cursor,
          messageId: record.message_id,
          type: record.type,
          event: record.event,
          name: record.name,
          userId: record.user_id,
          anonymousId: record.anonymous_id,
          source: record.source,
          timestamp: record.timestamp,
          receivedAt: record.received_at,
          properties: record.properties,
          traits: record.traits,
          context: record.context,
        })),
      };
    },
  );

  app.get(
    '/v1/sources',
    {
      config: { permission: 'read:analytics' },
      schema: { tags: ['admin'], summary: 'Configured sources', security: API_KEY_SECURITY },
    },
    async () => {
      const counts = new Map((await deps.store.events.countsBySource()).map((row) => [row.name, row.count]));
      return {
        sources: deps.config.sources.map((source) => ({ ...source, events: counts.get(source.name) ?? 0 })),
      };
    },
  );

  app.get(
    '/v1/keys',
    {
      config: { permission: 'manage:keys' },
      schema: {
        tags: ['admin'],
        summary: 'API and write keys (never the keys themselves)',
        security: API_KEY_SECURITY,
      },
    },
    async () => ({
      keys: (await deps.store.keys.list()).map(describeKey),
    }),
  );

  app.post(
    '/v1/keys',
    {
      config: { permission: 'manage:keys' },
      schema: {
        tags: ['admin'],
        summary: 'Create a key; the response is the only time it is shown',
        security: API_KEY_SECURITY,
        body: {
          type: 'object',
          required: ['kind'],
          properties: {
            kind: { enum: [...API_KEY_KINDS] },
            name: { type: 'string' },
            source: { type: 'string' },
          },
        },
      },
    },
    async (request, reply) => {
      const body = (request.body ?? {}) as { kind?: unknown; name?: unknown; source?: unknown };
      const kind = parseApiKeyKind(body.kind);
      if (body.name !== undefined && typeof body.name !== 'string') {
        throw new RefineryError('REFINERY_ERR_INVALID_FIELD', 'name must be a string.', { field: 'name' });
      }
      const source = kind === 'write' ? sourceOf(body.source, deps.config) : null;
      const created = await createApiKey(deps.store, {
        kind,
        ...(typeof body.name === 'string' ? { name: body.name } : {}),
        source,
      });
      await audit(deps.audit, request, 'key.create', created.row.id, {
        kind: created.row.kind,
        prefix: created.row.prefix,
      });
      return reply.status(201).send({ key: created.key, ...describeKey(created.row) });
    },
  );

  app.delete(
    '/v1/keys/:id',
    {
      config: { permission: 'manage:keys' },
      schema: { tags: ['admin'], summary: 'Revoke a key', security: API_KEY_SECURITY },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      if (!(await deps.keys.revoke(id))) {
        throw new RefineryError('REFINERY_ERR_NOT_FOUND', `No live key with id ${id}.`, { field: 'id' });
      }
      await audit(deps.audit, request, 'key.revoke', id);
      return { revoked: true };
    },
  );

  app.post(
    '/v1/query',
    {
      config: { permission: 'query' },
      schema: {
        tags: ['admin'],
        summary: 'Run one read-only SELECT over the public views',
        description:
          'With `purpose`, the query is scoped to that consent purpose: it may read only `events_for_<purpose>`, ' +
          'the events of people whose consent (or the workspace default) allows it. See docs/consent.md. ' +
          'The answer is cut at `limits.queryMaxRows` rows or `limits.queryMaxBytes` bytes (`truncated`) and ' +
          'lists the public `relations` read; a query past `limits.queryTimeoutMs` answers 408, one that needs ' +
          'more than `limits.queryMaxMemory` 413. Every query by a key that sees personal data is in the audit ' +
          'log (`query.run`). See docs/store.md.',
        security: API_KEY_SECURITY,
        body: {
          type: 'object',
          required: ['sql'],
          properties: {
            sql: { type: 'string' },
            purpose: {
              type: 'string',
              enum: ['analytics', 'personalisation', 'advertising', 'sale_sharing'],
            },
          },
        },
      },
    },
    async (request) => {
      const body = request.body as { sql?: unknown; purpose?: unknown } | undefined;
      const sql = body?.sql;
      const purpose = body?.purpose === undefined ? undefined : consentPurposeOrThrow(body.purpose);
      if (typeof sql !== 'string' || sql.trim() === '') {
        throw new RefineryError('REFINERY_ERR_MISSING_FIELD', 'Send {"sql": "SELECT …"}.', {
          field: 'sql',
        });
      }
      // A key that sees personal data leaves a trace of every statement it sends, refused ones too; the
      // answer goes out only once that trace is durable.
      const audited = seesPersonalData(findApiKey(request)?.kind ?? '');
      try {
        const result = await deps.store.readOnlyQuery(sql, userQueryOptions(deps.config.limits, purpose));
        if (audited)
          await audit(deps.audit, request, 'query.run', null, queryAuditDetail(sql, purpose, { result }));
        return result;
      } catch (error) {
        if (audited)
          await audit(deps.audit, request, 'query.run', null, queryAuditDetail(sql, purpose, { error }));
        throw error;
      }
    },
  );
}

function sourceOf(value: unknown, config: WorkspaceConfig): string {
  const names = config.sources.map((source) => source.name);
  const source = value === undefined ? names[0] : value;
  if (typeof source !== 'string' || !names.includes(source)) {
    throw new RefineryError(
      'REFINERY_ERR_INVALID_FIELD',
      `source must be one of the sources in refinery.yaml: ${names.join(', ')}.`,
      { field: 'source' },
    );
  }
  return source;
}

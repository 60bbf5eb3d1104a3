import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { KeyRing } from '../../access/api-keys.js';
import { type BatchBody, readBatchBody } from '../../collect/batch-body.js';
import type { AcceptReport, Collector, RequestFacts } from '../../collect/collector.js';
import type { WorkspaceConfig } from '../../config/workspace-config.js';
import { RefineryError } from '../../core/errors.js';
import { gpcFromHeaders } from '../../privacy/gpc.js';
import type { EventType } from '../../store/wal-format.js';
import { authenticateWriteKey } from '../auth.js';

export interface CollectRouteDeps {
  readonly config: WorkspaceConfig;
  readonly collector: Collector;
  readonly keys: KeyRing;
}

// Segment's HTTP API names, analytics.js's short names, and RudderStack's beacon path all land here.
const SINGLE_ROUTES: Record<string, EventType> = {
  track: 'track',
  t: 'track',
  identify: 'identify',
  i: 'identify',
  page: 'page',
  p: 'page',
  screen: 'screen',
  s: 'screen',
  group: 'group',
  g: 'group',
  alias: 'alias',
  a: 'alias',
};
const BATCH_PATHS = ['/v1/batch', '/v1/b', '/v1/import', '/beacon/v1/batch'];
// A batch body as read before validation, for its handler.
const batchBodies = new WeakMap<FastifyRequest, BatchBody & { readonly source: string }>();

const acceptedSchema = {
  type: 'object',
  properties: {
    success: { type: 'boolean' },
    accepted: { type: 'integer', description: 'Events stored (flagged ones included).' },
    flagged: { type: 'integer', description: 'Stored events that broke a contract in warn mode.' },
    quarantined: {
      type: 'array',
      description:
        'Events an enforced contract held in quarantine: durable, not stored as events, replayable.',
      items: {
        type: 'object',
        properties: {
          index: { type: 'integer' },
          messageId: { type: 'string' },
          contract: { type: ['string', 'null'] },
          violations: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                path: { type: 'string' },
                rule: { type: 'string' },
                message: { type: 'string' },
                value: { type: 'string' },
              },
            },
          },
        },
      },
    },
    rejected: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          index: { type: 'integer' },
          messageId: { type: ['string', 'null'] },
          code: { type: 'string' },
          message: { type: 'string' },
          field: { type: ['string', 'null'] },
        },
      },
    },
  },
};

export function registerCollectRoutes(app: FastifyInstance, deps: CollectRouteDeps): void {
  const { limits } = deps.config;
  for (const [path, type] of Object.entries(SINGLE_ROUTES)) {
    app.post(
      `/v1/${path}`,
      {
        bodyLimit: limits.maxEventBytes,
        // A lone surrogate refuses the message with its field path, from the collector.
        config: { bodyLimitCode: 'REFINERY_ERR_EVENT_TOO_LARGE', checksUnicodeItself: true },
        schema: {
          tags: ['collect'],
          summary: path.length === 1 ? `Short form of /v1/${type} (analytics.js)` : `Record one ${type} call`,
          hide: path.length === 1,
          security: [{ writeKey: [] }],
          body: { type: 'object', description: `A Segment Spec ${type} message`, additionalProperties: true },
          response: { 200: acceptedSchema },
        },
      },
      async (request, reply) => {
        const source = (await authenticateWriteKey(request, deps.keys)).source ?? 'default';
        const report = await deps.collector.accept([request.body], type, factsOf(request, source));
        return answer(reply, report, true);
      },
    );
  }
  for (const path of BATCH_PATHS) {
    app.post(
      path,
      {
        bodyLimit: limits.maxBatchBytes,
        // A lone surrogate refuses its message (the others are stored), or the request in a batch-level field.
        config: { checksUnicodeItself: true },
        // Before the schema, so a batch-level field holding a lone surrogate is named as such.
        // The write key is checked first (it may ride in the body, which is parsed by now), so a request without
        // a valid key learns nothing about how its body would have been judged.
        preValidation: async (request) => {
          const source = (await authenticateWriteKey(request, deps.keys)).source ?? 'default';
          batchBodies.set(request, {
            source,
            ...readBatchBody(request.body, limits, request.mayHoldLoneSurrogate ?? true),
          });
        },
        schema: {
          tags: ['collect'],
          summary: path === '/v1/batch' ? 'Record many calls at once' : `Alias of /v1/batch (${path})`,
          hide: path !== '/v1/batch',
          security: [{ writeKey: [] }],
          body: {
            type: 'object',
            required: ['batch'],
            properties: {
              batch: { type: 'array', items: { type: 'object' } },
              sentAt: { type: 'string', format: 'date-time' },
              context: { type: 'object' },
              integrations: { type: 'object' },
              writeKey: { type: 'string' },
            },
          },
          response: { 200: acceptedSchema },
        },
      },
      async (request, reply) => {
        const { source, messages, defaults } = batchBodies.get(request)!;
        const report = await deps.collector.accept(messages, undefined, factsOf(request, source), defaults);
        return answer(reply, report, false);
      },
    );
  }
}

function factsOf(request: FastifyRequest, source: string): RequestFacts {
  return {
    receivedAt: Date.now(),
    ip: request.ip ?? null,
    userAgent: request.headers['user-agent'] ?? null,
    gpc: gpcFromHeaders(request.headers),
    source,
    bodyBytes: request.bodyBytes ?? Buffer.byteLength(JSON.stringify(request.body ?? null)),
    // Unknown when the body did not come through the JSON body parser: then every string is checked.
    mayHoldLoneSurrogate: request.mayHoldLoneSurrogate ?? true,
  };
}

function answer(reply: FastifyReply, report: AcceptReport, single: boolean) {
  // Quarantined events are durably held, so a request is a success unless every event was malformed.
  if (report.accepted > 0 || report.quarantined.length > 0 || report.rejected.length === 0) {
    return {
      success: true,
      accepted: report.accepted,
      flagged: report.flagged,
      quarantined: report.quarantined,
      rejected: report.rejected,
    };
  }
  const first = report.rejected[0]!;
  const error = single
    ? new RefineryError(first.code as never, first.message, first.field ? { field: first.field } : {})
    : new RefineryError(
        'REFINERY_ERR_ALL_EVENTS_REJECTED',
        `All ${report.rejected.length} events were rejected.`,
      );
  return reply
    .status(error.status)
    .send({ ...error.toJSON(), success: false, accepted: 0, rejected: report.rejected });
}

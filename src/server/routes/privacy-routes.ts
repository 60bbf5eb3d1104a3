import type { FastifyInstance } from 'fastify';
import type { AuditLog } from '../../audit/audit-log.js';
import { recordConsentDecision } from '../../collect/consent-observations.js';
import { RefineryError } from '../../core/errors.js';
import { consentPurposeOrThrow } from '../../privacy/consent-purposes.js';
import { bundlePartRows, parseBundlePart, toCsv } from '../../privacy/requests/access-bundle.js';
import { isRequestStatus, validateNewRequest } from '../../privacy/requests/privacy-request.js';
import { PrivacyRequests, type RunOutcome } from '../../privacy/requests/privacy-requests.js';
import { PRIVACY_REQUEST_KINDS, PRIVACY_REQUEST_STATUSES } from '../../store/privacy-types.js';
import type { AppDeps } from '../app.js';
import { actorOf, audit } from '../audit-trail.js';
import { API_KEY_SECURITY } from '../authorise.js';

export interface PrivacyRouteDeps {
  readonly requests: PrivacyRequests;
  readonly audit?: AuditLog;
}

/** The request service of a server: erasures drain its loader, shred in its vault and reload its identity graph. */
export function privacyRequestsOf(deps: AppDeps): PrivacyRequests {
  const identity = deps.identity as { run(): Promise<unknown>; reload?: () => Promise<unknown> } | undefined;
  return new PrivacyRequests({
    store: deps.store,
    deadlineDays: deps.config.privacy.requestDeadlineDays,
    consentDefaults: deps.config.consent.default,
    personalFields: deps.config.privacy.personalFields,
    ...(deps.privacy
      ? {
          vault: deps.privacy.vault,
          suppression: deps.privacy.suppression,
          identifiers: deps.privacy.identifiers,
        }
      : {}),
    drainLoader: () => deps.loader.drain(),
    ...(identity
      ? {
          resolveIdentities: () => identity.run(),
          // Until IdentityResolution.reload() exists, nothing re-reads the graph (see the report on issue 5).
          ...(identity.reload ? { reloadIdentities: () => identity.reload!() } : {}),
        }
      : {}),
    recordObjection: async ({ identifier, purpose, at }) => {
      await recordConsentDecision(deps.wal, {
        identifier,
        purpose: consentPurposeOrThrow(purpose),
        granted: false,
        at,
        source: 'api',
      });
    },
    // The live view keeps recent requests in memory; the erased person's go with the rest of their data.
    forgetInMemory: (target) => {
      deps.tail.forget([...target.userIds, ...target.anonymousIds]);
    },
    // ClickHouse removes old parts after old_parts_lifetime; wait a little so the report is usually final.
    erasure: { waitForCleanupMs: 30_000 },
  });
}

const REQUEST_SCHEMA = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    kind: { type: 'string', enum: [...PRIVACY_REQUEST_KINDS] },
    subject: { type: 'string', description: 'Masked display form of the ids the request named' },
    personId: { type: ['string', 'null'] },
    purpose: { type: ['string', 'null'] },
    status: { type: 'string', enum: [...PRIVACY_REQUEST_STATUSES] },
    receivedAt: { type: 'string', format: 'date-time' },
    dueAt: { type: 'string', format: 'date-time' },
    completedAt: { type: ['string', 'null'], format: 'date-time' },
    overdue: { type: 'boolean' },
    actor: { type: 'string' },
    result: { type: ['object', 'null'], additionalProperties: true },
  },
} as const;

const ONE_REQUEST = { 200: { type: 'object', properties: { request: REQUEST_SCHEMA } } } as const;
const ID_PARAMS = { type: 'object', properties: { id: { type: 'string' } } } as const;

/** Who made a request, as the request log shows it: the key's name and id, never a secret. */
function actorName(request: Parameters<typeof actorOf>[0]): string {
  const actor = actorOf(request);
  if ('keyId' in actor) return `${actor.keyName} (${actor.keyId})`;
  return 'cli' in actor ? actor.cli : actor.system;
}

/** Data-subject rights: access, erasure and objection requests, the queue, and access bundles. */
export function registerPrivacyRoutes(app: FastifyInstance, deps: PrivacyRouteDeps): void {
  const recordOutcome = async (request: Parameters<typeof audit>[1], outcome: RunOutcome) => {
    const { request: privacyRequest, erasure } = outcome;
    await audit(deps.audit, request, 'privacy.request', privacyRequest.id, {
      kind: privacyRequest.kind,
      status: privacyRequest.status,
      personId: privacyRequest.personId,
    });
    if (erasure) {
      await audit(deps.audit, request, 'personal_data.erase', privacyRequest.personId, {
        requestId: privacyRequest.id,
        deleted: erasure.deleted,
        keysShredded: erasure.keysShredded,
        suppressed: erasure.suppressed,
      });
    }
  };

  app.post(
    '/v1/privacy/requests',
    {
      config: { permission: 'privacy:requests' },
      schema: {
        tags: ['privacy'],
        summary: 'Receive a data-subject request (access, erase, object) and carry it out now or queue it',
        description:
          'Name the person by userId, anonymousId or email. `run: false` leaves the request open in the queue. ' +
          'An erasure deletes the person everywhere, shreds their keys and suppresses their ids.',
        security: API_KEY_SECURITY,
        body: {
          type: 'object',
          required: ['kind'],
          properties: {
            kind: { type: 'string', enum: [...PRIVACY_REQUEST_KINDS] },
            userId: { type: 'string' },
            anonymousId: { type: 'string' },
            email: { type: 'string' },
            purpose: { type: 'string', description: 'Required for object' },
            run: { type: 'boolean', default: true },
          },
        },
        response: { 201: ONE_REQUEST[200] },
      },
    },
    async (request, reply) => {
      const input = validateNewRequest(request.body);
      const outcome = await deps.requests.create(input, actorName(request));
      await recordOutcome(request, outcome);
      reply.code(201);
      return { request: outcome.request };
    },
  );

  app.get(
    '/v1/privacy/requests',
    {
      config: { permission: 'privacy:requests' },
      schema: {
        tags: ['privacy'],
        summary: 'The request log: open requests first by due date, then the rest newest first',
        security: API_KEY_SECURITY,
        querystring: {
          type: 'object',
          properties: { status: { type: 'string', enum: [...PRIVACY_REQUEST_STATUSES] } },
        },
        response: {
          200: { type: 'object', properties: { requests: { type: 'array', items: REQUEST_SCHEMA } } },
        },
      },
    },
    async (request) => {
      const { status } = request.query as { status?: string };
      if (status !== undefined && !isRequestStatus(status)) {
        throw new RefineryError(
          'REFINERY_ERR_INVALID_FIELD',
          `status must be one of ${PRIVACY_REQUEST_STATUSES.join(', ')}.`,
          {
            field: 'status',
          },
        );
      }
      return { requests: await deps.requests.list(status) };
    },
  );

  app.get(
    '/v1/privacy/requests/:id',
    {
      config: { permission: 'privacy:requests' },
      schema: {
        tags: ['privacy'],
        summary: 'One data-subject request',
        security: API_KEY_SECURITY,
        params: ID_PARAMS,
        response: ONE_REQUEST,
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      return { request: await deps.requests.getOrThrow(id) };
    },
  );

  app.post(
    '/v1/privacy/requests/:id/run',
    {
      config: { permission: 'privacy:requests' },
      schema: {
        tags: ['privacy'],
        summary: 'Carry out an open request from the queue',
        security: API_KEY_SECURITY,
        params: ID_PARAMS,
        response: ONE_REQUEST,
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      const outcome = await deps.requests.run(id);
      await recordOutcome(request, outcome);
      return { request: outcome.request };
    },
  );

  app.post(
    '/v1/privacy/requests/:id/refuse',
    {
      config: { permission: 'privacy:requests' },
      schema: {
        tags: ['privacy'],
        summary: 'Refuse an open request, with the reason given to the person',
        security: API_KEY_SECURITY,
        params: ID_PARAMS,
        body: { type: 'object', required: ['reason'], properties: { reason: { type: 'string' } } },
        response: ONE_REQUEST,
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      const reason = (request.body as { reason?: unknown } | undefined)?.reason;
      if (typeof reason !== 'string' || reason.trim() === '' || reason.length > 2000) {
        throw new RefineryError(
          'REFINERY_ERR_MISSING_FIELD',
          'Give the reason for refusing (up to 2000 characters).',
          {
            field: 'reason',
          },
        );
      }
      const refused = await deps.requests.refuse(id, reason);
      await recordOutcome(request, { request: refused });
      return { request: refused };
    },
  );

  app.get(
    '/v1/privacy/requests/:id/bundle',
    {
      config: { permission: 'privacy:requests' },
      schema: {
        tags: ['privacy'],
        summary: "A done access request's bundle: everything held about the person, revealed",
        description:
          '`format=json` (default) is one document; `format=csv&part=events` is one part as CSV ' +
          '(parts: profile, identities, events, consents, quarantined, merges, customers, orders, requests).',
        security: API_KEY_SECURITY,
        params: ID_PARAMS,
        querystring: {
          type: 'object',
          properties: {
            format: { type: 'string', enum: ['json', 'csv'], default: 'json' },
            part: { type: 'string' },
          },
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const { format = 'json', part } = request.query as { format?: string; part?: string };
      if (format !== 'json' && format !== 'csv') {
        throw new RefineryError('REFINERY_ERR_INVALID_FIELD', 'format must be json or csv.', {
          field: 'format',
        });
      }
      const chosen = format === 'csv' ? parseBundlePart(part) : undefined;
      const bundle = await deps.requests.bundle(id);
      await audit(deps.audit, request, 'personal_data.export', bundle.personId, {
        requestId: id,
        format,
        ...(chosen ? { part: chosen } : {}),
      });
      if (chosen) {
        reply.header('content-type', 'text/csv; charset=utf-8');
        reply.header('content-disposition', `attachment; filename="${id}-${chosen}.csv"`);
        return reply.send(toCsv(bundlePartRows(bundle, chosen)));
      }
      reply.header('content-disposition', `attachment; filename="${id}.json"`);
      return bundle;
    },
  );
}

import type { FastifyInstance } from 'fastify';
import type { AuditLog } from '../../audit/audit-log.js';
import { consentDecisionLine } from '../../collect/consent-observations.js';
import type { WriteAheadLog } from '../../collect/wal/write-ahead-log.js';
import { RefineryError } from '../../core/errors.js';
import type { IdentifierHasher } from '../../identity/identifier-hashing.js';
import { consentDecisionsOf } from '../../privacy/consent-decisions.js';
import type { ConsentDefaults } from '../../privacy/consent-purposes.js';
import {
  consentAuditTarget,
  consentOverview,
  type OverviewInterval,
  readPersonConsent,
} from '../../privacy/consent-reader.js';
import { findPerson } from '../../profiles/profile-reader.js';
import type { Store } from '../../store/store.js';
import { audit } from '../audit-trail.js';
import { API_KEY_SECURITY } from '../authorise.js';
import { parseDate } from './query-params.js';

export interface ConsentRouteDeps {
  readonly store: Store;
  readonly wal: WriteAheadLog;
  readonly defaults: ConsentDefaults;
  readonly audit?: AuditLog;
  /** Hashes an email or phone the way the identity graph holds it, for lookups by one. */
  readonly identifiers?: IdentifierHasher;
}

const PURPOSE_COUNTS = {
  type: 'object',
  properties: {
    analytics: { type: 'integer' },
    personalisation: { type: 'integer' },
    advertising: { type: 'integer' },
    sale_sharing: { type: 'integer' },
  },
} as const;

const DECISION = { type: 'string', enum: ['granted', 'denied'] } as const;

const OVERVIEW_RESPONSE = {
  type: 'object',
  properties: {
    interval: { type: 'string', enum: ['day', 'week'] },
    from: { type: 'string', format: 'date-time' },
    to: { type: 'string', format: 'date-time' },
    purposes: { type: 'array', items: { type: 'string' } },
    defaults: {
      type: 'object',
      properties: {
        analytics: DECISION,
        personalisation: DECISION,
        advertising: DECISION,
        sale_sharing: DECISION,
      },
    },
    points: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          bucket: { type: 'string', format: 'date-time' },
          people: { type: 'integer' },
          granted: PURPOSE_COUNTS,
        },
      },
    },
    unknownCategories: {
      type: 'array',
      items: {
        type: 'object',
        properties: { category: { type: 'string' }, count: { type: 'integer' } },
      },
    },
  },
} as const;

const PERSON_RESPONSE = {
  type: 'object',
  properties: {
    personId: { type: 'string' },
    state: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          purpose: { type: 'string' },
          granted: { type: 'boolean' },
          since: { type: ['string', 'null'], format: 'date-time' },
          source: { type: 'string', enum: ['api', 'gpc', 'context.consent', 'default'] },
        },
      },
    },
    history: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          purpose: { type: 'string' },
          granted: { type: 'boolean' },
          source: { type: 'string', enum: ['api', 'gpc', 'context.consent'] },
          category: { type: ['string', 'null'] },
          at: { type: 'string', format: 'date-time' },
        },
      },
    },
  },
} as const;

/** Consent: the overview per purpose over time, one person's standing and history, and recording decisions. */
export function registerConsentRoutes(app: FastifyInstance, deps: ConsentRouteDeps): void {
  app.get(
    '/v1/consent/overview',
    {
      config: { permission: 'read:analytics' },
      schema: {
        tags: ['consent'],
        summary: 'Share of people per purpose over time (people known, and how many stand granted)',
        description:
          'Per bucket (whole UTC days, or weeks from Monday): the people first seen by the bucket’s end, and how ' +
          'many of them stand granted per purpose at its end (their latest decision, else the workspace default). ' +
          'Also the consent-manager categories the mapping does not know, with how often they were sent.',
        security: API_KEY_SECURITY,
        querystring: {
          type: 'object',
          properties: {
            interval: { type: 'string', enum: ['day', 'week'] },
            from: { type: 'string', format: 'date-time' },
            to: { type: 'string', format: 'date-time' },
          },
        },
        response: { 200: OVERVIEW_RESPONSE },
      },
    },
    async (request) => {
      const query = request.query as { interval?: string; from?: string; to?: string };
      const interval = intervalOf(query.interval);
      return consentOverview(deps.store, deps.defaults, {
        interval,
        ...(query.from ? { from: parseDate(query.from, 'from') } : {}),
        ...(query.to ? { to: parseDate(query.to, 'to') } : {}),
      });
    },
  );

  app.get(
    '/v1/consent/:id',
    {
      config: { permission: 'read:personal' },
      schema: {
        tags: ['consent'],
        summary: 'One person’s consent: standing per purpose and the history behind it',
        description:
          'The id is a person id (p_…), or type:value of any identifier (user_id:42, anonymous_id:…, ' +
          'email:ada@example.com); a bare value is a user id.',
        security: API_KEY_SECURITY,
        params: { type: 'object', properties: { id: { type: 'string' } } },
        response: { 200: PERSON_RESPONSE },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      const person = await findPerson(deps.store, id, deps.identifiers);
      if (!person) {
        throw new RefineryError('REFINERY_ERR_PROFILE_NOT_FOUND', `No person is known by "${id}".`, {
          field: 'id',
        });
      }
      const consent = await readPersonConsent(deps.store, person, deps.defaults);
      await audit(deps.audit, request, 'personal_data.read', person.personId, { via: 'consent' });
      return consent;
    },
  );

  app.post(
    '/v1/consent',
    {
      config: { permission: 'privacy:requests' },
      schema: {
        tags: ['consent'],
        summary: 'Record consent decisions for a user or anonymous id (durable once answered)',
        description:
          'Decisions recorded here outrank a banner or GPC signal of the same moment, and like every decision can ' +
          'be changed by a later one. They apply to the person’s events after the next load.',
        security: API_KEY_SECURITY,
        body: {
          type: 'object',
          required: ['purposes'],
          properties: {
            userId: { type: 'string' },
            anonymousId: { type: 'string' },
            purposes: {
              type: 'object',
              properties: {
                analytics: { type: 'boolean' },
                personalisation: { type: 'boolean' },
                advertising: { type: 'boolean' },
                sale_sharing: { type: 'boolean' },
              },
            },
            at: { type: 'string', format: 'date-time' },
          },
        },
        response: {
          202: { type: 'object', properties: { recorded: { type: 'integer' } } },
        },
      },
    },
    async (request, reply) => {
      const decisions = consentDecisionsOf(request.body, new Date());
      await deps.wal.append(consentDecisionLine(...decisions));
      const target = await consentAuditTarget(deps.store, decisions[0]!.identifier, identifiersOrThrow(deps));
      await audit(deps.audit, request, 'consent.change', target, {
        purposes: Object.fromEntries(decisions.map((decision) => [decision.purpose, decision.granted])),
      });
      return reply.code(202).send({ recorded: decisions.length });
    },
  );
}

function identifiersOrThrow(deps: ConsentRouteDeps): IdentifierHasher {
  if (!deps.identifiers) {
    throw new RefineryError(
      'REFINERY_ERR_NOT_SUPPORTED',
      'Recording consent needs the workspace’s keys (its master key), which this server has not opened.',
    );
  }
  return deps.identifiers;
}

function intervalOf(raw: string | undefined): OverviewInterval {
  if (raw === undefined || raw === 'day' || raw === 'week') return raw ?? 'day';
  throw new RefineryError('REFINERY_ERR_INVALID_FIELD', 'interval must be day or week.', {
    field: 'interval',
  });
}

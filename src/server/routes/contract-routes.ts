import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { seesPersonalData } from '../../access/roles.js';
import type { AuditLog } from '../../audit/audit-log.js';
import type { WorkspaceConfig } from '../../config/workspace-config.js';
import { summariseContracts } from '../../contracts/contract-summary.js';
import type { LiveContracts } from '../../contracts/live-contracts.js';
import {
  discardQuarantined,
  getQuarantinedOrThrow,
  type QuarantineDecisionContext,
  replayQuarantined,
} from '../../contracts/quarantine.js';
import { quarantineExportLines } from '../../contracts/quarantine-export.js';
import { withoutStatus } from '../../contracts/quarantine-rows.js';
import { violationRates } from '../../contracts/violation-rates.js';
import { RefineryError } from '../../core/errors.js';
import { oneAtATime } from '../../core/one-at-a-time.js';
import { revealMessage } from '../../privacy/vault/personal-fields.js';
import type { WorkspacePrivacy } from '../../privacy/workspace-privacy.js';
import type { QuarantinedEventRow, QuarantineFilter, Store } from '../../store/store.js';
import { audit } from '../audit-trail.js';
import { API_KEY_SECURITY, getApiKeyOrThrow } from '../authorise.js';
import { limitOf, offsetOf, parseDate, TIMELINE_QUERY } from './query-params.js';

export interface ContractRouteDeps {
  readonly audit?: AuditLog;
  readonly config: WorkspaceConfig;
  readonly store: Store;
  readonly contracts: LiveContracts;
  readonly dataDir: string;
  /** Opens sealed personal fields of held payloads (for replays, and for the roles that read them). */
  readonly privacy?: WorkspacePrivacy;
}

const STATUSES = ['held', 'replayed', 'discarded'];

const filterQuery = {
  type: 'object',
  properties: {
    status: { enum: STATUSES },
    contract: { type: 'string' },
    event: { type: 'string', description: 'Track event name, or page/screen name.' },
    type: { type: 'string' },
    rule: { type: 'string', description: 'Held for a violation of this rule, e.g. required, validValues.' },
    source: { type: 'string' },
    from: { type: 'string', format: 'date-time' },
    to: { type: 'string', format: 'date-time' },
  },
};

const decisionBody = {
  type: 'object',
  properties: {
    ids: { type: 'array', items: { type: 'string' } },
    filter: filterQuery,
    force: {
      type: 'boolean',
      description: 'Store events that still break their contract (they are flagged).',
    },
    dryRun: { type: 'boolean' },
    all: { type: 'boolean', description: 'Every held event (when neither ids nor a filter is given).' },
    fixes: {
      type: 'array',
      description: 'Corrected payloads, replayed instead of the held ones.',
      items: { type: 'object', properties: { id: { type: 'string' }, payload: { type: 'object' } } },
    },
  },
};

/** Contracts in force, violation statistics, and the quarantine: browse, export, replay, discard. */
export function registerContractRoutes(app: FastifyInstance, deps: ContractRouteDeps): void {
  // Decisions run one at a time: each writes the next segment of the quarantine stream.
  const decide = oneAtATime();

  app.get(
    '/v1/contracts',
    {
      config: { permission: 'read:analytics' },
      schema: {
        tags: ['contracts'],
        summary: 'Contracts in force and what they govern',
        security: API_KEY_SECURITY,
      },
    },
    async () => summariseContracts(deps.contracts.current, deps.contracts.status),
  );

  app.post(
    '/v1/contracts/reload',
    {
      config: { permission: 'manage:data' },
      schema: {
        tags: ['contracts'],
        summary: 'Re-read contracts/ now (the server also polls it); a broken set is refused',
        security: API_KEY_SECURITY,
      },
    },
    async () => {
      deps.contracts.reloadIfChanged(true);
      const status = deps.contracts.status;
      if (status.error) {
        throw new RefineryError(status.error.code as never, status.error.message);
      }
      return summariseContracts(deps.contracts.current, status);
    },
  );

  app.get(
    '/v1/contracts/violations/timeline',
    {
      config: { permission: 'read:analytics' },
      schema: {
        tags: ['contracts'],
        summary: 'Received, flagged and quarantined events and the violation rate per event over time',
        security: API_KEY_SECURITY,
        querystring: TIMELINE_QUERY,
      },
    },
    async (request) => {
      const query = request.query as { interval?: string; from?: string; to?: string };
      const interval = query.interval === 'day' ? 'day' : 'hour';
      return {
        interval,
        points: await violationRates(deps.store, {
          interval,
          ...(query.from ? { from: parseDate(query.from, 'from') } : {}),
          ...(query.to ? { to: parseDate(query.to, 'to') } : {}),
        }),
      };
    },
  );

  app.get(
    '/v1/contracts/violations/top',
    {
      config: { permission: 'read:analytics' },
      schema: { tags: ['contracts'], summary: 'Most frequent violations', security: API_KEY_SECURITY },
    },
    async (request) => {
      const query = request.query as { from?: string };
      return {
        items: await deps.store.governance.topViolations({
          limit: limitOf(request, 20, 1000),
          ...(query.from ? { from: parseDate(query.from, 'from') } : {}),
        }),
      };
    },
  );

  app.get(
    '/v1/quarantine',
    {
      config: { permission: 'read:analytics' },
      schema: {
        tags: ['quarantine'],
        summary: 'Quarantined events, newest first, with their violations and counts per status',
        security: API_KEY_SECURITY,
        querystring: {
          ...filterQuery,
          properties: {
            ...filterQuery.properties,
            limit: { type: 'integer' },
            offset: { type: 'integer' },
          },
        },
      },
    },
    async (request) => {
      const filter = filterOf(request.query as Record<string, unknown>);
      const offset = offsetOf(request);
      const [items, counts] = await Promise.all([
        deps.store.governance.listQuarantined(filter, { limit: limitOf(request, 50, 1000), offset }),
        deps.store.governance.countQuarantined(withoutStatus(filter)),
      ]);
      // The list never carries payloads; the excerpts of offending values are masked for the other roles.
      const personal = seesPersonalData(getApiKeyOrThrow(request).kind);
      return { items: personal ? items : items.map(withViolationValuesMasked), counts };
    },
  );

  app.get(
    '/v1/quarantine/export',
    {
      config: { permission: 'read:personal' },
      schema: {
        tags: ['quarantine'],
        summary: 'Every selected quarantined event with its payload, as NDJSON (default) or CSV',
        security: API_KEY_SECURITY,
        querystring: {
          ...filterQuery,
          properties: { ...filterQuery.properties, format: { enum: ['ndjson', 'csv'] } },
        },
      },
    },
    async (request, reply) => {
      const query = request.query as Record<string, unknown>;
      const format = query.format === 'csv' ? 'csv' : 'ndjson';
      reply.header('content-type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson');
      await audit(deps.audit, request, 'personal_data.export', null, { what: 'quarantine', format });
      return reply.send(Readable.from(quarantineExportLines(deps.store, filterOf(query), format)));
    },
  );

  app.get(
    '/v1/quarantine/:id',
    {
      config: { permission: 'read:personal' },
      schema: {
        tags: ['quarantine'],
        summary: 'One quarantined event with its payload',
        security: API_KEY_SECURITY,
      },
    },
    async (request) => {
      const row = await getQuarantinedOrThrow(deps.store, (request.params as { id: string }).id);
      await audit(deps.audit, request, 'personal_data.read', null, { what: 'quarantined event', id: row.id });
      if (!deps.privacy || !row.payload) return row;
      return { ...row, payload: (await revealMessage(row.payload, deps.privacy.vault)).value };
    },
  );

  app.post(
    '/v1/quarantine/replay',
    {
      config: { permission: 'manage:data' },
      schema: {
        tags: ['quarantine'],
        summary: 'Re-check held events against the contracts in force now and store those that pass',
        security: API_KEY_SECURITY,
        body: decisionBody,
      },
    },
    async (request) => {
      const body = decisionOf(request.body);
      return decide(() => {
        deps.contracts.reloadIfChanged();
        return replayQuarantined(contextOf(deps, request), deps.contracts.current, body);
      });
    },
  );

  app.post(
    '/v1/quarantine/discard',
    {
      config: { permission: 'manage:data' },
      schema: {
        tags: ['quarantine'],
        summary: 'Mark held events discarded: kept for the record, never stored',
        security: API_KEY_SECURITY,
        body: decisionBody,
      },
    },
    async (request) => {
      const body = decisionOf(request.body);
      if (body.dryRun) {
        // Nothing is decided: report how many held events the selection names.
        const counts = await deps.store.governance.countQuarantined({ ...body.filter, status: 'held' });
        return { discarded: 0, wouldDiscard: counts.reduce((n, c) => n + c.count, 0), dryRun: true };
      }
      return decide(() => discardQuarantined(contextOf(deps, request), body.filter));
    },
  );
}

/** The value a violation quotes is an excerpt of the event, so personal data unless shown otherwise. */
const MASKED_VALUE = '(not shown: needs read:personal)';

function withViolationValuesMasked(row: QuarantinedEventRow): QuarantinedEventRow {
  return {
    ...row,
    violations: row.violations.map((violation) =>
      violation.value === undefined ? violation : { ...violation, value: MASKED_VALUE },
    ),
  };
}

function contextOf(deps: ContractRouteDeps, request: FastifyRequest): QuarantineDecisionContext {
  return {
    store: deps.store,
    workDir: deps.dataDir,
    dedupeWindowHours: deps.config.collect.dedupeWindowHours,
    identityRules: deps.config.identity,
    consent: deps.config.consent,
    ...(deps.privacy ? { privacy: deps.privacy } : {}),
    // Who decided: the name of the key that authenticated the request.
    by: getApiKeyOrThrow(request).name,
  };
}

function decisionOf(raw: unknown): {
  filter: QuarantineFilter;
  force: boolean;
  dryRun: boolean;
  fixes?: Map<string, Record<string, unknown>>;
} {
  const body = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  // Decisions apply to held events only; a status in the filter neither widens nor narrows them.
  const filter = withoutStatus(filterOf((body.filter as Record<string, unknown>) ?? {}));
  const ids = body.ids;
  if (ids !== undefined && !(Array.isArray(ids) && ids.every((id) => typeof id === 'string'))) {
    throw new RefineryError('REFINERY_ERR_INVALID_FIELD', 'ids must be an array of strings.', {
      field: 'ids',
    });
  }
  if (ids === undefined && Object.keys(filter).length === 0 && body.all !== true) {
    throw new RefineryError(
      'REFINERY_ERR_MISSING_FIELD',
      'Say which events: ids, a filter, or "all": true for every held event.',
      { field: 'ids' },
    );
  }
  let fixes: Map<string, Record<string, unknown>> | undefined;
  if (body.fixes !== undefined) {
    if (!Array.isArray(body.fixes)) {
      throw new RefineryError('REFINERY_ERR_INVALID_FIELD', 'fixes must be an array of {id, payload}.', {
        field: 'fixes',
      });
    }
    fixes = new Map();
    for (const [index, fix] of body.fixes.entries()) {
      const { id, payload } = (fix ?? {}) as { id?: unknown; payload?: unknown };
      if (typeof id !== 'string' || !payload || typeof payload !== 'object' || Array.isArray(payload)) {
        throw new RefineryError(
          'REFINERY_ERR_INVALID_FIELD',
          `fixes[${index}] needs an id and a payload object.`,
          {
            field: `fixes[${index}]`,
          },
        );
      }
      fixes.set(id, payload as Record<string, unknown>);
    }
  }
  return {
    filter: ids ? { ...filter, ids: ids as string[] } : filter,
    force: body.force === true,
    dryRun: body.dryRun === true,
    ...(fixes ? { fixes } : {}),
  };
}

function filterOf(query: Record<string, unknown>): QuarantineFilter {
  const text = (key: string) =>
    typeof query[key] === 'string' && query[key] !== '' ? (query[key] as string) : undefined;
  const status = text('status');
  if (status !== undefined && !STATUSES.includes(status)) {
    throw new RefineryError('REFINERY_ERR_INVALID_FIELD', `status must be one of ${STATUSES.join(', ')}.`, {
      field: 'status',
    });
  }
  const filter: Record<string, unknown> = {};
  for (const key of ['status', 'contract', 'event', 'type', 'rule', 'source']) {
    const value = text(key);
    if (value !== undefined) filter[key] = value;
  }
  const from = text('from');
  const to = text('to');
  if (from) filter.from = parseDate(from, 'from');
  if (to) filter.to = parseDate(to, 'to');
  return filter as QuarantineFilter;
}

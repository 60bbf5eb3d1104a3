import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuditLog } from '../../audit/audit-log.js';
import type { Loader } from '../../collect/loader.js';
import {
  type DamagedLineDecisionContext,
  discardDamagedLine,
  getDamagedLineOrThrow,
  replayDamagedLine,
} from '../../collect/wal/damaged-line-decisions.js';
import { damagedLineView } from '../../collect/wal/damaged-line-view.js';
import type { WriteAheadLog } from '../../collect/wal/write-ahead-log.js';
import type { WorkspaceConfig } from '../../config/workspace-config.js';
import { RefineryError } from '../../core/errors.js';
import { isJsonObject } from '../../core/json-object.js';
import { oneAtATime } from '../../core/one-at-a-time.js';
import type { Store } from '../../store/store.js';
import type { DamagedLineStatus } from '../../store/wal-format.js';
import { audit } from '../audit-trail.js';
import { API_KEY_SECURITY, getApiKeyOrThrow } from '../authorise.js';
import { limitOf, offsetOf } from './query-params.js';

export interface WalRouteDeps {
  readonly audit?: AuditLog;
  readonly config: WorkspaceConfig;
  readonly store: Store;
  readonly wal: WriteAheadLog;
  readonly loader: Loader;
}

const STATUSES: readonly DamagedLineStatus[] = ['held', 'replayed', 'discarded'];

const LINE_PARAMS = {
  type: 'object',
  properties: { id: { type: 'string', description: 'The line id: `<stream>.<segment>.<line>`.' } },
};

/**
 * Log lines the loader set aside (bad checksum, ill-formed, refused by the engine): list, read, replay after a
 * fix, discard. A raw line may hold anything a request held, so every route is the admin's (`manage:data`).
 */
export function registerWalRoutes(app: FastifyInstance, deps: WalRouteDeps): void {
  // Decisions run one at a time, so two replays of one line cannot both pass the "still held" check.
  const decide = oneAtATime();

  app.get(
    '/v1/wal/damaged',
    {
      config: { permission: 'manage:data' },
      schema: {
        tags: ['admin'],
        summary: 'Log lines the loader set aside instead of loading, oldest first, with their reasons',
        security: API_KEY_SECURITY,
        querystring: {
          type: 'object',
          properties: {
            status: { enum: [...STATUSES] },
            limit: { type: 'integer' },
            offset: { type: 'integer' },
          },
        },
      },
    },
    async (request) => {
      const query = request.query as { status?: string; offset?: string };
      const status = statusOf(query.status);
      const offset = offsetOf(request);
      const [items, counts] = await Promise.all([
        deps.store.events.listDamagedLines(status ? { status } : {}, {
          limit: limitOf(request, 50, 1000),
          offset,
          withRaw: true,
        }),
        deps.store.events.countDamagedLines(),
      ]);
      await audit(deps.audit, request, 'personal_data.read', null, {
        what: 'set-aside log lines',
        count: items.length,
      });
      return { items: items.map((row) => damagedLineView(row, { preview: true })), counts };
    },
  );

  app.get(
    '/v1/wal/damaged/:id',
    {
      config: { permission: 'manage:data' },
      schema: {
        tags: ['admin'],
        summary: 'One set-aside log line with its bytes (base64) and their text',
        security: API_KEY_SECURITY,
        params: LINE_PARAMS,
      },
    },
    async (request) => {
      const row = await getDamagedLineOrThrow(deps.store, idOf(request));
      await audit(deps.audit, request, 'personal_data.read', row.id, { what: 'set-aside log line' });
      return damagedLineView(row, { preview: false });
    },
  );

  app.post(
    '/v1/wal/damaged/:id/replay',
    {
      config: { permission: 'manage:data' },
      schema: {
        tags: ['admin'],
        summary: 'Check a set-aside line again and load it through the log (as stored, or as corrected)',
        description:
          'Without a body the stored line is replayed as it is (its checksum dropped). With `{"line": {…}}` the ' +
          'corrected log record is replayed instead. A line that still fails is refused with ' +
          'REFINERY_ERR_WAL_LINE_INVALID and stays held.',
        security: API_KEY_SECURITY,
        params: LINE_PARAMS,
        body: {
          type: 'object',
          properties: { line: { type: 'object', description: 'The corrected log record.' } },
        },
      },
    },
    async (request) => {
      const id = idOf(request);
      const corrected = correctedLineOf(request.body);
      const row = await decide(() => replayDamagedLine(contextOf(deps, request), id, corrected));
      return damagedLineView(row, { preview: true });
    },
  );

  app.post(
    '/v1/wal/damaged/:id/discard',
    {
      config: { permission: 'manage:data' },
      schema: {
        tags: ['admin'],
        summary: 'Mark a set-aside line discarded: kept for the record, never loaded',
        security: API_KEY_SECURITY,
        params: LINE_PARAMS,
      },
    },
    async (request) => {
      const id = idOf(request);
      const row = await decide(() => discardDamagedLine(contextOf(deps, request), id));
      return damagedLineView(row, { preview: true });
    },
  );
}

function contextOf(deps: WalRouteDeps, request: FastifyRequest): DamagedLineDecisionContext {
  return {
    store: deps.store,
    walDir: deps.wal.dir,
    dedupeWindowHours: deps.config.collect.dedupeWindowHours,
    appendAndLoad: async (lines) => {
      await deps.wal.append(lines);
      await deps.loader.drain();
    },
    by: getApiKeyOrThrow(request).name,
  };
}

function idOf(request: FastifyRequest): string {
  return (request.params as { id: string }).id;
}

function statusOf(value: string | undefined): DamagedLineStatus | undefined {
  if (value === undefined || value === '') return undefined;
  const status = STATUSES.find((known) => known === value);
  if (!status) {
    throw new RefineryError('REFINERY_ERR_INVALID_FIELD', `status must be one of ${STATUSES.join(', ')}.`, {
      field: 'status',
    });
  }
  return status;
}

/** `{"line": {…}}` → the corrected record; no body or no `line` → undefined (replay as stored). */
function correctedLineOf(body: unknown): unknown {
  if (body === undefined || body === null) return undefined;
  if (!isJsonObject(body)) {
    throw new RefineryError('REFINERY_ERR_INVALID_FIELD', 'The body must be a JSON object.', {
      field: 'body',
    });
  }
  return body.line;
}

import { Socket } from 'node:net';
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import { type KeyRing, LOCAL_ADMIN_KEY_ID } from '../access/api-keys.js';
import { can, isPermission, type Permission, rolesWith } from '../access/roles.js';
import { RefineryError } from '../core/errors.js';
import type { ApiKeyRow } from '../store/store.js';
import { authenticateApiKey } from './auth.js';
import { describeLocalPeer, findLocalPeer } from './local-peer.js';

/**
 * What a route needs, declared in its options as `config: { permission }`: a permission from
 * `src/access/roles.ts`, or `public` for routes anyone may call (the SDKs' settings documents).
 * `collect` routes authenticate a source write key themselves, since analytics.js may send it in the body.
 */
export type RouteAccess = Permission | 'public';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Required on every `/v1/` route; see `registerAuthorisation`. */
    permission?: RouteAccess;
  }
}

/**
 * The OpenAPI security requirement of every route that takes an API key: a Bearer token. The scheme keeps
 * its historical name `adminKey` (openapi.ts); which kinds of key a route admits is its permission.
 */
export const API_KEY_SECURITY = [{ adminKey: [] }];

/** A route as registered, with the access it declared (undefined when it declared none). */
export interface DeclaredRoute {
  readonly method: string;
  readonly url: string;
  readonly permission: RouteAccess | undefined;
}

const API_PREFIX = '/v1/';
const routesOfApp = new WeakMap<FastifyInstance, RouteOptions[]>();
const keysOfRequest = new WeakMap<FastifyRequest, ApiKeyRow>();

/**
 * The one place requests are authorised. Every route under `/v1/` must declare `config.permission`; the
 * app refuses to start when one does not, naming it (a missing declaration is a bug to fix before release,
 * not a route to serve), and a request to such a route is refused with 403 in case one slips past the
 * check. Requests to other routes authenticate their API key and are refused unless its kind holds the
 * permission. Register this after CORS (so refusals carry its headers) and before any `/v1/` route.
 */
export function registerAuthorisation(app: FastifyInstance, keys: KeyRing): void {
  const routes: RouteOptions[] = [];
  routesOfApp.set(app, routes);
  app.addHook('onRoute', (route) => {
    routes.push(route);
  });
  app.addHook('onReady', async () => {
    const problems = declaredRoutes(app).flatMap(routeProblem);
    if (problems.length > 0) {
      throw new Error(
        `Routes without a valid permission (declare config.permission):\n${problems.join('\n')}`,
      );
    }
  });
  app.addHook('onRequest', async (request) => {
    if (request.is404) return;
    const { method, url, config } = request.routeOptions;
    const permission = config.permission;
    if (permission === undefined) {
      if (url?.startsWith(API_PREFIX)) throw undeclared(`${method} ${url}`);
      return;
    }
    if (permission === 'public' || permission === 'collect') return;
    const row = await authenticateApiKey(request, keys);
    if (!can(row.kind, permission)) throw forbidden(row, permission, `${method} ${url}`);
    keysOfRequest.set(request, row.id === LOCAL_ADMIN_KEY_ID ? await withLocalPeer(row, request) : row);
  });
}

/**
 * Gives every route registered in `scope` this access unless the route declares its own: for route files
 * whose every route is collection or public.
 */
export function declareScopeAccess(scope: FastifyInstance, access: RouteAccess): void {
  scope.addHook('onRoute', (route) => {
    if (route.config?.permission === undefined) route.config = { ...route.config, permission: access };
  });
}

/** Every route registered after `registerAuthorisation`, one entry per method, with what it declared. */
export function declaredRoutes(app: FastifyInstance): DeclaredRoute[] {
  return (routesOfApp.get(app) ?? []).flatMap((route) =>
    [route.method].flat().map((method) => ({
      method,
      url: route.url,
      permission: route.config?.permission,
    })),
  );
}

/** The API key that authenticated the request; undefined on routes that take none (collect, public). */
export function findApiKey(request: FastifyRequest): ApiKeyRow | undefined {
  return keysOfRequest.get(request);
}

/** The API key that authenticated the request, for handlers of routes that declare a permission. */
export function getApiKeyOrThrow(request: FastifyRequest): ApiKeyRow {
  const row = keysOfRequest.get(request);
  if (!row) {
    throw new RefineryError(
      'REFINERY_ERR_INTERNAL',
      `${request.method} ${request.routeOptions.url} asked for its API key, but it authenticates none.`,
    );
  }
  return row;
}

/**
 * The local admin token, named after who used it: anyone able to read data/server.json holds it, so the
 * audit log and decisions record the OS user and process the kernel says sent the request.
 */
async function withLocalPeer(row: ApiKeyRow, request: FastifyRequest): Promise<ApiKeyRow> {
  const socket = request.raw.socket;
  // inject() hands requests a stand-in socket: the request came from inside this process.
  const user = socket instanceof Socket ? describeLocalPeer(await findLocalPeer(socket)) : 'this process';
  return { ...row, name: `${row.name}, used by ${user}` };
}

function routeProblem(route: DeclaredRoute): string[] {
  const { method, url, permission } = route;
  if (permission === undefined) return url.startsWith(API_PREFIX) ? [`  ${method} ${url}: none`] : [];
  if (permission === 'public' || isPermission(permission)) return [];
  return [`  ${method} ${url}: unknown permission "${String(permission)}"`];
}

function forbidden(row: ApiKeyRow, permission: Permission, route: string): RefineryError {
  const holders = rolesWith(permission);
  return new RefineryError(
    'REFINERY_ERR_FORBIDDEN',
    `${/^[aeiou]/.test(row.kind) ? 'An' : 'A'} ${row.kind} key may not use ${route}: it needs the "${permission}" permission, which ${
      holders.length > 0 ? `${holders.join(', ')} keys hold` : 'no key holds'
    }.`,
    { permission },
  );
}

function undeclared(route: string): RefineryError {
  return new RefineryError(
    'REFINERY_ERR_FORBIDDEN',
    `${route} declares no permission, so no key may use it.`,
  );
}

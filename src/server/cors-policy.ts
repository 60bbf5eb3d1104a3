import cors, { type FastifyCorsOptions } from '@fastify/cors';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type DeclaredRoute, declaredRoutes, type RouteAccess } from './authorise.js';

/** Routes that browsers call from other sites' pages: the SDKs' collection and settings routes. */
const BROWSER_ACCESS: ReadonlySet<RouteAccess | undefined> = new Set<RouteAccess | undefined>([
  'collect',
  'public',
]);

// The write key is the credential on these routes and it is public by design (it ships in every page), so any
// origin may call them. No cookies are involved: credentials are never allowed.
const OPEN: FastifyCorsOptions = { origin: true, methods: ['GET', 'POST'], maxAge: 86400 };
// Everything else answers no CORS headers, so a page on another site can neither read an answer nor pass a
// preflight: the dashboard and API docs are same-origin and need none.
const CLOSED: FastifyCorsOptions = { origin: false };

/**
 * CORS follows the access each route declares (`config.permission`, see authorise.ts): open on collection
 * and public routes, closed on every route that takes an API key. A preflight (`OPTIONS`) is answered for the
 * route it asks about (path and `Access-Control-Request-Method`), so a new admin route is closed to other
 * origins without anyone remembering to close it. Register after `registerAuthorisation` and before routes.
 */
export async function registerCorsPolicy(app: FastifyInstance): Promise<void> {
  let browserRoutes: RoutePattern[] | undefined;
  const browserRoutesOf = () => {
    browserRoutes ??= declaredRoutes(app)
      .filter((route) => BROWSER_ACCESS.has(route.permission))
      .map(patternOf);
    return browserRoutes;
  };
  await app.register(cors, {
    delegator: (request, callback) => {
      callback(null, isBrowserRoute(request, browserRoutesOf) ? OPEN : CLOSED);
    },
  });
}

function isBrowserRoute(request: FastifyRequest, browserRoutes: () => RoutePattern[]): boolean {
  if (request.method !== 'OPTIONS') return BROWSER_ACCESS.has(request.routeOptions.config.permission);
  const method = request.headers['access-control-request-method'];
  if (typeof method !== 'string') return false;
  const segments = (request.url.split('?')[0] ?? '').split('/');
  return browserRoutes().some((route) => route.method === method.toUpperCase() && matches(route, segments));
}

interface RoutePattern {
  readonly method: string;
  readonly segments: readonly string[];
}

function patternOf(route: DeclaredRoute): RoutePattern {
  return { method: route.method, segments: route.url.split('/') };
}

/** Whether a request path's segments fit a route's: `:param` takes any one non-empty segment. */
function matches(route: RoutePattern, segments: readonly string[]): boolean {
  if (route.segments.length !== segments.length) return false;
  return route.segments.every((expected, index) => {
    const actual = segments[index] ?? '';
    return expected.startsWith(':') ? actual !== '' : expected === actual;
  });
}

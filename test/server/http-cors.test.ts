import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DeclaredRoute, declaredRoutes } from '../../src/server/authorise.js';
import { basicAuth, startTestWorkspace, type TestWorkspace } from '../helpers/test-workspace.js';

const EVIL = 'https://evil.example';

let ws: TestWorkspace;

beforeAll(async () => {
  ws = await startTestWorkspace();
});
afterAll(async () => {
  await ws?.close();
});

const label = (route: DeclaredRoute) => `${route.method} ${route.url}`;

/** Every route that takes an API key: all of /v1/ except collection and the SDKs' public settings. */
function apiKeyRoutes(): DeclaredRoute[] {
  return declaredRoutes(ws.server.app).filter(
    (route) =>
      route.method !== 'HEAD' &&
      route.url.startsWith('/v1/') &&
      route.permission !== 'collect' &&
      route.permission !== 'public',
  );
}

const pathOf = (route: DeclaredRoute) => route.url.replace(/:\w+/g, 'cors-test');

function preflight(path: string, method: string): Promise<{ status: number; allowOrigin: unknown }> {
  return ws.server.app
    .inject({
      method: 'OPTIONS',
      url: path,
      headers: {
        origin: EVIL,
        'access-control-request-method': method,
        'access-control-request-headers': 'authorization,content-type',
      },
    })
    .then((response) => ({
      status: response.statusCode,
      allowOrigin: response.headers['access-control-allow-origin'],
    }));
}

describe('CORS on routes that take an API key', () => {
  it('refuses the preflight of every one to a foreign origin, with no Access-Control-Allow-Origin', async () => {
    const routes = apiKeyRoutes();
    expect(routes.map(label)).toEqual(
      expect.arrayContaining(['POST /v1/query', 'POST /v1/keys', 'GET /v1/profiles/:id', 'GET /v1/audit']),
    );
    const answered: string[] = [];
    for (const route of routes) {
      const { status, allowOrigin } = await preflight(pathOf(route), route.method);
      if (allowOrigin !== undefined || status < 400)
        answered.push(`${label(route)}: ${status} ${allowOrigin}`);
    }
    expect(answered).toEqual([]);
  });

  it('answers a request from a foreign origin with no Access-Control-Allow-Origin', async () => {
    const requests: InjectOptions[] = [
      { method: 'GET', url: '/v1/stats' },
      { method: 'GET', url: '/v1/keys' },
      { method: 'POST', url: '/v1/query', payload: { sql: 'SELECT 1 AS one' } },
    ];
    for (const request of requests) {
      const response = await ws.server.app.inject({
        ...request,
        headers: { origin: EVIL, authorization: `Bearer ${ws.adminKey}` },
      });
      expect(response.statusCode, `${request.method} ${request.url}`).toBe(200);
      expect(response.headers['access-control-allow-origin'], `${request.method} ${request.url}`).toBe(
        undefined,
      );
    }
  });
});

describe('CORS where browsers collect', () => {
  it.each([
    ['POST', '/v1/batch'],
    ['POST', '/v1/track'],
    ['POST', '/v1/t'],
    ['POST', '/beacon/v1/batch'],
    ['GET', '/v1/projects/rk_write_abc/settings'],
    ['GET', '/sourceConfig/'],
  ])('passes the preflight of %s %s from any origin', async (method, path) => {
    const { status, allowOrigin } = await preflight(path, method);
    expect(status).toBe(204);
    expect(allowOrigin).toBe(EVIL);
  });

  it('answers a collected batch from another origin with Access-Control-Allow-Origin', async () => {
    const response = await ws.server.app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: { origin: EVIL, authorization: basicAuth(ws.writeKey), 'content-type': 'text/plain' },
      payload: JSON.stringify({ batch: [{ type: 'track', event: 'Viewed', anonymousId: 'a-1' }] }),
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['access-control-allow-origin']).toBe(EVIL);
    expect(response.headers['access-control-allow-credentials']).toBe(undefined);
  });

  it('lets a page on another origin read a refusal of its write key', async () => {
    const response = await ws.server.app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: { origin: EVIL, authorization: basicAuth('rk_write_unknown'), 'content-type': 'text/plain' },
      payload: JSON.stringify({ batch: [] }),
    });
    expect(response.statusCode).toBe(401);
    expect(response.headers['access-control-allow-origin']).toBe(EVIL);
  });
});

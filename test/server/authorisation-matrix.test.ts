import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Fastify, { type InjectOptions, type LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, KeyRing } from '../../src/access/api-keys.js';
import { can, PERMISSIONS, type Permission, ROLE_PERMISSIONS } from '../../src/access/roles.js';
import { type DeclaredRoute, declaredRoutes, registerAuthorisation } from '../../src/server/authorise.js';
import { registerErrorHandler } from '../../src/server/error-handler.js';
import { API_KEY_KINDS, type ApiKeyKind } from '../../src/store/store.js';
import { basicAuth, startTestWorkspace, type TestWorkspace } from '../helpers/test-workspace.js';

/**
 * The agreed role × permission table, written out so that changing `src/access/roles.ts` is a visible change
 * here too. Columns follow KIND_COLUMNS.
 */
const KIND_COLUMNS = ['write', 'admin', 'analyst', 'privacy', 'read'] as const;
const Y = true;
const N = false;
// biome-ignore format: the table is aligned to be read as a table
const AGREED_TABLE: Record<Permission, readonly boolean[]> = {
  //                   write admin analyst privacy read
  'collect':           [Y,   N,    N,      N,      N],
  'read:analytics':    [N,   Y,    Y,      Y,      Y],
  'read:profiles':     [N,   Y,    Y,      Y,      N],
  'read:events':       [N,   Y,    N,      Y,      N],
  'read:personal':     [N,   Y,    N,      Y,      N],
  'query':             [N,   Y,    N,      Y,      N],
  'manage:data':       [N,   Y,    N,      N,      N],
  'manage:keys':       [N,   Y,    N,      N,      N],
  'privacy:requests':  [N,   Y,    N,      Y,      N],
  'audit:read':        [N,   Y,    N,      Y,      N],
};

/**
 * Request bodies for routes where an empty JSON object would do something rather than fail validation. The
 * matrix sends every allowed key, so a body must be harmless: the outcome is about authorisation only.
 */
const HARMLESS_BODIES: Record<string, unknown> = {
  'POST /v1/query': { sql: 'SELECT 1 AS one' },
};

// An enforced contract, so the workspace holds a quarantined event whose violation quotes a personal value.
const CONTRACT = `apiVersion: v3.1.0
kind: DataContract
id: signups
version: 1.0.0
status: active
name: Sign-ups
customProperties:
  - property: refinery.mode
    value: enforce
schema:
  - name: signed_up
    physicalType: track
    physicalName: Signed Up
    properties:
      - name: plan
        logicalType: string
        quality:
          - metric: invalidValues
            arguments:
              validValues: [free, pro]
            mustBe: 0
`;

type Credential = ApiKeyKind | 'unknown key' | 'no key';
const CREDENTIALS: readonly Credential[] = [...API_KEY_KINDS, 'unknown key', 'no key'];

let ws: TestWorkspace;
const keyOf = new Map<Credential, string>();

beforeAll(async () => {
  ws = await startTestWorkspace({
    yamlExtra: 'contracts:\n  reloadIntervalMs: 0',
    contracts: { 'signups.odcs.yaml': CONTRACT },
  });
  keyOf.set('write', ws.writeKey);
  for (const kind of API_KEY_KINDS) {
    if (kind === 'write') continue;
    keyOf.set(kind, (await createApiKey(ws.server.store, { kind, name: `matrix ${kind}` })).key);
  }
  keyOf.set('unknown key', 'rk_admin_this-key-was-never-created');
});
afterAll(async () => {
  await ws?.close();
});

/** Every route the app registered that takes part in authorisation: all of /v1/, and any declaring access. */
function authorisedRoutes(): DeclaredRoute[] {
  return declaredRoutes(ws.server.app).filter(
    // HEAD routes are Fastify's copies of GET routes, with the same options and hooks.
    (route) => route.method !== 'HEAD' && (route.permission !== undefined || route.url.startsWith('/v1/')),
  );
}

function authorizationHeader(route: DeclaredRoute, credential: Credential): Record<string, string> {
  const key = keyOf.get(credential);
  if (key === undefined) return {};
  // Collection takes the write key the way the SDKs send it; the API takes a Bearer token.
  return { authorization: route.permission === 'collect' ? basicAuth(key) : `Bearer ${key}` };
}

function requestFor(route: DeclaredRoute, credential: Credential): InjectOptions {
  const url = route.url.replace(/:(\w+)/g, 'matrix-no-such-$1').replace(/\*/g, 'matrix');
  const headers = authorizationHeader(route, credential);
  const method = route.method as NonNullable<InjectOptions['method']>;
  if (method === 'GET' || method === 'DELETE') return { method, url, headers };
  const body = HARMLESS_BODIES[`${method} ${route.url}`] ?? {};
  return {
    method,
    url,
    headers: { ...headers, 'content-type': 'application/json' },
    payload: JSON.stringify(body),
  };
}

/** `allowed`, or the status and code of a refusal, with the permission a 403 names. */
function outcomeOf(response: LightMyRequestResponse): string {
  if (response.statusCode !== 401 && response.statusCode !== 403) return 'allowed';
  const body = response.json() as { code: string; permission?: string };
  return response.statusCode === 403
    ? `403 ${body.code} needs ${body.permission}`
    : `${response.statusCode} ${body.code}`;
}

function expectedOutcome(route: DeclaredRoute, credential: Credential): string {
  const { permission } = route;
  if (permission === 'public') return 'allowed';
  if (permission === 'collect') {
    // Collection keeps the Segment semantics: any key that is not a write key is an unknown write key.
    if (credential === 'no key') return '401 REFINERY_ERR_MISSING_WRITE_KEY';
    return can(credential, 'collect') ? 'allowed' : '401 REFINERY_ERR_UNKNOWN_WRITE_KEY';
  }
  // A /v1/ route that declares nothing is refused to everyone (the app should not even have started).
  if (permission === undefined) return '403 REFINERY_ERR_FORBIDDEN needs undefined';
  if (credential === 'no key') return '401 REFINERY_ERR_MISSING_API_KEY';
  if (credential === 'unknown key') return '401 REFINERY_ERR_UNKNOWN_API_KEY';
  return can(credential, permission) ? 'allowed' : `403 REFINERY_ERR_FORBIDDEN needs ${permission}`;
}

const label = (route: DeclaredRoute) => `${route.method} ${route.url}`;

describe('the roles table', () => {
  it('is the agreed table', () => {
    expect(API_KEY_KINDS).toEqual(KIND_COLUMNS);
    const actual = Object.fromEntries(
      PERMISSIONS.map((permission) => [
        permission,
        KIND_COLUMNS.map((kind) => ROLE_PERMISSIONS[kind].includes(permission)),
      ]),
    );
    expect(actual).toEqual(AGREED_TABLE);
  });

  it('is the table docs/roles.md shows', () => {
    const markdown = readFileSync(fileURLToPath(new URL('../../docs/roles.md', import.meta.url)), 'utf8');
    const header = markdown.split('\n').find((line) => line.startsWith('| Permission'));
    expect(header?.split('|').map((cell) => cell.trim())).toEqual(
      expect.arrayContaining(['Permission', ...KIND_COLUMNS]),
    );
    const documented: Record<string, boolean[]> = {};
    for (const line of markdown.split('\n')) {
      const cells = line.split('|').map((cell) => cell.trim());
      const permission = /^`(.+)`$/.exec(cells[1] ?? '')?.[1];
      if (!permission || !(PERMISSIONS as readonly string[]).includes(permission)) continue;
      documented[permission] = cells.slice(2, 2 + KIND_COLUMNS.length).map((cell) => cell === '✓');
    }
    expect(documented).toEqual(AGREED_TABLE);
  });
});

describe('authorisation of every route', () => {
  it('finds every route of the OpenAPI document among the routes it checks', async () => {
    const document = (await ws.server.app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<string, Record<string, unknown>>;
    };
    const checked = new Set(authorisedRoutes().map(label));
    const documented = Object.entries(document.paths)
      .filter(([path]) => path.startsWith('/v1/'))
      .flatMap(([path, operations]) =>
        Object.keys(operations).map(
          (method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`,
        ),
      );
    expect(documented.length).toBeGreaterThan(10);
    expect(documented.filter((route) => !checked.has(route))).toEqual([]);
  });

  it('has a declared permission on every /v1/ route', () => {
    const undeclared = authorisedRoutes().filter((route) => route.permission === undefined);
    expect(undeclared.map(label)).toEqual([]);
  });

  it('answers every route as its permission and the roles table say, for every kind of key', async () => {
    const routes = authorisedRoutes();
    const actual: Record<string, Record<string, string>> = {};
    const expected: Record<string, Record<string, string>> = {};
    for (const route of routes) {
      actual[label(route)] = {};
      expected[label(route)] = {};
      for (const credential of CREDENTIALS) {
        const response = await ws.server.app.inject(requestFor(route, credential));
        actual[label(route)]![credential] = outcomeOf(response);
        expected[label(route)]![credential] = expectedOutcome(route, credential);
      }
    }
    expect(actual).toEqual(expected);
  });

  it('names the permission a refused key lacks in the message', async () => {
    const response = await ws.server.app.inject({
      method: 'GET',
      url: '/v1/keys',
      headers: { authorization: `Bearer ${keyOf.get('analyst')}` },
    });
    expect(response.statusCode).toBe(403);
    expect(response.json()).toMatchObject({ code: 'REFINERY_ERR_FORBIDDEN', permission: 'manage:keys' });
    expect(response.json().message).toContain('manage:keys');
  });

  it('accepts an API key as the HTTP Basic user, as curl -u sends it', async () => {
    const response = await ws.server.app.inject({
      method: 'GET',
      url: '/v1/stats',
      headers: { authorization: basicAuth(keyOf.get('read')!) },
    });
    expect(response.statusCode).toBe(200);
  });

  it('refuses a revoked key as unknown', async () => {
    const created = await createApiKey(ws.server.store, { kind: 'analyst', name: 'short-lived' });
    expect(await ws.server.keys.revoke(created.row.id)).toBe(true);
    const response = await ws.server.app.inject({
      method: 'GET',
      url: '/v1/stats',
      headers: { authorization: `Bearer ${created.key}` },
    });
    expect(response.statusCode).toBe(401);
    expect(response.json().code).toBe('REFINERY_ERR_UNKNOWN_API_KEY');
  });
});

describe('personal data in the quarantine', () => {
  function get(url: string, credential: Credential) {
    return ws.server.app.inject({
      method: 'GET',
      url,
      headers: { authorization: `Bearer ${keyOf.get(credential)}` },
    });
  }

  beforeAll(async () => {
    const sent = await ws.server.app.inject({
      method: 'POST',
      url: '/v1/track',
      headers: { 'content-type': 'application/json', authorization: basicAuth(ws.writeKey) },
      payload: JSON.stringify({
        userId: 'u-jane',
        event: 'Signed Up',
        messageId: 'held-jane',
        properties: { plan: 'jane@example.com' },
      }),
    });
    expect(sent.json().quarantined).toHaveLength(1);
    await ws.drain();
  });

  it('masks the offending values in the list for roles without read:personal', async () => {
    const valuesSeenBy = async (credential: Credential) => {
      const response = await get('/v1/quarantine', credential);
      expect(response.statusCode).toBe(200);
      const items = response.json().items as { id: string; violations: { value?: string }[] }[];
      const held = items.find((item) => item.id === 'held-jane');
      expect(held).not.toHaveProperty('payload');
      return held?.violations.map((violation) => violation.value);
    };
    expect(await valuesSeenBy('admin')).toEqual(['"jane@example.com"']);
    expect(await valuesSeenBy('privacy')).toEqual(['"jane@example.com"']);
    for (const credential of ['analyst', 'read'] as const) {
      const values = await valuesSeenBy(credential);
      expect(values).toHaveLength(1);
      expect(values?.[0]).not.toContain('jane');
    }
  });

  it('shows payloads and the export only to roles with read:personal', async () => {
    const detail = await get('/v1/quarantine/held-jane', 'privacy');
    expect(detail.statusCode).toBe(200);
    expect(detail.json().payload.properties.plan).toBe('jane@example.com');
    expect((await get('/v1/quarantine/export', 'privacy')).body).toContain('jane@example.com');
    for (const credential of ['analyst', 'read'] as const) {
      expect((await get('/v1/quarantine/held-jane', credential)).statusCode).toBe(403);
      expect((await get('/v1/quarantine/export', credential)).statusCode).toBe(403);
    }
  });

  it('records the name of the key that decided', async () => {
    const discarded = await ws.server.app.inject({
      method: 'POST',
      url: '/v1/quarantine/discard',
      headers: { authorization: `Bearer ${keyOf.get('admin')}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ ids: ['held-jane'] }),
    });
    expect(discarded.json()).toEqual({ discarded: 1 });
    await ws.drain();
    const row = (await get('/v1/quarantine?status=discarded', 'admin')).json().items[0];
    expect(row).toMatchObject({ id: 'held-jane', status: 'discarded', statusBy: 'matrix admin' });
  });
});

describe('a route without a permission', () => {
  function appWith(register: (app: ReturnType<typeof Fastify>) => void) {
    const app = Fastify();
    registerErrorHandler(app, { maxBatchBytes: 1000, maxEventBytes: 1000 });
    register(app);
    return app;
  }
  const keys = () => new KeyRing(ws.server.store);

  it('stops the app from starting, naming the route', async () => {
    const app = appWith((app) => {
      registerAuthorisation(app, keys());
      app.get('/v1/forgotten', async () => ({ secret: true }));
      app.get('/v1/declared', { config: { permission: 'read:analytics' } }, async () => ({}));
    });
    await expect(app.ready()).rejects.toThrow(/GET \/v1\/forgotten: none/);
    await app.close();
  });

  it('is refused to every key if it slipped past the start-up check', async () => {
    const app = appWith((app) => {
      // Registered before authorisation, so the start-up check never saw it.
      app.get('/v1/early', async () => ({ secret: true }));
      registerAuthorisation(app, keys());
    });
    const response = await app.inject({
      method: 'GET',
      url: '/v1/early',
      headers: { authorization: `Bearer ${keyOf.get('admin')}` },
    });
    expect(response.statusCode).toBe(403);
    expect(response.json().code).toBe('REFINERY_ERR_FORBIDDEN');
    await app.close();
  });
});

import { rmSync, writeFileSync } from 'node:fs';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type DeclaredRoute, declaredRoutes } from '../../src/server/authorise.js';
import { basicAuth, startTestWorkspace, type TestWorkspace } from '../helpers/test-workspace.js';

/**
 * Path parameters as an attacker or a confused client sends them, already percent-encoded: malformed and
 * non-UTF-8 encodings, control characters, double encodings, encoded slashes and dots, quotes, and ids far
 * over any real id's length.
 */
const HOSTILE_IDS = [
  '%E0%A4%A',
  '%ED%A0%80',
  '%FF',
  '%',
  '%00',
  'p_%00',
  '%0D%0ASet-Cookie:%20x=1',
  '%25E0%25A4%25A',
  '%2525',
  'email:%25',
  'user_id:%25zz',
  'a%2Fb',
  '%2e%2e',
  '..%2F..%2Fdata%2Fserver.json',
  '%22%3E%3Cscript%3E',
  '%5C',
  "'%20OR%201=1--",
  '%F0%9F%98%80',
  'x'.repeat(600),
  `email:${'a'.repeat(300)}%40example.com`,
];

const HOSTILE_QUERIES = [
  'limit=%E0%A4%A&offset=%FF',
  'limit=-1&offset=99999999999999999999999',
  'from=%00&to=not-a-date',
  'interval=%0D%0A&format=%00&status=%FF',
  'trait=%00&value=%E0%A4%A',
  'trait=plan&value=%25',
  'events=1e309',
  'part=..%2F..&format=csv',
  `q=${'%41'.repeat(2000)}`,
];

let ws: TestWorkspace;

beforeAll(async () => {
  ws = await startTestWorkspace();
});
afterAll(async () => {
  await ws?.close();
});

const label = (route: DeclaredRoute) => `${route.method} ${route.url}`;

function routes(): DeclaredRoute[] {
  // HEAD routes are Fastify's copies of GET routes; OPTIONS * answers CORS preflights.
  return declaredRoutes(ws.server.app).filter((route) => !['HEAD', 'OPTIONS'].includes(route.method));
}

function requestTo(route: DeclaredRoute, url: string): InjectOptions {
  const authorization =
    route.permission === 'collect' ? basicAuth(ws.writeKey) : `Bearer ${ws.server.localToken}`;
  const method = route.method as NonNullable<InjectOptions['method']>;
  if (method === 'GET' || method === 'DELETE') return { method, url, headers: { authorization } };
  return {
    method,
    url,
    headers: { authorization, 'content-type': 'application/json' },
    payload: JSON.stringify({ reason: 'hostile input test' }),
  };
}

/** What is wrong with an answer: a 5xx, or a refusal without a catalogue code. */
function problemOf(response: LightMyRequestResponse): string | undefined {
  if (response.statusCode >= 500) return `${response.statusCode} ${response.body.slice(0, 200)}`;
  if (response.statusCode < 400) return undefined;
  const body = response.json() as { code?: unknown };
  return typeof body.code === 'string' && body.code.startsWith('REFINERY_ERR_')
    ? undefined
    : `${response.statusCode} without a code: ${response.body.slice(0, 200)}`;
}

describe('hostile ids in the path', () => {
  it('answers every route with a path parameter below 500, with a catalogue code when it refuses', async () => {
    const withParams = routes().filter((route) => /[:*]/.test(route.url));
    expect(withParams.map(label)).toEqual(
      expect.arrayContaining(['GET /v1/profiles/:id', 'DELETE /v1/keys/:id', 'GET /v1/consent/:id']),
    );
    const problems: string[] = [];
    for (const route of withParams) {
      for (const id of HOSTILE_IDS) {
        const url = route.url.replace(/:\w+/g, id).replace('*', id);
        const problem = problemOf(await ws.server.app.inject(requestTo(route, url)));
        if (problem) problems.push(`${label(route)} with ${id.slice(0, 40)}: ${problem}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('refuses a malformed percent-encoding with REFINERY_ERR_MALFORMED_URL naming the path', async () => {
    const response = await ws.server.app.inject({
      method: 'GET',
      url: '/v1/profiles/%E0%A4%A',
      headers: { authorization: `Bearer ${ws.adminKey}` },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'REFINERY_ERR_MALFORMED_URL', field: 'path' });
  });

  it('refuses control characters in an id with the parameter named', async () => {
    const response = await ws.server.app.inject({
      method: 'GET',
      url: '/v1/quarantine/%0D%0Ax',
      headers: { authorization: `Bearer ${ws.adminKey}` },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'REFINERY_ERR_INVALID_FIELD', field: 'id' });
  });

  it('refuses an id over the length limit with the limit', async () => {
    const response = await ws.server.app.inject({
      method: 'GET',
      url: `/v1/profiles/${'x'.repeat(600)}`,
      headers: { authorization: `Bearer ${ws.adminKey}` },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'REFINERY_ERR_INVALID_FIELD', field: 'path', limit: 512 });
  });

  it('answers every GET route below 500 whatever its query string holds', async () => {
    const problems: string[] = [];
    for (const route of routes().filter((candidate) => candidate.method === 'GET')) {
      const path = route.url.replace(/:\w+/g, 'no-such-id').replace('*', 'x');
      for (const query of HOSTILE_QUERIES) {
        const problem = problemOf(await ws.server.app.inject(requestTo(route, `${path}?${query}`)));
        if (problem) problems.push(`${label(route)} with ?${query.slice(0, 40)}: ${problem}`);
      }
    }
    expect(problems).toEqual([]);
  });
});

describe('ids are decoded once', () => {
  beforeAll(async () => {
    const batch = [
      { type: 'identify', userId: '50%', traits: { plan: 'half' } },
      { type: 'identify', userId: 'a%41', traits: { plan: 'literal' } },
      { type: 'identify', userId: 'aA', traits: { plan: 'decoded' } },
    ];
    const response = await ws.server.app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: { authorization: basicAuth(ws.writeKey), 'content-type': 'application/json' },
      payload: JSON.stringify({ batch }),
    });
    expect(response.statusCode).toBe(200);
    await ws.drain();
  });

  const profileOf = (userId: string) =>
    ws.server.app.inject({
      method: 'GET',
      url: `/v1/profiles/${encodeURIComponent(`user_id:${userId}`)}`,
      headers: { authorization: `Bearer ${ws.adminKey}` },
    });

  it('finds a person whose user id holds a percent sign by the id encoded once', async () => {
    const response = await profileOf('50%');
    expect(response.statusCode).toBe(200);
    expect(response.json().traits).toMatchObject({ plan: 'half' });
  });

  it('does not take a literal percent sequence in an id for an encoding of another person', async () => {
    const literal = await profileOf('a%41');
    expect(literal.statusCode).toBe(200);
    expect(literal.json().traits).toMatchObject({ plan: 'literal' });
    expect((await profileOf('aA')).json().traits).toMatchObject({ plan: 'decoded' });
  });

  it('reads consent by an id holding a percent sign', async () => {
    const response = await ws.server.app.inject({
      method: 'GET',
      url: `/v1/consent/${encodeURIComponent('user_id:50%')}`,
      headers: { authorization: `Bearer ${ws.adminKey}` },
    });
    expect(response.statusCode).toBe(200);
  });
});

describe('import file names', () => {
  const upload = (fileName: string) =>
    ws.server.app.inject({
      method: 'POST',
      url: `/v1/imports?as=customers&fileName=${encodeURIComponent(fileName)}`,
      headers: { authorization: `Bearer ${ws.adminKey}`, 'content-type': 'application/octet-stream' },
      payload: 'customer_id,plan\nc-1,basic\n',
    });

  it.each([
    ['empty', '', 'REFINERY_ERR_MISSING_FIELD'],
    ['a dot', '.', 'REFINERY_ERR_INVALID_FIELD'],
    ['two dots', '..', 'REFINERY_ERR_INVALID_FIELD'],
    ['a path', '../../refinery.yaml', 'REFINERY_ERR_INVALID_FIELD'],
    ['a Windows path', '..\\orders.csv', 'REFINERY_ERR_INVALID_FIELD'],
    ['a NUL byte', 'orders\u0000.csv', 'REFINERY_ERR_INVALID_FIELD'],
    ['a line break', 'orders\n.csv', 'REFINERY_ERR_INVALID_FIELD'],
    ['300 bytes', `${'o'.repeat(296)}.csv`, 'REFINERY_ERR_INVALID_FIELD'],
  ])('refuses a file name that is %s with a 400 naming fileName', async (_what, fileName, code) => {
    const response = await upload(fileName);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code, field: 'fileName' });
  });

  it('imports a file whose name holds glob and quote characters under that name', async () => {
    const response = await upload("cust*omers [2026]'s?.csv");
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ imported: 1 });
  });
});

describe('server errors', () => {
  it('logs a 5xx with its route and code even without --log', async () => {
    const written: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    // The uploads folder cannot be created: a disk-level failure the route does not expect.
    rmSync(ws.server.paths.uploads, { recursive: true, force: true });
    writeFileSync(ws.server.paths.uploads, 'not a folder');
    try {
      const response = await ws.server.app.inject({
        method: 'POST',
        url: '/v1/imports?as=customers&fileName=customers.csv',
        headers: { authorization: `Bearer ${ws.adminKey}`, 'content-type': 'application/octet-stream' },
        payload: 'customer_id\nc-1\n',
      });
      expect(response.statusCode).toBe(500);
      expect(response.json().code).toBe('REFINERY_ERR_INTERNAL');
    } finally {
      spy.mockRestore();
    }
    const logged = written.join('');
    expect(logged).toContain('REFINERY_ERR_INTERNAL');
    expect(logged).toContain('POST /v1/imports');
    expect(logged).toContain(ws.server.paths.uploads);
  });
});

import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseWorkspaceConfig } from '../../src/config/workspace-config.js';
import { basicAuth, startTestWorkspace, type TestWorkspace } from '../helpers/test-workspace.js';

/** Generous: the assertion is that the server closes the socket, not how fast. */
const CLOSED_WITHIN_MS = 15_000;

let ws: TestWorkspace;
let port: number;

beforeAll(async () => {
  ws = await startTestWorkspace({
    yamlExtra: ['server:', '  headersTimeoutMs: 1000', '  requestTimeoutMs: 1500'].join('\n'),
  });
  port = Number(new URL(ws.server.url).port);
});
afterAll(async () => {
  await ws?.close();
});

interface OpenSocket {
  readonly socket: Socket;
  /** Everything the server sent, once it closed the socket. */
  readonly closed: Promise<string>;
}

/** A raw TCP connection to a server from `localAddress` (any 127.0.0.0/8 address is loopback on Linux). */
async function open(localAddress = '127.0.0.1', toPort = port): Promise<OpenSocket> {
  const socket = connect({ host: '127.0.0.1', port: toPort, localAddress });
  let received = '';
  socket.on('data', (chunk) => {
    received += chunk.toString('utf8');
  });
  const closed = new Promise<string>((resolve) => {
    socket.on('close', () => resolve(received));
    // A reset is how a refused socket may end; what matters is that it closed.
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, closed };
}

/** Resolves with what the server sent before closing, or with 'still open' after `ms`. */
function closedWithin(connection: OpenSocket, ms: number): Promise<string> {
  return Promise.race([
    connection.closed,
    new Promise<string>((resolve) => setTimeout(() => resolve('still open'), ms)),
  ]);
}

/** Writes `text` one byte a second until the socket closes. */
function trickle(socket: Socket, text: string): () => void {
  let index = 0;
  const timer = setInterval(() => {
    if (index >= text.length || socket.destroyed) return clearInterval(timer);
    socket.write(text[index++]!);
  }, 1000);
  return () => clearInterval(timer);
}

async function healthFrom(localAddress: string, toPort = port): Promise<string> {
  const connection = await open(localAddress, toPort);
  connection.socket.write('GET /healthz HTTP/1.1\r\nHost: refinery\r\nConnection: close\r\n\r\n');
  return closedWithin(connection, CLOSED_WITHIN_MS);
}

describe('slow clients', () => {
  it('closes a connection that trickles its body a byte a second, answering 408 with a code', async () => {
    const connection = await open();
    connection.socket.write(
      'POST /v1/batch HTTP/1.1\r\nHost: refinery\r\nContent-Type: application/json\r\n' +
        `Authorization: ${basicAuth(ws.writeKey)}\r\nContent-Length: 1000\r\n\r\n`,
    );
    const stop = trickle(connection.socket, `{"batch":[${' '.repeat(990)}]}`);
    const received = await closedWithin(connection, CLOSED_WITHIN_MS);
    stop();
    expect(received).not.toBe('still open');
    expect(received).toMatch(/^HTTP\/1\.1 408 /);
    expect(received).toContain('"code":"REFINERY_ERR_REQUEST_TIMEOUT"');
  });

  it('closes a connection that trickles its headers a byte a second', async () => {
    const connection = await open();
    const stop = trickle(
      connection.socket,
      `GET /healthz HTTP/1.1\r\nHost: refinery\r\nX-Slow: ${'a'.repeat(100)}`,
    );
    const received = await closedWithin(connection, CLOSED_WITHIN_MS);
    stop();
    expect(received).not.toBe('still open');
  });

  it('closes a connection that sends nothing', async () => {
    const connection = await open();
    const received = await closedWithin(connection, CLOSED_WITHIN_MS);
    expect(received).not.toBe('still open');
    expect(received).toContain('REFINERY_ERR_REQUEST_TIMEOUT');
  });

  it('still answers a client that sends its request at once', async () => {
    expect(await healthFrom('127.0.0.1')).toMatch(/^HTTP\/1\.1 200 /);
  });
});

describe('connections per client', () => {
  const MAX_CONNECTIONS = 3;
  let capped: TestWorkspace;
  let cappedPort: number;
  beforeAll(async () => {
    // Default deadlines, so the sockets held open are not closed for saying nothing while the test runs.
    capped = await startTestWorkspace({
      yamlExtra: `server:\n  maxConnectionsPerClient: ${MAX_CONNECTIONS}`,
    });
    cappedPort = Number(new URL(capped.server.url).port);
  });
  afterAll(async () => {
    await capped?.close();
  });

  it('refuses a connection over the cap from one address while another address is served', async () => {
    const held = [] as OpenSocket[];
    for (let index = 0; index < MAX_CONNECTIONS; index++) held.push(await open('127.0.0.1', cappedPort));
    try {
      const extra = await open('127.0.0.1', cappedPort);
      expect(await closedWithin(extra, CLOSED_WITHIN_MS)).toBe('');
      expect(await healthFrom('127.0.0.2', cappedPort)).toMatch(/^HTTP\/1\.1 200 /);
      // The held sockets are untouched: one of them still gets an answer.
      held[0]!.socket.write('GET /healthz HTTP/1.1\r\nHost: refinery\r\nConnection: close\r\n\r\n');
      expect(await closedWithin(held[0]!, CLOSED_WITHIN_MS)).toMatch(/^HTTP\/1\.1 200 /);
      // One slot is free again (once the server has seen the socket close): a new connection is served.
      await expect
        .poll(() => healthFrom('127.0.0.1', cappedPort), { timeout: 5000 })
        .toMatch(/^HTTP\/1\.1 200 /);
    } finally {
      for (const connection of held) connection.socket.destroy();
    }
  });
});

describe('trusted proxies', () => {
  let proxied: TestWorkspace;
  beforeAll(async () => {
    proxied = await startTestWorkspace({
      yamlExtra: ['server:', '  trustProxy: 127.0.0.1', '  maxConnectionsPerClient: 1'].join('\n'),
    });
  });
  afterAll(async () => {
    await proxied?.close();
  });

  it('does not cap the proxy trustProxy names, and caps other addresses', async () => {
    const proxiedPort = Number(new URL(proxied.server.url).port);
    const sockets: Socket[] = [];
    const dial = (localAddress: string) =>
      new Promise<Socket>((resolve) => {
        const socket = connect({ host: '127.0.0.1', port: proxiedPort, localAddress }, () => resolve(socket));
        socket.on('error', () => undefined);
        sockets.push(socket);
      });
    try {
      await dial('127.0.0.1');
      const second = await dial('127.0.0.1');
      await dial('127.0.0.3');
      const over = await dial('127.0.0.3');
      const closed = (socket: Socket) =>
        Promise.race([
          new Promise<boolean>((resolve) => socket.on('close', () => resolve(true))),
          new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2000)),
        ]);
      expect(await closed(over)).toBe(true);
      expect(second.destroyed).toBe(false);
    } finally {
      for (const socket of sockets) socket.destroy();
    }
  });
});

describe('timeout settings', () => {
  it('fills sane defaults', () => {
    expect(parseWorkspaceConfig('name: t\n').server).toMatchObject({
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 120_000,
      connectionTimeoutMs: 300_000,
      keepAliveTimeoutMs: 72_000,
      maxConnectionsPerClient: 256,
    });
  });

  it('refuses a header deadline longer than the request deadline, naming the setting', () => {
    expect(() =>
      parseWorkspaceConfig('name: t\nserver:\n  headersTimeoutMs: 5000\n  requestTimeoutMs: 2000\n'),
    ).toThrow(
      expect.objectContaining({ details: expect.objectContaining({ field: 'server.headersTimeoutMs' }) }),
    );
  });

  it('refuses an idle timeout that would cut queries off before they answer', () => {
    expect(() =>
      parseWorkspaceConfig(
        'name: t\nserver:\n  connectionTimeoutMs: 20000\nlimits:\n  queryTimeoutMs: 30000\n',
      ),
    ).toThrow(
      expect.objectContaining({ details: expect.objectContaining({ field: 'server.connectionTimeoutMs' }) }),
    );
  });
});

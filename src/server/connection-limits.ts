import type { Server, ServerOptions } from 'node:http';
import { BlockList, isIP, Socket } from 'node:net';
import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import type { WorkspaceConfig } from '../config/workspace-config.js';
import { type ErrorCode, RefineryError } from '../core/errors.js';

type ServerConfig = WorkspaceConfig['server'];

/**
 * The Fastify options that bound how long a client may take, from `server` in refinery.yaml. Node enforces
 * the header and request deadlines on a timer of its own (`connectionsCheckingInterval`, 30 s by default),
 * so the timer is set to a fraction of the shorter deadline: a client is cut off close to its deadline.
 */
export function timeoutOptions(server: ServerConfig) {
  const shortest = Math.min(server.headersTimeoutMs, server.requestTimeoutMs);
  const http: ServerOptions = {
    headersTimeout: server.headersTimeoutMs,
    requestTimeout: server.requestTimeoutMs,
    connectionsCheckingInterval: Math.min(5000, Math.max(100, Math.floor(shortest / 4))),
  };
  return {
    connectionTimeout: server.connectionTimeoutMs,
    keepAliveTimeout: server.keepAliveTimeoutMs,
    requestTimeout: server.requestTimeoutMs,
    http,
    clientErrorHandler: answerClientError,
  };
}

/**
 * Lets an authorised request's handler work silently for longer than `server.connectionTimeoutMs` (an import
 * the store reads for minutes); returns the function that puts the idle timeout back once it answers.
 */
export function suspendIdleTimeout(request: FastifyRequest): () => void {
  const socket = request.raw.socket;
  // inject() hands requests a stand-in socket with no timers.
  if (!(socket instanceof Socket)) return () => undefined;
  socket.setTimeout(0);
  return () => socket.setTimeout(request.server.initialConfig.connectionTimeout ?? 0);
}

/**
 * Node's `clientError`: a request that missed its deadline, headers over Node's size limit, or bytes that
 * are not HTTP. Answered in the API's JSON shape with a catalogue code (when nothing was written on the
 * socket yet, so the answer cannot land inside another response), then the socket is closed.
 */
function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const code: ErrorCode =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? 'REFINERY_ERR_REQUEST_TIMEOUT'
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? 'REFINERY_ERR_HEADERS_TOO_LARGE'
        : 'REFINERY_ERR_MALFORMED_REQUEST';
  const refusal = new RefineryError(code, CLIENT_ERROR_MESSAGES[code] ?? 'The request is not valid HTTP.');
  if (socket.writable && socket.bytesWritten === 0) {
    const body = JSON.stringify(refusal.toJSON());
    socket.write(
      `HTTP/1.1 ${refusal.status} ${STATUS_TEXT[refusal.status] ?? 'Bad Request'}\r\n` +
        'Content-Type: application/json; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

const CLIENT_ERROR_MESSAGES: Partial<Record<ErrorCode, string>> = {
  REFINERY_ERR_REQUEST_TIMEOUT:
    'The request did not arrive in time (server.headersTimeoutMs for its headers, server.requestTimeoutMs for all of it).',
  REFINERY_ERR_HEADERS_TOO_LARGE: 'The request headers are larger than the server accepts (16 KB).',
  REFINERY_ERR_MALFORMED_REQUEST: 'The request is not valid HTTP/1.1.',
};
const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
};

/**
 * Caps the sockets one remote address may hold open at once (`server.maxConnectionsPerClient`, 0 = no cap),
 * so one client cannot take every socket and file descriptor the process has.
 *
 * Over the cap a new socket is destroyed as it is accepted, before a byte is read: answering 429/503 would
 * mean reading the request first, which is exactly what a slow client withholds, so every refused socket
 * would live until its header deadline. SDKs retry a dropped connection as they retry a 503, so nothing a
 * real client sends is lost.
 *
 * Addresses `server.trustProxy` trusts are not capped: behind a reverse proxy every connection comes from
 * the proxy, and the cap per client belongs there (nginx `limit_conn`). Loopback is capped like any address
 * unless it is the trusted proxy: a proxy on the same host is declared, not assumed.
 */
export function capConnectionsPerClient(
  server: Server,
  config: Pick<ServerConfig, 'maxConnectionsPerClient' | 'trustProxy'>,
  log: FastifyBaseLogger,
): void {
  const max = config.maxConnectionsPerClient;
  if (max <= 0) return;
  const trusted = trustedAddresses(config.trustProxy);
  const open = new Map<string, number>();
  const warned = new Set<string>();
  server.on('connection', (socket: Socket) => {
    const address = clientAddressOf(socket);
    if (address === undefined || trusted(address)) return;
    const count = open.get(address) ?? 0;
    if (count >= max) {
      if (!warned.has(address)) {
        warned.add(address);
        log.warn(
          `refusing connections from ${address}: it holds ${count} open (server.maxConnectionsPerClient)`,
        );
      }
      socket.destroy();
      return;
    }
    open.set(address, count + 1);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left > 0) open.set(address, left);
      else open.delete(address);
      if (left < max) warned.delete(address);
    });
  });
}

/** The peer's address with IPv4-mapped IPv6 (`::ffff:192.0.2.1`) written as IPv4, so both count as one. */
function clientAddressOf(socket: Socket): string | undefined {
  const address = socket.remoteAddress;
  if (address === undefined) return undefined;
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

// The names Fastify's trustProxy (proxy-addr) understands, as ranges.
const NAMED_RANGES: Record<string, readonly string[]> = {
  loopback: ['127.0.0.1/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

/** Whether an address is one `server.trustProxy` trusts: true trusts all, a string lists addresses and CIDRs. */
export function trustedAddresses(trustProxy: boolean | string): (address: string) => boolean {
  if (trustProxy === true) return () => true;
  if (trustProxy === false || trustProxy.trim() === '') return () => false;
  const list = new BlockList();
  for (const entry of trustProxy.split(',').map((part) => part.trim())) {
    for (const range of NAMED_RANGES[entry] ?? [entry]) {
      const [address = '', bits] = range.split('/');
      const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      if (isIP(address) === 0) continue;
      if (bits === undefined) list.addAddress(address, family);
      else list.addSubnet(address, Number(bits), family);
    }
  }
  return (address) => list.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
}

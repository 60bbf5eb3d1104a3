import { RefineryError } from '../core/errors.js';
import type { ServerFile } from '../runtime/server-file.js';

/**
 * One request to the running server with its local admin token: JSON in (or a stream, for uploads) and JSON out,
 * its error answer turned back into the RefineryError it was, so a command fails the same way with a server as
 * without one.
 */
export async function callServer<T>(
  server: ServerFile,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<T> {
  const isStream = body instanceof ReadableStream;
  let response: Response;
  try {
    response = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${server.token}`,
        ...(body !== undefined && !isStream ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body === undefined ? {} : { body: isStream ? (body as ReadableStream) : JSON.stringify(body) }),
      ...(isStream ? { duplex: 'half' } : {}),
    } as RequestInit);
  } catch (cause) {
    throw new RefineryError(
      'REFINERY_ERR_SERVER_UNREACHABLE',
      `The server registered at ${server.url} (pid ${server.pid}) did not answer.`,
      {},
      { cause },
    );
  }
  const payload = (await response.json()) as Record<string, unknown>;
  if (!response.ok) {
    const { code, message, ...details } = payload;
    throw new RefineryError(code as never, String(message ?? response.statusText), details);
  }
  return payload as T;
}

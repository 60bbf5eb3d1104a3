import { isUtf8 } from 'node:buffer';
import { gunzipSync, inflateSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { RefineryError } from '../core/errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The body's bytes after decompression, kept so the collector can store them verbatim. */
    rawBody?: Buffer;
  }
}

/**
 * One body parser for every content type the SDKs send: `application/json`, and `text/plain` which
 * analytics.js uses to avoid a CORS preflight. Bodies are read as bytes so invalid UTF-8 is refused
 * instead of silently replaced, and gzip/deflate bodies are inflated up to the same size limit.
 */
export function registerJsonBodyParser(app: FastifyInstance, maxBodyBytes: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => {
    try {
      const bytes = inflate(body as Buffer, request.headers['content-encoding'], maxBodyBytes);
      const parsed = parseJsonBytes(bytes);
      request.rawBody = bytes;
      done(null, parsed);
    } catch (error) {
      done(error as Error, undefined);
    }
  });
}

export function parseJsonBytes(bytes: Buffer): unknown {
  if (bytes.length === 0) {
    throw new RefineryError('REFINERY_ERR_MALFORMED_JSON', 'The request body is empty; send a JSON object.');
  }
  if (!isUtf8(bytes)) {
    throw new RefineryError('REFINERY_ERR_INVALID_UTF8', 'The request body is not valid UTF-8.');
  }
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new RefineryError(
      'REFINERY_ERR_MALFORMED_JSON',
      `The request body is not valid JSON: ${detail}`,
      {},
      { cause },
    );
  }
}

function inflate(body: Buffer, encoding: string | string[] | undefined, maxBytes: number): Buffer {
  const name = (Array.isArray(encoding) ? encoding[0] : encoding)?.trim().toLowerCase();
  if (!name || name === 'identity') return body;
  try {
    if (name === 'gzip' || name === 'x-gzip') return gunzipSync(body, { maxOutputLength: maxBytes });
    if (name === 'deflate') return inflateSync(body, { maxOutputLength: maxBytes });
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new RefineryError(
        'REFINERY_ERR_BATCH_TOO_LARGE',
        `The decompressed body is over the limit of ${maxBytes} bytes (limits.maxBatchBytes).`,
        { limit: maxBytes },
      );
    }
    throw new RefineryError(
      'REFINERY_ERR_MALFORMED_JSON',
      `The ${name} body could not be decompressed.`,
      {},
      { cause },
    );
  }
  throw new RefineryError(
    'REFINERY_ERR_UNSUPPORTED_MEDIA_TYPE',
    `Content-Encoding "${name}" is not supported.`,
    {
      field: 'content-encoding',
    },
  );
}

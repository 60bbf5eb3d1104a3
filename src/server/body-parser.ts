import { isUtf8 } from 'node:buffer';
import { gunzip, inflate as inflateDeflate } from 'node:zlib';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { assertWellFormedUnicode, mayHoldLoneSurrogate } from '../collect/well-formed-unicode.js';
import { RefineryError } from '../core/errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The size of the body after decompression, in bytes. */
    bodyBytes?: number;
    /** False when the body's JSON text held no `\uD…` escape, so no string in it can hold a lone surrogate. */
    mayHoldLoneSurrogate?: boolean;
  }
  interface FastifyContextConfig {
    /**
     * The route refuses strings holding a lone surrogate itself, where it finds them (the collector refuses one
     * message of a batch and keeps the others). Every other route refuses such a body whole, at the door.
     */
    checksUnicodeItself?: boolean;
  }
}

/** A JSON body parsed, with what its text says about lone surrogates. */
export interface ParsedJsonBody {
  readonly value: unknown;
  /** False when the text holds no `\uD…` escape: then no string or key of `value` holds a lone surrogate. */
  readonly mayHoldLoneSurrogate: boolean;
}

/**
 * One body parser for every content type the SDKs send: `application/json`, and `text/plain` which
 * analytics.js uses to avoid a CORS preflight. Bodies are read as bytes so invalid UTF-8 is refused
 * instead of silently replaced, and gzip/deflate bodies are inflated (off the event loop) up to the same size
 * limit. A string or key holding a lone surrogate is refused here, naming where, unless the route checks that
 * itself (`config.checksUnicodeItself`): nothing that reaches a handler can put one in the write-ahead log.
 */
export function registerJsonBodyParser(app: FastifyInstance, maxBodyBytes: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, async (request: FastifyRequest, body: Buffer) => {
    const bytes = await inflate(body, request.headers['content-encoding'], maxBodyBytes);
    const parsed = parseJsonBody(bytes);
    if (parsed.mayHoldLoneSurrogate && request.routeOptions.config?.checksUnicodeItself !== true) {
      assertWellFormedUnicode(parsed.value);
    }
    request.bodyBytes = bytes.length;
    request.mayHoldLoneSurrogate = parsed.mayHoldLoneSurrogate;
    return parsed.value;
  });
}

export function parseJsonBytes(bytes: Buffer): unknown {
  return parseJsonBody(bytes).value;
}

export function parseJsonBody(bytes: Buffer): ParsedJsonBody {
  if (bytes.length === 0) {
    throw new RefineryError('REFINERY_ERR_MALFORMED_JSON', 'The request body is empty; send a JSON object.');
  }
  if (!isUtf8(bytes)) {
    throw new RefineryError('REFINERY_ERR_INVALID_UTF8', 'The request body is not valid UTF-8.');
  }
  const text = bytes.toString('utf8');
  try {
    return { value: JSON.parse(text), mayHoldLoneSurrogate: mayHoldLoneSurrogate(text) };
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

/** The body decompressed in zlib's thread pool, so a large body does not hold up every other request. */
async function inflate(
  body: Buffer,
  encoding: string | string[] | undefined,
  maxBytes: number,
): Promise<Buffer> {
  const name = (Array.isArray(encoding) ? encoding[0] : encoding)?.trim().toLowerCase();
  if (!name || name === 'identity') return body;
  const decompress =
    name === 'gzip' || name === 'x-gzip' ? gunzip : name === 'deflate' ? inflateDeflate : undefined;
  if (!decompress) {
    throw new RefineryError(
      'REFINERY_ERR_UNSUPPORTED_MEDIA_TYPE',
      `Content-Encoding "${name}" is not supported.`,
      { field: 'content-encoding' },
    );
  }
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      decompress(body, { maxOutputLength: maxBytes }, (error, result) =>
        error ? reject(error) : resolve(result),
      );
    });
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
}

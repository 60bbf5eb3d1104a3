import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type ErrorCode, isRefineryError, RefineryError } from '../core/errors.js';
import { applySecurityHeaders } from './security-headers.js';

/** The longest path parameter (an id, an identifier such as `email:…`) the router accepts, encoded. */
export const MAX_PATH_PARAM_CHARS = 512;

/**
 * The single place that shapes error responses: `{code, message, …details}` with the code's status.
 * Fastify's own errors are translated by their codes; anything unexpected becomes REFINERY_ERR_INTERNAL
 * with no internals in the body.
 */
export function registerErrorHandler(
  app: FastifyInstance,
  limits: { maxBatchBytes: number; maxEventBytes: number },
) {
  app.setErrorHandler((error, request, reply) => {
    const refinery = toRefineryError(
      error as FastifyError,
      limits,
      request.routeOptions.config as RouteLimits,
    );
    if (refinery.status >= 500) logServerError(request, refinery, error);
    void reply.status(refinery.status).send(responseBodyOf(refinery));
  });
  app.setNotFoundHandler((request, reply) => {
    const error = new RefineryError(
      'REFINERY_ERR_NOT_FOUND',
      `No route ${request.method} ${request.url.split('?')[0]}.`,
    );
    void reply.status(404).send(error.toJSON());
  });
}

/**
 * Fastify's `frameworkErrors` option: the router's own refusals (a path whose percent-encoding does not
 * decode to UTF-8, a parameter over `MAX_PATH_PARAM_CHARS`) happen before any route or hook runs, so
 * without this they answer in Fastify's shape instead of a catalogue code.
 */
export function answerFrameworkError(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const refinery = frameworkError(error);
  if (refinery.status >= 500) logServerError(request, refinery, error);
  // No hook runs before the router's refusals, so the headers every answer carries are put on here.
  applySecurityHeaders(reply);
  void reply.status(refinery.status).send(responseBodyOf(refinery));
}

function frameworkError(error: FastifyError): RefineryError {
  if (error.code === 'FST_ERR_BAD_URL') {
    return new RefineryError(
      'REFINERY_ERR_MALFORMED_URL',
      'The request path holds a percent-encoding that is malformed or not UTF-8 (for example %E0%A4%A); ' +
        'encode each path segment once with encodeURIComponent.',
      { field: 'path' },
    );
  }
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    return new RefineryError(
      'REFINERY_ERR_INVALID_FIELD',
      `An id in the request path is longer than ${MAX_PATH_PARAM_CHARS} characters.`,
      { field: 'path', limit: MAX_PATH_PARAM_CHARS },
    );
  }
  return new RefineryError(
    'REFINERY_ERR_INTERNAL',
    'An unexpected error occurred; see the server log.',
    {},
    {
      cause: error,
    },
  );
}

/**
 * Every 5xx reaches the server log, with the route pattern rather than the URL (a query string may carry a
 * write key), so an answer that says "see the server log" always has something there.
 */
function logServerError(request: FastifyRequest, refinery: RefineryError, error: unknown): void {
  const route = `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`;
  request.log.error({ err: error, code: refinery.code, route }, `${route}: ${refinery.message}`);
}

/**
 * The JSON a client gets. A 5xx keeps only what helps the client (code, message, the field and limit), not
 * the details collected for the log, such as the SQL a failing store statement ran.
 */
function responseBodyOf(error: RefineryError): Record<string, unknown> {
  if (error.status < 500) return error.toJSON();
  const { field, limit } = error.details;
  return {
    code: error.code,
    message: error.message,
    ...(field === undefined ? {} : { field }),
    ...(limit === undefined ? {} : { limit }),
  };
}

interface RouteLimits {
  bodyLimitCode?: ErrorCode;
}

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'REFINERY_ERR_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'REFINERY_ERR_MALFORMED_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'REFINERY_ERR_MALFORMED_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'REFINERY_ERR_MALFORMED_JSON',
  FST_ERR_BAD_URL: 'REFINERY_ERR_MALFORMED_URL',
  FST_ERR_VALIDATION: 'REFINERY_ERR_INVALID_FIELD',
};

function toRefineryError(
  error: FastifyError,
  limits: { maxBatchBytes: number; maxEventBytes: number },
  route: RouteLimits | undefined,
): RefineryError {
  if (isRefineryError(error)) return error;
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    const code = route?.bodyLimitCode ?? 'REFINERY_ERR_BATCH_TOO_LARGE';
    const limit = code === 'REFINERY_ERR_EVENT_TOO_LARGE' ? limits.maxEventBytes : limits.maxBatchBytes;
    const setting = code === 'REFINERY_ERR_EVENT_TOO_LARGE' ? 'limits.maxEventBytes' : 'limits.maxBatchBytes';
    return new RefineryError(code, `The request body is over the limit of ${limit} bytes (${setting}).`, {
      limit,
    });
  }
  const mapped = error.code ? FASTIFY_CODES[error.code] : undefined;
  if (mapped) return new RefineryError(mapped, error.message, {}, { cause: error });
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    return new RefineryError('REFINERY_ERR_INVALID_FIELD', error.message, {}, { cause: error });
  }
  return new RefineryError(
    'REFINERY_ERR_INTERNAL',
    'An unexpected error occurred; see the server log.',
    {},
    { cause: error },
  );
}

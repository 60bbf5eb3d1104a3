import type { FastifyError, FastifyInstance } from 'fastify';
import { type ErrorCode, isRefineryError, RefineryError } from '../core/errors.js';

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
    if (refinery.status >= 500) request.log.error({ err: error }, refinery.message);
    void reply.status(refinery.status).send(refinery.toJSON());
  });
  app.setNotFoundHandler((request, reply) => {
    const error = new RefineryError(
      'REFINERY_ERR_NOT_FOUND',
      `No route ${request.method} ${request.url.split('?')[0]}.`,
    );
    void reply.status(404).send(error.toJSON());
  });
}

interface RouteLimits {
  bodyLimitCode?: ErrorCode;
}

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'REFINERY_ERR_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'REFINERY_ERR_MALFORMED_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'REFINERY_ERR_MALFORMED_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'REFINERY_ERR_MALFORMED_JSON',
  FST_ERR_BAD_URL: 'REFINERY_ERR_NOT_FOUND',
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

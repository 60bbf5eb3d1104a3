import type { FastifyInstance } from 'fastify';
import { RefineryError } from '../core/errors.js';

/**
 * Whether `text` holds a C0 control character or DEL. No id or file name Refinery takes holds one, and a NUL
 * or a line break there ends up in log lines, messages, file paths and (for bundles) a response header.
 */
export function hasControlCharacter(text: string): boolean {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/**
 * Checks every path parameter of every route once, before authorisation and handlers see it. The router has
 * already percent-decoded each parameter exactly once (and refused malformed encodings and over-long values,
 * see `answerFrameworkError`), so handlers use `request.params` as they are and never decode again.
 */
export function registerPathParamChecks(app: FastifyInstance): void {
  // A callback hook, not an async one: it runs on every collected request, and needs no promise.
  app.addHook('onRequest', (request, _reply, done) => {
    done(problemWithParams(request.params as Record<string, unknown> | undefined));
  });
}

function problemWithParams(params: Record<string, unknown> | undefined): RefineryError | undefined {
  if (!params) return undefined;
  for (const [name, value] of Object.entries(params)) {
    // `*` is the dashboard's client-side route, served as its index page whatever it holds.
    if (name === '*' || typeof value !== 'string') continue;
    if (value === '') {
      return new RefineryError('REFINERY_ERR_MISSING_FIELD', `The path needs a value for ${name}.`, {
        field: name,
      });
    }
    if (hasControlCharacter(value)) {
      return new RefineryError(
        'REFINERY_ERR_INVALID_FIELD',
        `${name} must not hold control characters (such as %00 or a line break).`,
        { field: name },
      );
    }
  }
  return undefined;
}

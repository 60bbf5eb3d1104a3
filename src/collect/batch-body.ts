import type { WorkspaceConfig } from '../config/workspace-config.js';
import { RefineryError } from '../core/errors.js';
import { isJsonObject } from '../core/json-object.js';
import { assertSafeJson } from './object-safety.js';
import { assertWellFormedUnicode } from './well-formed-unicode.js';

/** Batch-level fields that apply to every message in it (the Segment batch format allows these). */
export interface BatchDefaults {
  readonly sentAt?: unknown;
  readonly context?: unknown;
  readonly integrations?: unknown;
}

export interface BatchBody {
  readonly messages: readonly unknown[];
  readonly defaults: BatchDefaults;
}

/**
 * Reads a `/v1/batch` body: its messages, and the batch-level fields checked as messages are (depth, poisoned
 * keys, numbers, lone surrogates), since they are stored with every message that inherits them. A problem in a
 * batch-level field refuses the whole request; problems in a message are the collector's to refuse one by one.
 * Other top-level fields (`writeKey`, anything unknown) are never stored, but a lone surrogate in one still
 * refuses the request: such a body is broken at its source.
 *
 * `checkUnicode` may be false only when the body's text holds no `\uD…` escape (see `mayHoldLoneSurrogate`).
 */
export function readBatchBody(
  body: unknown,
  limits: WorkspaceConfig['limits'],
  checkUnicode = true,
): BatchBody {
  if (!isJsonObject(body)) {
    throw new RefineryError(
      'REFINERY_ERR_INVALID_FIELD',
      'The body must be a JSON object with a "batch" array.',
      {
        field: 'body',
      },
    );
  }
  const batch = body.batch;
  if (!Array.isArray(batch)) {
    throw new RefineryError(
      batch === undefined ? 'REFINERY_ERR_MISSING_FIELD' : 'REFINERY_ERR_INVALID_FIELD',
      'The body needs a "batch" array of messages.',
      { field: 'batch' },
    );
  }
  if (batch.length > limits.maxBatchEvents) {
    throw new RefineryError(
      'REFINERY_ERR_BATCH_TOO_MANY_EVENTS',
      `The batch holds ${batch.length} events, over the limit of ${limits.maxBatchEvents} (limits.maxBatchEvents).`,
      { field: 'batch', limit: limits.maxBatchEvents },
    );
  }
  for (const key of Object.keys(body)) {
    if (key === 'batch') continue;
    const value = body[key];
    if (key === 'context' || key === 'integrations') {
      // A message nests them one level below itself: the same depth allowance as its own context.
      if (value !== undefined) assertSafeJson(value, key, limits.maxDepth, checkUnicode);
    } else if (checkUnicode) {
      assertWellFormedUnicode({ [key]: value }, 'body');
    }
  }
  return {
    messages: batch,
    defaults: { sentAt: body.sentAt, context: body.context, integrations: body.integrations },
  };
}

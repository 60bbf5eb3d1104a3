/**
 * Every error Refinery reports to a user has a stable code from this catalogue.
 * `docs/errors.md` lists the same codes; a test keeps the two in step.
 */
export const ERROR_CATALOGUE = {
  REFINERY_ERR_MALFORMED_JSON: { status: 400, summary: 'The request body is not valid JSON.' },
  REFINERY_ERR_INVALID_UTF8: { status: 400, summary: 'The request body is not valid UTF-8.' },
  REFINERY_ERR_INVALID_UNICODE: {
    status: 400,
    summary: 'A string or key holds a lone surrogate (a \\uD800–\\uDFFF escape without its pair).',
  },
  REFINERY_ERR_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    summary: 'The request body has a content type or encoding the endpoint does not accept.',
  },
  REFINERY_ERR_INVALID_FIELD: {
    status: 400,
    summary: 'A field has the wrong type or an invalid value; `field` names it.',
  },
  REFINERY_ERR_MISSING_FIELD: { status: 400, summary: 'A required field is missing; `field` names it.' },
  REFINERY_ERR_HOSTILE_KEY: {
    status: 400,
    summary: 'An object key such as `__proto__` or `constructor` is refused because it can poison objects.',
  },
  REFINERY_ERR_TOO_DEEP: { status: 400, summary: 'A value is nested deeper than the configured limit.' },
  REFINERY_ERR_EVENT_TOO_LARGE: {
    status: 413,
    summary: 'One event is larger than `limits.maxEventBytes` (32 KB by default).',
  },
  REFINERY_ERR_BATCH_TOO_LARGE: {
    status: 413,
    summary: 'The request body is larger than `limits.maxBatchBytes` (500 KB by default).',
  },
  REFINERY_ERR_BATCH_TOO_MANY_EVENTS: {
    status: 413,
    summary: 'A batch holds more events than `limits.maxBatchEvents`.',
  },
  REFINERY_ERR_ALL_EVENTS_REJECTED: {
    status: 400,
    summary: 'Every event in the request was rejected; the response lists each reason.',
  },
  REFINERY_ERR_MISSING_WRITE_KEY: {
    status: 401,
    summary: 'No write key was sent (HTTP Basic user, `writeKey` in the body, or `?writeKey=`).',
  },
  REFINERY_ERR_UNKNOWN_WRITE_KEY: { status: 401, summary: 'The write key is not known or was revoked.' },
  REFINERY_ERR_MISSING_API_KEY: { status: 401, summary: 'The endpoint needs an API key (Bearer token).' },
  REFINERY_ERR_UNKNOWN_API_KEY: { status: 401, summary: 'The API key is not known or was revoked.' },
  REFINERY_ERR_FORBIDDEN: {
    status: 403,
    summary: 'The key is valid but its kind may not use this endpoint.',
  },
  REFINERY_ERR_NOT_FOUND: { status: 404, summary: 'No such route or resource.' },
  REFINERY_ERR_METHOD_NOT_ALLOWED: { status: 405, summary: 'The route exists but not for this HTTP method.' },
  REFINERY_ERR_MALFORMED_URL: {
    status: 400,
    summary: 'The request path holds a malformed percent-encoding or one that is not UTF-8.',
  },
  REFINERY_ERR_REQUEST_TIMEOUT: {
    status: 408,
    summary: 'The request did not arrive within `server.headersTimeoutMs` / `server.requestTimeoutMs`.',
  },
  REFINERY_ERR_HEADERS_TOO_LARGE: { status: 431, summary: 'The request headers are over 16 KB.' },
  REFINERY_ERR_MALFORMED_REQUEST: {
    status: 400,
    summary: 'The bytes received are not a valid HTTP/1.1 request.',
  },
  REFINERY_ERR_QUERY_NOT_READ_ONLY: {
    status: 400,
    summary: 'A query sent to `/v1/query` must be a single read-only SELECT statement.',
  },
  REFINERY_ERR_QUERY_FORBIDDEN_FUNCTION: {
    status: 400,
    summary:
      'A query tried to read files, attach databases or call a function that reaches outside the store.',
  },
  REFINERY_ERR_QUERY_FAILED: { status: 400, summary: 'The store rejected the query; `message` says why.' },
  REFINERY_ERR_QUERY_TIMEOUT: { status: 408, summary: 'The query ran longer than `limits.queryTimeoutMs`.' },
  REFINERY_ERR_QUERY_TOO_LARGE: {
    status: 413,
    summary:
      'The query needed more memory than `limits.queryMaxMemory`, or would build a single value larger than a query may.',
  },
  REFINERY_ERR_QUERY_BUSY: {
    status: 503,
    summary: 'Every connection for user SQL stayed busy for `limits.queryTimeoutMs`; retry shortly.',
  },
  REFINERY_ERR_WAL_FULL: {
    status: 503,
    summary: 'The write-ahead log reached `limits.maxWalBytes`; the loader is behind. Retry later.',
  },
  REFINERY_ERR_SHUTTING_DOWN: {
    status: 503,
    summary: 'The server is shutting down; retry against another instance.',
  },
  REFINERY_ERR_CONFIG_INVALID: {
    status: 500,
    summary: '`refinery.yaml` does not match the schema; the message names the file, line and field.',
  },
  REFINERY_ERR_WORKSPACE_NOT_FOUND: {
    status: 500,
    summary: 'No `refinery.yaml` in the workspace folder (see `--dir` and `REFINERY_DIR`).',
  },
  REFINERY_ERR_WORKSPACE_EXISTS: { status: 500, summary: '`refinery init` found a workspace already there.' },
  REFINERY_ERR_WORKSPACE_LOCKED: {
    status: 500,
    summary: 'Another process holds the workspace database; use the running server or stop it.',
  },
  REFINERY_ERR_SERVER_RUNNING: {
    status: 409,
    summary:
      'The command needs the workspace database to itself, but a server is running on it; stop it first.',
  },
  REFINERY_ERR_MIGRATE_COUNTS_DIFFER: {
    status: 500,
    summary:
      '`refinery migrate` copied the data, but a table holds a different number of rows in the target.',
  },
  REFINERY_ERR_IMPORT_FILE_NOT_FOUND: { status: 400, summary: 'The file to import does not exist.' },
  REFINERY_ERR_IMPORT_FORMAT: {
    status: 400,
    summary: 'The file format is not one of csv, tsv, ndjson/jsonl, json or parquet, or it cannot be read.',
  },
  REFINERY_ERR_IMPORT_MAPPING: {
    status: 400,
    summary: 'A `--map col=field` names a column the file lacks or a field the target table lacks.',
  },
  REFINERY_ERR_IMPORT_MISSING_COLUMN: {
    status: 400,
    summary: 'The file has no column for a field the target table requires.',
  },
  REFINERY_ERR_PORT_IN_USE: {
    status: 500,
    summary: 'The server could not listen: another process uses the address and port (see --port).',
  },
  REFINERY_ERR_SERVER_UNREACHABLE: {
    status: 500,
    summary: 'A server is registered for the workspace but did not answer.',
  },
  REFINERY_ERR_NOT_SUPPORTED: {
    status: 501,
    summary:
      "The workspace's store engine does not offer this capability (yet); the message says what to use instead.",
  },
  REFINERY_ERR_CONTRACT_INVALID: {
    status: 400,
    summary:
      'A data contract is not valid ODCS v3 YAML, or Refinery cannot use it; the message names file and line.',
  },
  REFINERY_ERR_CONTRACT_NOT_ODCS: {
    status: 400,
    summary: 'The file is a contract in the older Data Contract Specification format, not ODCS v3.',
  },
  REFINERY_ERR_CONTRACT_NOT_FOUND: { status: 404, summary: 'No contract with that file name or id.' },
  REFINERY_ERR_CONTRACT_CONFLICT: {
    status: 409,
    summary: 'Two contracts govern the same event or dataset; each may be governed by one contract only.',
  },
  REFINERY_ERR_CONTRACT_SERVER: {
    status: 400,
    summary: 'The contract has no such `servers` entry, or it is not one Refinery can read (local files).',
  },
  REFINERY_ERR_CONTRACT_FILTER: {
    status: 400,
    summary:
      'The row filter given to `contract test` is not a valid expression over the data (e.g. an unknown column).',
  },
  REFINERY_ERR_QUARANTINE_NOT_FOUND: { status: 404, summary: 'No quarantined event with that id.' },
  REFINERY_ERR_WAL_LINE_NOT_FOUND: {
    status: 404,
    summary: 'No log line set aside by the loader has that id.',
  },
  REFINERY_ERR_WAL_LINE_DECIDED: {
    status: 409,
    summary: 'The set-aside log line was already replayed or discarded.',
  },
  REFINERY_ERR_WAL_LINE_INVALID: {
    status: 422,
    summary: 'The set-aside log line (as stored or as corrected) still cannot be loaded; `message` says why.',
  },
  REFINERY_ERR_AUDIT_LOG_BROKEN: {
    status: 500,
    summary:
      'The audit log on disk was changed or cut; it refuses appends until checked with `refinery audit verify`.',
  },
  REFINERY_ERR_MASTER_KEY_INVALID: {
    status: 500,
    summary: 'The master key file or REFINERY_MASTER_KEY is not a 32-byte key, or cannot be read or created.',
  },
  REFINERY_ERR_VAULT_CORRUPT: {
    status: 500,
    summary: 'A vault file has a damaged line, or its keys do not open with this master key.',
  },
  REFINERY_ERR_ENVELOPE_TAMPERED: {
    status: 500,
    summary:
      'An encrypted field fails authentication: its bytes were altered, or it was moved to another field.',
  },
  REFINERY_ERR_PROFILE_NOT_FOUND: { status: 404, summary: 'No person is known by that id or identifier.' },
  REFINERY_ERR_PRIVACY_REQUEST_NOT_FOUND: { status: 404, summary: 'No data-subject request with that id.' },
  REFINERY_ERR_PRIVACY_REQUEST_STATE: {
    status: 409,
    summary:
      'The data-subject request cannot do that in its state: only open requests run or are refused, only done access requests have a bundle.',
  },
  REFINERY_ERR_STORE: { status: 500, summary: 'The store engine failed; the cause is attached.' },
  REFINERY_ERR_INTERNAL: { status: 500, summary: 'An unexpected error; the server log has the details.' },
} as const satisfies Record<string, { status: number; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export interface ErrorDetails {
  /** The offending field, as a JSON path such as `batch[3].properties.price`. */
  field?: string;
  /** The limit that was exceeded, in its configured unit. */
  limit?: number;
  [extra: string]: unknown;
}

/** The one error type Refinery throws on purpose: stable `code`, HTTP `status`, optional details and cause. */
export class RefineryError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RefineryError';
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
    this.details = details;
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, ...this.details };
  }
}

export function isRefineryError(value: unknown): value is RefineryError {
  return value instanceof RefineryError;
}

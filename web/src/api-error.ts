import type { ApiErrorBody } from './api-types.js';

/** An error answered by the API (`{code, message, field?}`) or a network failure (`status` 0). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | undefined;

  constructor(status: number, body: ApiErrorBody) {
    super(body.message);
    this.name = 'ApiError';
    this.status = status;
    this.code = body.code;
    this.field = body.field;
  }
}

function isErrorBody(value: unknown): value is ApiErrorBody {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return typeof record.message === 'string';
}

/** Builds an ApiError from a failed response, tolerating bodies that are not JSON. */
export async function errorFromResponse(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (isErrorBody(parsed)) {
    const body: ApiErrorBody = {
      code: typeof parsed.code === 'string' ? parsed.code : `HTTP_${response.status}`,
      message: parsed.message,
    };
    if (typeof parsed.field === 'string') body.field = parsed.field;
    return new ApiError(response.status, body);
  }
  return new ApiError(response.status, {
    code: `HTTP_${response.status}`,
    message: text.trim() || response.statusText || `Request failed with status ${response.status}`,
  });
}

/** Normalizes anything thrown by a request into an ApiError. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ApiError(0, { code: 'NETWORK_ERROR', message: `Could not reach the server: ${message}` });
}

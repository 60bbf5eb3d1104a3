import type { FastifyRequest } from 'fastify';
import type { KeyRing } from '../access/api-keys.js';
import { can } from '../access/roles.js';
import { RefineryError } from '../core/errors.js';
import type { ApiKeyRow } from '../store/store.js';

/**
 * Finds the write key the way the Segment and RudderStack SDKs send it: HTTP Basic with the key as the
 * user (analytics-node, rudder-sdk-node), `writeKey` in the JSON body (analytics.js), or `?writeKey=`
 * (RudderStack's beacon transport).
 */
export function writeKeyOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header?.startsWith('Basic ')) {
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    const user = decoded.split(':')[0];
    if (user) return user;
  }
  const body = request.body as { writeKey?: unknown } | undefined;
  if (body && typeof body === 'object' && typeof body.writeKey === 'string' && body.writeKey)
    return body.writeKey;
  const query = request.query as { writeKey?: unknown } | undefined;
  if (typeof query?.writeKey === 'string' && query.writeKey) return query.writeKey;
  return undefined;
}

export async function authenticateWriteKey(request: FastifyRequest, keys: KeyRing): Promise<ApiKeyRow> {
  const key = writeKeyOf(request);
  if (!key) {
    throw new RefineryError(
      'REFINERY_ERR_MISSING_WRITE_KEY',
      'Send a source write key as the HTTP Basic user, as "writeKey" in the body, or as ?writeKey=.',
    );
  }
  const row = await keys.find(key);
  // Any other kind is refused as unknown, as before roles existed: SDKs treat a 401 as "wrong key".
  if (!row || !can(row.kind, 'collect')) {
    throw new RefineryError('REFINERY_ERR_UNKNOWN_WRITE_KEY', 'The write key is not known or was revoked.');
  }
  return row;
}

/**
 * Finds the API key of a request and its row: `Authorization: Bearer <key>`, or HTTP Basic with the key as
 * the user (`curl -u <key>:`). Says nothing about what the key may do; `authorise.ts` checks that.
 */
export async function authenticateApiKey(request: FastifyRequest, keys: KeyRing): Promise<ApiKeyRow> {
  const key = apiKeyIn(request.headers.authorization ?? '');
  if (!key)
    throw new RefineryError(
      'REFINERY_ERR_MISSING_API_KEY',
      'Send an API key as "Authorization: Bearer <key>" (or as the HTTP Basic user).',
    );
  const row = await keys.find(key);
  if (!row)
    throw new RefineryError('REFINERY_ERR_UNKNOWN_API_KEY', 'The API key is not known or was revoked.');
  return row;
}

function apiKeyIn(header: string): string | undefined {
  if (header.startsWith('Bearer ')) return header.slice(7).trim() || undefined;
  if (header.startsWith('Basic ')) {
    return Buffer.from(header.slice(6), 'base64').toString('utf8').split(':')[0] || undefined;
  }
  return undefined;
}

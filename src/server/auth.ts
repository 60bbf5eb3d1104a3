import type { FastifyRequest } from 'fastify';
import type { KeyRing } from '../access/api-keys.js';
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
  if (row?.kind !== 'write') {
    throw new RefineryError('REFINERY_ERR_UNKNOWN_WRITE_KEY', 'The write key is not known or was revoked.');
  }
  return row;
}

/** Admin endpoints take `Authorization: Bearer <admin key>` (or Basic with the key as user, for curl -u). */
export async function authenticateAdmin(request: FastifyRequest, keys: KeyRing): Promise<ApiKeyRow> {
  const header = request.headers.authorization ?? '';
  let key: string | undefined;
  if (header.startsWith('Bearer ')) key = header.slice(7).trim();
  else if (header.startsWith('Basic '))
    key = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':')[0];
  if (!key)
    throw new RefineryError(
      'REFINERY_ERR_MISSING_API_KEY',
      'Send an admin key as "Authorization: Bearer <key>".',
    );
  const row = await keys.find(key);
  if (!row)
    throw new RefineryError('REFINERY_ERR_UNKNOWN_API_KEY', 'The API key is not known or was revoked.');
  if (row.kind !== 'admin') {
    throw new RefineryError(
      'REFINERY_ERR_FORBIDDEN',
      `A ${row.kind} key may not use this endpoint; use an admin key.`,
    );
  }
  return row;
}

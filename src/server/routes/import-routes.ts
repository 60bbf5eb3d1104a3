import { randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { FastifyInstance } from 'fastify';
import type { ContractSet } from '../../contracts/contract-set.js';
import { RefineryError } from '../../core/errors.js';
import type { ImportPrivacy } from '../../imports/import-sealing.js';
import { runImport } from '../../imports/run-import.js';
import {
  IMPORT_FORMATS,
  IMPORT_TARGETS,
  type ImportFormat,
  type ImportTarget,
} from '../../store/import-types.js';
import type { Store } from '../../store/store.js';
import { API_KEY_SECURITY } from '../authorise.js';
import { suspendIdleTimeout } from '../connection-limits.js';
import { hasControlCharacter } from '../path-params.js';

export interface ImportRouteDeps {
  readonly store: Store;
  readonly uploadsDir: string;
  /** Dataset contracts in enforce mode refuse the rows that break them. */
  readonly contracts: { readonly current: ContractSet };
  /** The workspace's vault and personal field names: imported personal values are sealed before they are stored. */
  readonly privacy?: ImportPrivacy | undefined;
}

const MAX_UPLOAD_BYTES = 10 * 1024 * 1024 * 1024;

/**
 * File imports over HTTP, for when a server owns the workspace database: the CLI streams the file here
 * and the server imports it with the same domain function the CLI uses when no server runs.
 */
export function registerImportRoutes(app: FastifyInstance, deps: ImportRouteDeps): void {
  app.register(async (scope) => {
    // Uploads arrive as raw bytes and are streamed to disk, never buffered or parsed as JSON.
    scope.addContentTypeParser('application/octet-stream', (_request, payload, done) => done(null, payload));
    scope.post(
      '/v1/imports',
      {
        bodyLimit: MAX_UPLOAD_BYTES,
        config: { permission: 'manage:data' },
        schema: {
          tags: ['admin'],
          summary: 'Import a CSV/TSV/NDJSON/JSON/Parquet file as events, orders, customers or products',
          security: API_KEY_SECURITY,
          querystring: {
            type: 'object',
            required: ['as', 'fileName'],
            properties: {
              as: { enum: [...IMPORT_TARGETS] },
              fileName: { type: 'string' },
              format: { enum: [...IMPORT_FORMATS] },
              map: { type: 'array', items: { type: 'string', description: 'col=field' } },
            },
          },
        },
      },
      async (request) => {
        const query = request.query as {
          as?: string;
          fileName?: string;
          format?: string;
          map?: string | string[];
        };
        if (!query.as || !(IMPORT_TARGETS as readonly string[]).includes(query.as)) {
          throw new RefineryError(
            'REFINERY_ERR_INVALID_FIELD',
            `as must be one of ${IMPORT_TARGETS.join(', ')}.`,
            {
              field: 'as',
            },
          );
        }
        if (query.format && !(IMPORT_FORMATS as readonly string[]).includes(query.format)) {
          throw new RefineryError(
            'REFINERY_ERR_IMPORT_FORMAT',
            `format must be one of ${IMPORT_FORMATS.join(', ')}.`,
            {
              field: 'format',
            },
          );
        }
        const fileName = uploadFileNameOf(query.fileName);
        const body = request.body as NodeJS.ReadableStream | undefined;
        if (!body || typeof (body as { pipe?: unknown }).pipe !== 'function') {
          throw new RefineryError(
            'REFINERY_ERR_UNSUPPORTED_MEDIA_TYPE',
            'Send the file as the request body with Content-Type: application/octet-stream.',
          );
        }
        mkdirSync(deps.uploadsDir, { recursive: true });
        const folder = join(deps.uploadsDir, randomUUID());
        mkdirSync(folder);
        // The file on disk gets a name of the server's choosing with the upload's extensions, from which the
        // reader picks the format and compression; the name the client gave is only shown (reports, `source`).
        const file = join(folder, `upload${extensionsOf(fileName)}`);
        // An import sends nothing while the store reads the file, which can take minutes.
        const restoreIdleTimeout = suspendIdleTimeout(request);
        try {
          await pipeline(body, createWriteStream(file));
          return await runImport(deps.store, {
            file,
            fileName,
            target: query.as as ImportTarget,
            ...(query.format ? { format: query.format as ImportFormat } : {}),
            map: query.map === undefined ? [] : Array.isArray(query.map) ? query.map : [query.map],
            contracts: deps.contracts.current,
            ...(deps.privacy ? { privacy: deps.privacy } : {}),
          });
        } finally {
          restoreIdleTimeout();
          rmSync(folder, { recursive: true, force: true });
        }
      },
    );
  });
}

const MAX_FILE_NAME_BYTES = 255;

/**
 * The client's name for the uploaded file, or a 400 naming `fileName`: a plain file name (what `basename`
 * gives on the client), never a path, `.`/`..`, empty, over 255 bytes, or holding control characters.
 */
export function uploadFileNameOf(raw: string | undefined): string {
  const refuse = (why: string) =>
    new RefineryError('REFINERY_ERR_INVALID_FIELD', `fileName ${why}.`, { field: 'fileName' });
  if (raw === undefined || raw === '') {
    throw new RefineryError('REFINERY_ERR_MISSING_FIELD', 'Give the name of the file sent as ?fileName=.', {
      field: 'fileName',
    });
  }
  if (Buffer.byteLength(raw) > MAX_FILE_NAME_BYTES) {
    throw new RefineryError(
      'REFINERY_ERR_INVALID_FIELD',
      `fileName is longer than ${MAX_FILE_NAME_BYTES} bytes.`,
      { field: 'fileName', limit: MAX_FILE_NAME_BYTES },
    );
  }
  if (raw === '.' || raw === '..' || /[/\\]/.test(raw)) {
    throw refuse('must be a file name without a folder (no /, \\, . or ..)');
  }
  if (hasControlCharacter(raw)) throw refuse('must not hold control characters');
  return raw;
}

/** `.csv`, `.csv.gz`: up to two trailing extensions of letters and digits, lower-cased; '' when there are none. */
function extensionsOf(fileName: string): string {
  return (/(\.[A-Za-z0-9]{1,10}){1,2}$/.exec(fileName)?.[0] ?? '').toLowerCase();
}

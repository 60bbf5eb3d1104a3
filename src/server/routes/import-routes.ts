import { randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { FastifyInstance } from 'fastify';
import type { ContractSet } from '../../contracts/contract-set.js';
import { RefineryError } from '../../core/errors.js';
import { runImport } from '../../imports/run-import.js';
import {
  IMPORT_FORMATS,
  IMPORT_TARGETS,
  type ImportFormat,
  type ImportTarget,
} from '../../store/import-types.js';
import type { Store } from '../../store/store.js';
import { API_KEY_SECURITY } from '../authorise.js';

export interface ImportRouteDeps {
  readonly store: Store;
  readonly uploadsDir: string;
  /** Dataset contracts in enforce mode refuse the rows that break them. */
  readonly contracts: { readonly current: ContractSet };
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
        const fileName = basename(query.fileName ?? 'upload');
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
        // Keep the original name: the reader picks the format (and gzip) from the extension.
        const file = join(folder, fileName);
        try {
          await pipeline(body, createWriteStream(file));
          return await runImport(deps.store, {
            file,
            fileName,
            target: query.as as ImportTarget,
            ...(query.format ? { format: query.format as ImportFormat } : {}),
            map: query.map === undefined ? [] : Array.isArray(query.map) ? query.map : [query.map],
            contracts: deps.contracts.current,
          });
        } finally {
          rmSync(folder, { recursive: true, force: true });
        }
      },
    );
  });
}

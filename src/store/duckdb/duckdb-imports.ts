// Placeholder until the import module lands; replaced by the full implementation.
import { RefineryError } from '../../core/errors.js';
import type { ImportFormat, ImportRejectRow, ImportReport, ImportRepository, ImportSpec } from '../import-types.js';
import type { Migration } from './duckdb-migrations.js';
import type { DuckDbSession } from './duckdb-session.js';

export const IMPORT_MIGRATIONS: readonly Migration[] = [];

export class DuckDbImports implements ImportRepository {
  constructor(
    private readonly importer: DuckDbSession,
    readonly reader: DuckDbSession,
  ) {}
  async columnsOf(_file: string, _format: ImportFormat): Promise<string[]> {
    throw new RefineryError('REFINERY_ERR_INTERNAL', 'imports not implemented yet');
  }
  async run(_spec: ImportSpec): Promise<ImportReport> {
    throw new RefineryError('REFINERY_ERR_INTERNAL', 'imports not implemented yet');
  }
  async rejects(_importId: string, _limit: number): Promise<ImportRejectRow[]> {
    return [];
  }
  async history(_limit: number): Promise<Record<string, unknown>[]> {
    return [];
  }
  close(): void {
    this.importer.close();
  }
}

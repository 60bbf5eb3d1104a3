import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import type { ContractSet, GovernedMessage } from '../contracts/contract-set.js';
import { RefineryError } from '../core/errors.js';
import { asJsonObject } from '../core/json-object.js';
import type {
  ImportFormat,
  ImportProgress,
  ImportReport,
  ImportRowCheck,
  ImportSpec,
  ImportTarget,
} from '../store/import-types.js';
import type { Store } from '../store/store.js';
import { parseImportFormat, resolveFormat } from './formats.js';
import { type ImportPrivacy, importSealer } from './import-sealing.js';
import { parseMapOptions, resolveMapping } from './mapping.js';
import { TARGETS } from './targets.js';

export interface ImportRequest {
  /** Path of the file to read. */
  readonly file: string;
  /** Name shown to people and used to tell the format; defaults to the file's base name. */
  readonly fileName?: string;
  readonly target: ImportTarget;
  /** Defaults to the format implied by the file name. */
  readonly format?: ImportFormat;
  /** `col=field` pairs, as given to `--map`. */
  readonly map?: readonly string[];
  /** `source` of imported events; defaults to `import:<fileName>`. */
  readonly source?: string;
  readonly now?: Date;
  /** The workspace's contracts: a dataset contract in enforce mode refuses the rows that break it. */
  readonly contracts?: ContractSet;
  /**
   * The workspace's vault and personal field names: personal values are sealed before they are stored, as the
   * collector seals them. The server and the CLI always give it; without it values are stored as read.
   */
  readonly privacy?: ImportPrivacy;
}

export interface ImportPlan {
  readonly spec: ImportSpec;
  readonly columns: readonly string[];
  readonly unmappedColumns: readonly string[];
}

/**
 * Works out everything about an import without writing anything: the format, the file's columns and which
 * column feeds which field. Throws the REFINERY_ERR_IMPORT_* errors a person can fix before any row is read.
 */
export async function planImport(store: Store, request: ImportRequest): Promise<ImportPlan> {
  if (!existsSync(request.file) || !statSync(request.file).isFile()) {
    throw new RefineryError('REFINERY_ERR_IMPORT_FILE_NOT_FOUND', `No file at ${request.file}.`, {
      field: 'file',
    });
  }
  const fileName = request.fileName ?? basename(request.file);
  const format = resolveFormat(
    fileName,
    request.format === undefined ? undefined : parseImportFormat(request.format),
  );
  const columns = await store.imports.columnsOf(request.file, format);
  const { mapping, unmappedColumns } = resolveMapping(
    request.target,
    columns,
    parseMapOptions(request.map ?? []),
  );
  const startedAt = request.now ?? new Date();
  const sealer = request.privacy
    ? importSealer(request.target, mapping, unmappedColumns, request.privacy)
    : undefined;
  return {
    spec: {
      importId: newImportId(startedAt),
      file: request.file,
      fileName,
      format,
      target: request.target,
      mapping,
      source: request.source ?? `import:${fileName}`,
      startedAt,
      ...rowCheckOf(request),
      ...(sealer ? { sealer } : {}),
    },
    columns,
    unmappedColumns,
  };
}

/**
 * Imports one file into the store: the domain entry point behind `refinery import` and the HTTP import route.
 * Rows that fail validation are reported (line and reason) and kept in `import_rejects`; the rest are written.
 */
export async function runImport(
  store: Store,
  request: ImportRequest,
  onProgress?: (progress: ImportProgress) => void,
): Promise<ImportReport> {
  const plan = await planImport(store, request);
  return store.imports.run(plan.spec, onProgress);
}

/**
 * A dataset contract in `enforce` mode turns into a row check: a row that breaks it is refused with the
 * contract, the field and the rule as its reason (kept with its line in the import rejects). `warn` and
 * `off` contracts do not refuse rows; `refinery contract test` reports on them.
 */
function rowCheckOf(request: ImportRequest): { rowCheck?: ImportRowCheck } {
  if (request.target === 'events') return eventRowCheckOf(request.contracts);
  const binding = request.contracts?.findDatasetBinding(request.target);
  if (binding?.mode !== 'enforce') return {};
  // A refused row's reason is kept in the import rejects: a personal value is never quoted there.
  const personal = request.privacy?.fields.traits;
  const shown = (path: string, value: string | undefined) =>
    value &&
    !personal?.has(
      path
        .split(/[.[\]]/)
        .filter(Boolean)
        .at(-1) ?? '',
    )
      ? ` (${value})`
      : '';
  return {
    rowCheck(row) {
      const violations = binding.validate(row);
      if (violations.length === 0) return null;
      return {
        field: violations[0]!.path || null,
        reason: violations
          .map((v) => `contract ${binding.contract.id}: ${v.path} ${v.message}${shown(v.path, v.value)}`)
          .join('; '),
      };
    },
  };
}

const EVENT_FIELDS = new Set(TARGETS.events.fields.map((field) => field.name));

/**
 * Imported events meet the same contracts as collected ones: a row an enforced contract (or the
 * `quarantine` policy for undeclared events) would hold is refused with its line and reasons instead.
 */
function eventRowCheckOf(contracts: ContractSet | undefined): { rowCheck?: ImportRowCheck } {
  if (!contracts || (contracts.contracts.length === 0 && contracts.undeclared !== 'quarantine')) return {};
  return {
    rowCheck(row) {
      // Columns no field claims are added to properties on import; check what will be stored.
      const properties: Record<string, unknown> = { ...jsonObject(row.properties) };
      for (const [key, value] of Object.entries(row)) {
        if (!EVENT_FIELDS.has(key) && value !== null && value !== undefined) properties[key] ??= value;
      }
      const type = typeof row.type === 'string' ? row.type : 'track';
      const message = {
        type: type as GovernedMessage['type'],
        event: typeof row.event === 'string' ? row.event : null,
        name: typeof row.name === 'string' ? row.name : null,
        properties,
        traits: jsonObject(row.traits),
        context: jsonObject(row.context),
      };
      const verdict = contracts.check(message, { ...row, properties });
      if (verdict.action !== 'quarantine') return null;
      return {
        field: verdict.violations[0]?.path ?? null,
        reason: verdict.violations
          .map((v) => `${verdict.contract ? `contract ${verdict.contract}: ` : ''}${v.path} ${v.message}`)
          .join('; '),
      };
    },
  };
}

function jsonObject(value: unknown): Record<string, unknown> | null {
  return asJsonObject(typeof value === 'string' ? safeParse(value) : value);
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** Sortable by time, unique enough for one workspace: `imp_20240301T101500_3fa9c2`. */
export function newImportId(at: Date): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, '');
  return `imp_${stamp}_${randomBytes(3).toString('hex')}`;
}

import { RefineryError } from '../core/errors.js';
import type { ImportTarget } from '../store/import-types.js';
import { normaliseColumnName, TARGETS } from './targets.js';

export interface MapOption {
  readonly column: string;
  readonly field: string;
}

export interface ResolvedMapping {
  /** Target field → file column. */
  readonly mapping: Readonly<Record<string, string>>;
  /** File columns no field claimed, in file order; they are kept in the row's `extra` (or `properties`). */
  readonly unmappedColumns: readonly string[];
}

/**
 * Parses `--map col=field` options. The field is after the last `=`, so a column name may itself contain `=`.
 */
export function parseMapOptions(options: readonly string[]): MapOption[] {
  return options.map((option) => {
    const at = option.lastIndexOf('=');
    const column = at > 0 ? option.slice(0, at).trim() : '';
    const field = at > 0 ? option.slice(at + 1).trim() : '';
    if (!column || !field) {
      throw new RefineryError(
        'REFINERY_ERR_IMPORT_MAPPING',
        `--map "${option}" is not of the form column=field (for example --map "Order Ref=order_id").`,
        { field: 'map', map: option },
      );
    }
    return { column, field };
  });
}

/**
 * Decides which file column feeds which target field: every `--map` first, then automatic matches of the
 * remaining fields by column name and alias (exact names before aliases, earlier aliases before later ones).
 * Throws REFINERY_ERR_IMPORT_MAPPING for a `--map` naming an unknown column or field, and
 * REFINERY_ERR_IMPORT_MISSING_COLUMN when a required field is left without a column.
 */
export function resolveMapping(
  target: ImportTarget,
  columns: readonly string[],
  explicit: readonly MapOption[] = [],
): ResolvedMapping {
  const definition = TARGETS[target];
  const fieldNames = definition.fields.map((f) => f.name);
  const mapping: Record<string, string> = {};
  const used = new Set<string>();

  for (const { column: wanted, field } of explicit) {
    if (!fieldNames.includes(field)) {
      throw new RefineryError(
        'REFINERY_ERR_IMPORT_MAPPING',
        `--map ${wanted}=${field}: ${target} has no field "${field}". Fields: ${fieldNames.join(', ')}.`,
        { field: 'map', column: wanted, targetField: field, fields: fieldNames },
      );
    }
    const column = findColumn(columns, wanted);
    if (column === undefined) {
      throw new RefineryError(
        'REFINERY_ERR_IMPORT_MAPPING',
        `--map ${wanted}=${field}: the file has no column "${wanted}". Columns: ${columns.join(', ')}.`,
        { field: 'map', column: wanted, targetField: field, columns: [...columns] },
      );
    }
    if (mapping[field] !== undefined && mapping[field] !== column) {
      throw new RefineryError(
        'REFINERY_ERR_IMPORT_MAPPING',
        `--map gives field "${field}" two columns: "${mapping[field]}" and "${column}".`,
        { field: 'map', targetField: field },
      );
    }
    if (used.has(column) && mapping[field] !== column) {
      throw new RefineryError(
        'REFINERY_ERR_IMPORT_MAPPING',
        `--map sends column "${column}" to two fields; a column can feed one field only.`,
        { field: 'map', column },
      );
    }
    mapping[field] = column;
    used.add(column);
  }

  // Candidate (field, column) pairs ranked by how good the name match is; the best free pairs win.
  const normalisedColumns = columns.map((column) => ({ column, key: normaliseColumnName(column) }));
  const candidates: { field: string; column: string; rank: number; order: number }[] = [];
  definition.fields.forEach((f, order) => {
    if (mapping[f.name] !== undefined) return;
    f.aliases.forEach((alias, rank) => {
      const key = normaliseColumnName(alias);
      for (const c of normalisedColumns)
        if (c.key === key) candidates.push({ field: f.name, column: c.column, rank, order });
    });
  });
  candidates.sort((a, b) => a.rank - b.rank || a.order - b.order);
  for (const candidate of candidates) {
    if (mapping[candidate.field] !== undefined || used.has(candidate.column)) continue;
    mapping[candidate.field] = candidate.column;
    used.add(candidate.column);
  }

  const missing = definition.fields
    .filter((f) => f.required && mapping[f.name] === undefined)
    .map((f) => f.name);
  for (const group of definition.requireOneOf) {
    if (!group.some((name) => mapping[name] !== undefined)) missing.push(group.join(' or '));
  }
  if (missing.length > 0) {
    const first = missing[0]!;
    throw new RefineryError(
      'REFINERY_ERR_IMPORT_MISSING_COLUMN',
      `Importing as ${target} needs a column for ${missing.join(', ')}, but none of the file's columns matched ` +
        `(${columns.join(', ') || 'no columns'}). Name one with --map "<column>=${first.split(' or ')[0]}".`,
      { field: first, missing, columns: [...columns] },
    );
  }

  // Keep the mapping in the target's field order so reports read the same way every time.
  const ordered: Record<string, string> = {};
  for (const name of fieldNames) if (mapping[name] !== undefined) ordered[name] = mapping[name];
  return { mapping: ordered, unmappedColumns: columns.filter((column) => !used.has(column)) };
}

/** An exact column name, or else the one column whose name matches ignoring case, spaces and punctuation. */
function findColumn(columns: readonly string[], wanted: string): string | undefined {
  if (columns.includes(wanted)) return wanted;
  const key = normaliseColumnName(wanted);
  const matches = columns.filter((column) => normaliseColumnName(column) === key);
  return matches.length === 1 ? matches[0] : undefined;
}

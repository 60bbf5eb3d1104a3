import { RefineryError } from '../core/errors.js';
import { IMPORT_FORMATS, type ImportFormat } from '../store/import-types.js';

const COMPRESSION_SUFFIXES = ['.gz', '.gzip', '.zst'];

const FORMAT_BY_EXTENSION: Readonly<Record<string, ImportFormat>> = {
  '.csv': 'csv',
  '.tsv': 'tsv',
  '.tab': 'tsv',
  '.ndjson': 'ndjson',
  '.jsonl': 'ndjson',
  '.json': 'json',
  '.parquet': 'parquet',
  '.pq': 'parquet',
};

/**
 * The import format implied by a file name, looking through a compression suffix (`orders.csv.gz` is CSV).
 * Returns undefined when the name says nothing recognisable.
 */
export function formatFromFileName(fileName: string): ImportFormat | undefined {
  let name = fileName.toLowerCase();
  for (const suffix of COMPRESSION_SUFFIXES) {
    if (name.endsWith(suffix)) {
      name = name.slice(0, -suffix.length);
      break;
    }
  }
  const dot = name.lastIndexOf('.');
  return dot >= 0 ? FORMAT_BY_EXTENSION[name.slice(dot)] : undefined;
}

/** Accepts a format given by a person (`jsonl` is NDJSON) or throws REFINERY_ERR_IMPORT_FORMAT. */
export function parseImportFormat(value: string): ImportFormat {
  const lowered = value.trim().toLowerCase();
  const format = lowered === 'jsonl' ? 'ndjson' : lowered;
  if ((IMPORT_FORMATS as readonly string[]).includes(format)) return format as ImportFormat;
  throw new RefineryError(
    'REFINERY_ERR_IMPORT_FORMAT',
    `"${value}" is not an import format; use one of ${IMPORT_FORMATS.join(', ')}.`,
    { field: 'format' },
  );
}

/** The explicit format when given, else the one the file name implies; throws REFINERY_ERR_IMPORT_FORMAT otherwise. */
export function resolveFormat(fileName: string, explicit?: ImportFormat): ImportFormat {
  if (explicit) return explicit;
  const format = formatFromFileName(fileName);
  if (format) return format;
  throw new RefineryError(
    'REFINERY_ERR_IMPORT_FORMAT',
    `Cannot tell the format of "${fileName}" from its name; name it .csv, .tsv, .ndjson/.jsonl, .json or .parquet ` +
      '(optionally .gz), or pass --format.',
    { field: 'format' },
  );
}

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, parseDocument } from 'yaml';
import { CONFIG_FILE } from '../config/workspace-config.js';
import { RefineryError } from '../core/errors.js';

/**
 * Points a workspace's refinery.yaml at another store: only `store.url` changes; comments, order and every
 * other setting stay as they were (the file is edited through yaml's Document API, not re-serialised from
 * the parsed config). Returns the file written.
 */
export function switchStoreUrl(dir: string, url: string): string {
  const file = join(dir, CONFIG_FILE);
  const text = readFileSync(file, 'utf8');
  const document = parseDocument(text);
  if (document.errors.length > 0) {
    throw new RefineryError(
      'REFINERY_ERR_CONFIG_INVALID',
      `${file} is not valid YAML: ${document.errors[0]?.message ?? 'parse error'}`,
      { field: 'store.url' },
    );
  }
  const store = document.get('store', true);
  if (store !== undefined && store !== null && !isMap(store)) {
    throw new RefineryError('REFINERY_ERR_CONFIG_INVALID', `${file}: store is not a mapping.`, {
      field: 'store',
    });
  }
  document.setIn(['store', 'url'], url);
  writeFileSync(file, document.toString());
  return file;
}

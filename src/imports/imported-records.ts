import { isJsonObject } from '../core/json-object.js';
import { type PersonalFields, revealValue } from '../privacy/vault/personal-fields.js';
import type { SubjectKeyVault } from '../privacy/vault/subject-key-vault.js';

/** Where an imported record's values were sealed (`import-sealing.ts`): customers as traits, order lines as properties. */
export type ImportedSection = 'traits' | 'properties';

/** What a reader without `read:personal` sees instead of a personal value, as in profiles. */
const WITHHELD = '[hidden]';

/**
 * Imported customer records or order lines with their sealed values opened (the record's fields and its `extra`
 * columns alike). A value whose key was shredded reads as null. The email hash the store keeps to find rows is a
 * lookup key, not the person's data, and is left out.
 */
export async function revealImportedRecords(
  rows: readonly Record<string, unknown>[],
  section: ImportedSection,
  vault: SubjectKeyVault | undefined,
): Promise<Record<string, unknown>[]> {
  const revealed: Record<string, unknown>[] = [];
  for (const { email_hash: _lookupKey, extra, ...fields } of rows) {
    const parsed = typeof extra === 'string' ? parseJson(extra) : extra;
    const row = vault ? (await revealValue(fields, vault, section)).value : fields;
    const opened = vault && parsed !== undefined ? (await revealValue(parsed, vault, section)).value : parsed;
    revealed.push(extra === undefined ? row : { ...row, extra: opened });
  }
  return revealed;
}

/** The same records for a reader who may not see personal data: every personal value shows as `[hidden]`. */
export function withholdImportedRecords(
  rows: readonly Record<string, unknown>[],
  section: ImportedSection,
  fields: PersonalFields,
): Record<string, unknown>[] {
  const names = fields[section];
  const hide = (record: Record<string, unknown>) =>
    Object.fromEntries(
      Object.entries(record).map(([key, value]) => [
        key,
        names.has(key) && value !== null && value !== undefined ? WITHHELD : value,
      ]),
    );
  return rows.map(({ email_hash: _lookupKey, extra, ...row }) => {
    const parsed = typeof extra === 'string' ? parseJson(extra) : extra;
    const hidden = hide(row);
    return extra === undefined ? hidden : { ...hidden, extra: isJsonObject(parsed) ? hide(parsed) : parsed };
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

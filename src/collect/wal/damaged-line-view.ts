import type { DamagedLineRow } from '../../store/store.js';

/** How much of a set-aside line a list shows. */
const PREVIEW_CHARS = 300;

/** A set-aside line as the API and CLI show it. */
export interface DamagedLineView extends Omit<DamagedLineRow, 'raw'> {
  /** The line's bytes read as UTF-8 (bytes that are not UTF-8 show as U+FFFD); cut short in a list. */
  readonly text: string;
  readonly truncated: boolean;
  /** The exact bytes, base64; only for a single line. */
  readonly raw?: string;
}

/** A list shows a preview of the text; a single line shows all of it and its exact bytes. */
export function damagedLineView(row: DamagedLineRow, options: { preview: boolean }): DamagedLineView {
  const { raw, ...fields } = row;
  const text = Buffer.from(raw ?? '', 'base64').toString('utf8');
  if (options.preview) {
    if (text.length <= PREVIEW_CHARS) return { ...fields, text, truncated: false };
    // Never cut between the two halves of a surrogate pair.
    const high = text.charCodeAt(PREVIEW_CHARS - 1);
    const end = high >= 0xd800 && high <= 0xdbff ? PREVIEW_CHARS - 1 : PREVIEW_CHARS;
    return { ...fields, text: `${text.slice(0, end)}…`, truncated: true };
  }
  return { ...fields, text, truncated: false, ...(raw === undefined ? {} : { raw }) };
}

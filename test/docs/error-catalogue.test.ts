import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE } from '../../src/core/errors.js';

const ERRORS_DOC = fileURLToPath(new URL('../../docs/errors.md', import.meta.url));

interface DocumentedError {
  readonly code: string;
  readonly status: number;
  readonly meaning: string;
  readonly whatToDo: string;
  readonly line: number;
}

/**
 * Reads every table row of docs/errors.md whose first cell is a code in backticks:
 * `| \`REFINERY_ERR_X\` | 400 | meaning | what to do |`. Cells may hold Markdown but no unescaped `|`.
 */
function documentedErrors(markdown: string): DocumentedError[] {
  const rows: DocumentedError[] = [];
  for (const [index, text] of markdown.split('\n').entries()) {
    if (!/^\|\s*`REFINERY_ERR_/.test(text)) continue;
    const cells = text
      .trim()
      .replace(/^\||\|$/g, '')
      .split(/(?<!\\)\|/)
      .map((cell) => cell.trim());
    const line = index + 1;
    if (cells.length !== 4)
      throw new Error(`docs/errors.md:${line}: expected 4 cells, found ${cells.length}`);
    const [code = '', status = '', meaning = '', whatToDo = ''] = cells;
    rows.push({ code: code.replace(/^`|`$/g, ''), status: Number(status), meaning, whatToDo, line });
  }
  return rows;
}

describe('docs/errors.md', () => {
  const documented = documentedErrors(readFileSync(ERRORS_DOC, 'utf8'));
  const catalogue = ERROR_CATALOGUE as Record<string, { status: number }>;

  it('documents every code in the catalogue', () => {
    const missing = Object.keys(catalogue).filter((code) => !documented.some((row) => row.code === code));
    expect(missing, 'codes in src/core/errors.ts but not in docs/errors.md').toEqual([]);
  });

  it('documents no code the catalogue lacks', () => {
    const unknown = documented.filter((row) => !(row.code in catalogue)).map((row) => row.code);
    expect(unknown, 'codes in docs/errors.md but not in src/core/errors.ts').toEqual([]);
  });

  it('documents each code once', () => {
    const firstLine = new Map<string, number>();
    const repeated: string[] = [];
    for (const row of documented) {
      const first = firstLine.get(row.code);
      if (first === undefined) firstLine.set(row.code, row.line);
      else repeated.push(`${row.code} on lines ${first} and ${row.line}`);
    }
    expect(repeated).toEqual([]);
  });

  it('gives each code the status the catalogue gives it', () => {
    const wrong = documented
      .filter((row) => row.code in catalogue && catalogue[row.code]!.status !== row.status)
      .map((row) => `${row.code}: docs say ${row.status}, catalogue says ${catalogue[row.code]!.status}`);
    expect(wrong).toEqual([]);
  });

  it('says what each code means and what to do about it', () => {
    const empty = documented
      .filter((row) => row.meaning === '' || row.whatToDo === '')
      .map((row) => row.code);
    expect(empty).toEqual([]);
  });
});

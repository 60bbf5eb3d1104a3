import { describe, expect, it } from 'vitest';
import { csvCell, csvDocument, csvLine, readCsvCellText } from './csv-writer.js';

/** Unquotes one RFC 4180 cell as a reader would. */
function unquote(cell: string): string {
  return cell.startsWith('"') ? cell.slice(1, -1).replaceAll('""', '"') : cell;
}

describe('the formula-safe CSV writer', () => {
  it('prefixes a single quote to text that a spreadsheet would run as a formula', () => {
    expect(csvCell('=1+1')).toBe("'=1+1");
    expect(csvCell('+cmd')).toBe("'+cmd");
    expect(csvCell('-2+3')).toBe("'-2+3");
    expect(csvCell('@SUM(1)')).toBe("'@SUM(1)");
    expect(csvCell('\tx')).toBe(`"'\tx"`);
    expect(csvCell('\rx')).toBe(`"'\rx"`);
    expect(csvCell('\nx')).toBe(`"'\nx"`);
    expect(csvCell('\0x')).toBe("'\0x");
    expect(csvCell('=HYPERLINK("http://x")')).toBe(`"'=HYPERLINK(""http://x"")"`);
  });

  it('leaves numbers alone, but guards the same characters in a string', () => {
    expect(csvCell(-5)).toBe('-5');
    expect(csvCell(-1.5e-7)).toBe('-1.5e-7');
    expect(csvCell(-12n)).toBe('-12');
    expect(csvCell('-5')).toBe("'-5");
    expect(csvCell(Number.NEGATIVE_INFINITY)).toBe("'-Infinity");
  });

  it('quotes cells holding a separator, a quote, a line break or outer spaces, and nothing else', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('a;=cmd')).toBe('"a;=cmd"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell(' padded')).toBe('" padded"');
    expect(csvCell(null)).toBe('');
    expect(csvCell(undefined)).toBe('');
    expect(csvCell(true)).toBe('true');
  });

  it('writes objects as JSON and dates as ISO 8601', () => {
    expect(unquote(csvCell({ a: '=x' }))).toBe('{"a":"=x"}');
    expect(csvCell(new Date(Date.UTC(2026, 0, 2)))).toBe('2026-01-02T00:00:00.000Z');
  });

  it('round-trips every text once the guard is read back, including text that starts with quotes', () => {
    for (const text of ['=x', "'=x", "''-1", "'plain", "'", '', '@', 'ok', '-', "it's"]) {
      expect(readCsvCellText(unquote(csvCell(text))), text).toBe(text);
    }
  });

  it('writes a header of every column any row has, CRLF by default', () => {
    expect(csvDocument([{ a: 1 }, { b: '=2' }])).toBe("a,b\r\n1,\r\n,'=2\r\n");
    expect(csvDocument([], { columns: ['x'] })).toBe('x\r\n');
    expect(csvDocument([])).toBe('');
    expect(csvLine(['a', -1], '\n')).toBe('a,-1\n');
  });
});

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateBakery } from './bakery-generator.js';
import {
  CUSTOMER_COLUMNS,
  csvField,
  ORDER_LINE_COLUMNS,
  toCsv,
  writeDemoCsvFiles,
  writeEventsNdjson,
} from './export-files.js';

/** A small RFC 4180 reader, enough to read back what the writer produced. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  return rows;
}

const directories: string[] = [];
afterAll(async () => {
  for (const dir of directories) await rm(dir, { recursive: true, force: true });
});

describe('export-files', () => {
  it('quotes commas, quotes, line breaks and outer spaces, and leaves plain values alone', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\rhere')).toBe('"cr\rhere"');
    expect(csvField(' padded')).toBe('" padded"');
    expect(csvField(null)).toBe('');
    expect(csvField(2.5)).toBe('2.5');
    expect(csvField(false)).toBe('false');
    expect(csvField(['coffee', 'hot'])).toBe('coffee;hot');
  });

  it('round-trips awkward values through toCsv and a CSV reader', () => {
    const rows = [
      { id: '1', text: 'Comté, "aged"\nand nutty', n: 3 },
      { id: '2', text: '', n: 0 },
    ];
    const parsed = parseCsv(toCsv(rows, ['id', 'text', 'n']));
    expect(parsed).toEqual([
      ['id', 'text', 'n'],
      ['1', 'Comté, "aged"\nand nutty', '3'],
      ['2', '', '0'],
    ]);
  });

  it('writes products, customers and order lines that read back to the generated rows', async () => {
    const business = generateBakery({
      seed: 3,
      customers: 60,
      products: 40,
      days: 60,
      end: new Date('2025-12-01'),
    });
    const dir = await mkdtemp(join(tmpdir(), 'refinery-demo-'));
    directories.push(dir);
    const files = await writeDemoCsvFiles(business, join(dir, 'nested'));
    expect(Object.values(files).every((path) => path.startsWith(join(dir, 'nested')))).toBe(true);

    const products = parseCsv(await readFile(files.products, 'utf8'));
    expect(products[0]).toEqual(['product_id', 'name', 'category', 'price', 'currency', 'season', 'tags']);
    expect(products).toHaveLength(business.products.length + 1);
    expect(products[1]![1]).toBe(business.products[0]!.name);

    const customers = parseCsv(await readFile(files.customers, 'utf8'));
    expect(customers[0]).toEqual([...CUSTOMER_COLUMNS]);
    expect(customers).toHaveLength(61);
    const first = business.customers[0]!;
    expect(customers[1]![CUSTOMER_COLUMNS.indexOf('email')]).toBe(first.email);
    expect(customers[1]![CUSTOMER_COLUMNS.indexOf('consent_sale')]).toBe(String(first.consent_sale));

    const lines = parseCsv(await readFile(files.orderLines, 'utf8'));
    expect(lines[0]).toEqual([...ORDER_LINE_COLUMNS]);
    expect(lines).toHaveLength(business.orderLines.length + 1);
    const anonymous = business.orderLines.findIndex((line) => line.customer_id === null);
    expect(lines[anonymous + 1]![ORDER_LINE_COLUMNS.indexOf('customer_id')]).toBe('');
    expect(Number(lines[1]![ORDER_LINE_COLUMNS.indexOf('unit_price')])).toBe(
      business.orderLines[0]!.unit_price,
    );
  });

  it('streams events as NDJSON, one message per line', async () => {
    const business = generateBakery({
      seed: 3,
      customers: 30,
      products: 30,
      days: 20,
      end: new Date('2025-12-01'),
    });
    const dir = await mkdtemp(join(tmpdir(), 'refinery-demo-'));
    directories.push(dir);
    const path = join(dir, 'events.ndjson');
    const written = await writeEventsNdjson(business.events(), path);
    expect(written).toBe(business.summary.events);
    const text = await readFile(path, 'utf8');
    const parsed = text
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { messageId: string });
    expect(parsed).toHaveLength(written);
    expect(parsed[0]).toEqual([...business.events()][0]);
  });
});

import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RefineryError } from '../../core/errors.js';
import { runImport } from '../../imports/run-import.js';
import type { ImportProgress } from '../import-types.js';
import { DuckDbStore } from './duckdb-store.js';

let dir: string;
let store: DuckDbStore;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'refinery-'));
  store = await DuckDbStore.open({ path: join(dir, 'refinery.duckdb') });
  await store.migrate();
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

async function query(sql: string): Promise<Record<string, unknown>[]> {
  return (await store.readOnlyQuery(sql, { timeoutMs: 10_000, maxRows: 10_000 })).rows;
}

async function importError(promise: Promise<unknown>): Promise<RefineryError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RefineryError);
  return error as RefineryError;
}

const ORDERS_CSV = [
  'Order ID,Order Date,Customer,SKU,Description,Qty,Price,Note',
  '1001,2024-03-01 10:00:00,c1,A1,Apple,2,1.50,first',
  '1001,2024-03-01 10:00:00,c1,B2,"Banana, ripe",1,0.25,',
  '1002,2024-03-02T09:30:00Z,c2,A1,Apple,3,1.50,',
  '1003,12/1/2010 8:26,c3,C3,Cherry,1,4,',
  '',
].join('\n');

describe('importing orders from CSV', () => {
  it('auto-maps common column names, computes amounts and keeps unmapped columns in extra', async () => {
    const report = await runImport(store, { file: file('orders.csv', ORDERS_CSV), target: 'orders' });
    expect(report).toMatchObject({
      rowsRead: 4,
      imported: 4,
      rejected: 0,
      skipped: 0,
      replaced: 0,
      format: 'csv',
    });
    expect(report.mapping).toMatchObject({
      order_id: 'Order ID',
      ordered_at: 'Order Date',
      customer_id: 'Customer',
      product_id: 'SKU',
      product_name: 'Description',
      quantity: 'Qty',
      unit_price: 'Price',
    });
    expect(report.unmappedColumns).toEqual(['Note']);
    const rows = await query(
      'SELECT order_id, line_number, ordered_at, product_name, quantity, unit_price, amount, extra FROM orders ORDER BY order_id, line_number',
    );
    expect(rows).toEqual([
      {
        order_id: '1001',
        line_number: 1,
        ordered_at: '2024-03-01T10:00:00.000Z',
        product_name: 'Apple',
        quantity: 2,
        unit_price: 1.5,
        amount: 3,
        extra: '{"Note":"first"}',
      },
      {
        order_id: '1001',
        line_number: 2,
        ordered_at: '2024-03-01T10:00:00.000Z',
        product_name: 'Banana, ripe',
        quantity: 1,
        unit_price: 0.25,
        amount: 0.25,
        extra: null,
      },
      {
        order_id: '1002',
        line_number: 1,
        ordered_at: '2024-03-02T09:30:00.000Z',
        product_name: 'Apple',
        quantity: 3,
        unit_price: 1.5,
        amount: 4.5,
        extra: null,
      },
      {
        order_id: '1003',
        line_number: 1,
        ordered_at: '2010-12-01T08:26:00.000Z',
        product_name: 'Cherry',
        quantity: 1,
        unit_price: 4,
        amount: 4,
        extra: null,
      },
    ]);
    const summary = await query('SELECT order_id, lines, items, total FROM order_summary ORDER BY order_id');
    expect(summary[0]).toEqual({ order_id: '1001', lines: 2, items: 3, total: 3.25 });
  });

  it('a CSV with a bad date and a non-numeric price imports the good rows and reports the bad ones with their line numbers', async () => {
    const csv = [
      'order_id,ordered_at,product_id,quantity,unit_price',
      '1,2024-01-01,A,1,2.00',
      '2,not-a-date,A,1,2.00',
      '3,2024-01-03,A,1,two euros',
      '4,2024-01-04,A,1,2.00',
      ',2024-01-05,A,x,2.00',
    ].join('\n');
    const report = await runImport(store, { file: file('bad.csv', csv), target: 'orders' });
    expect(report).toMatchObject({ rowsRead: 5, imported: 2, rejected: 3 });
    expect(report.sampleRejects.map((r) => [r.line, r.field, r.reason])).toEqual([
      [3, 'ordered_at', 'ordered_at: "not-a-date" is not a date/time'],
      [
        4,
        'unit_price',
        'unit_price: "two euros" is not a number (or has more than 14 digits before the point)',
      ],
      [6, 'order_id', 'order_id: required but empty; quantity: "x" is not a number'],
    ]);
    expect(JSON.parse(report.sampleRejects[0]!.row)).toMatchObject({
      order_id: '2',
      ordered_at: 'not-a-date',
    });
    expect(await store.imports.rejects(report.importId, 10)).toEqual(report.sampleRejects);
    expect(await query('SELECT count(*) AS n FROM import_rejects')).toEqual([{ n: 3 }]);
    expect(await query('SELECT order_id FROM orders ORDER BY order_id')).toEqual([
      { order_id: '1' },
      { order_id: '4' },
    ]);
  });

  it('a malformed CSV line (unterminated quote / extra columns) is reported with its line', async () => {
    const csv = [
      'order_id,ordered_at,product_name',
      '1,2024-01-01,"multi',
      'line name"',
      '2,2024-01-02,Two,surplus',
      '3,2024-01-03,Three',
      '4,2024-01-04',
      '5,2024-01-05,"never closed',
      '6,2024-01-06,Six',
    ].join('\n');
    const report = await runImport(store, { file: file('broken.csv', csv), target: 'orders' });
    const lines = report.sampleRejects.map((r) => [r.line, r.reason.split(':')[0]]);
    expect(lines).toEqual([
      [4, 'not valid CSV'],
      [6, 'not valid CSV'],
      [7, 'not valid CSV'],
    ]);
    expect(report.sampleRejects[0]!.reason).toContain('more fields than the header');
    expect(report.sampleRejects[0]!.row).toBe('2,2024-01-02,Two,surplus');
    expect(report.sampleRejects[2]!.reason).toContain('never closed');
    expect(report).toMatchObject({ imported: 2, rejected: 3, rowsRead: 5 });
    expect(await query('SELECT order_id, product_name FROM orders ORDER BY order_id')).toEqual([
      { order_id: '1', product_name: 'multi\nline name' },
      { order_id: '3', product_name: 'Three' },
    ]);
  });

  it('counts physical lines after a value with line breaks when numbering rejects', async () => {
    const csv = [
      'order_id,ordered_at,product_name',
      '1,2024-01-01,"two',
      'lines"',
      '2,2024-01-02,"three',
      'more',
      'lines"',
      '3,yesterday,Bad',
    ].join('\n');
    const report = await runImport(store, { file: file('multiline.csv', csv), target: 'orders' });
    expect(report.sampleRejects.map((r) => r.line)).toEqual([7]);
  });

  it('keeps line numbers exact in a file large enough for DuckDB to read in parallel', async () => {
    const lines = ['order_id,ordered_at,product_name,quantity'];
    const expected: number[] = [];
    for (let i = 1; lines.length < 300_000; i++) {
      const line = lines.length + 1;
      if (i === 10) {
        lines.push(`${i},2024-01-01,"wrapped`, `name",1`);
      } else if (i % 50_000 === 0) {
        expected.push(line);
        lines.push(`${i},2024-01-01,broken,1,surplus`);
      } else if (i % 70_000 === 0) {
        expected.push(line);
        lines.push(`${i},2024-01-01,bad quantity,lots`);
      } else {
        lines.push(`${i},2024-01-01,item ${i},1`);
      }
    }
    const report = await runImport(store, { file: file('big.csv', lines.join('\n')), target: 'orders' });
    expect(report.sampleRejects.map((r) => r.line)).toEqual(expected);
    expect(report.imported + report.rejected).toBe(report.rowsRead);
    for (const reject of report.sampleRejects) {
      const text = lines[reject.line - 1]!;
      if (reject.reason.startsWith('not valid CSV')) expect(reject.row).toBe(text);
      else expect(JSON.parse(reject.row).order_id).toBe(text.split(',')[0]);
    }
  });

  it('--map renames a column', async () => {
    const csv = ['ref,when,what', 'A-1,2024-01-01,Tea'].join('\n');
    const report = await runImport(store, {
      file: file('renamed.csv', csv),
      target: 'orders',
      map: ['ref=order_id', 'when=ordered_at', 'what=product_name'],
    });
    expect(report.imported).toBe(1);
    expect(await query('SELECT order_id, product_name, extra FROM orders')).toEqual([
      { order_id: 'A-1', product_name: 'Tea', extra: null },
    ]);
  });

  it('an unknown --map column fails with REFINERY_ERR_IMPORT_MAPPING naming it', async () => {
    const path = file('orders.csv', ORDERS_CSV);
    const error = await importError(
      runImport(store, { file: path, target: 'orders', map: ['Nope=order_id'] }),
    );
    expect(error.code).toBe('REFINERY_ERR_IMPORT_MAPPING');
    expect(error.message).toContain('"Nope"');
    const fieldError = await importError(
      runImport(store, { file: path, target: 'orders', map: ['Note=remark'] }),
    );
    expect(fieldError.code).toBe('REFINERY_ERR_IMPORT_MAPPING');
    expect(fieldError.message).toContain('"remark"');
  });

  it('missing required column fails clearly', async () => {
    const error = await importError(
      runImport(store, { file: file('nodate.csv', 'order_id,product\n1,Tea\n'), target: 'orders' }),
    );
    expect(error.code).toBe('REFINERY_ERR_IMPORT_MISSING_COLUMN');
    expect(error.message).toContain('ordered_at');
    expect(error.message).toContain('order_id, product');
  });

  it('re-importing the same file does not duplicate', async () => {
    const path = file('orders.csv', ORDERS_CSV);
    await runImport(store, { file: path, target: 'orders' });
    const again = await runImport(store, { file: path, target: 'orders' });
    expect(again).toMatchObject({ imported: 4, replaced: 4 });
    expect(await query('SELECT count(*) AS n FROM orders')).toEqual([{ n: 4 }]);
    expect(await query('SELECT count(*) AS n FROM imports')).toEqual([{ n: 2 }]);
  });

  it('progress callback reaches fraction 1 with phase done', async () => {
    const seen: ImportProgress[] = [];
    await runImport(store, { file: file('orders.csv', ORDERS_CSV), target: 'orders' }, (p) => seen.push(p));
    expect(seen.at(-1)).toEqual({ phase: 'done', fraction: 1 });
    const fractions = seen.map((p) => p.fraction);
    expect([...fractions].sort((a, b) => a - b)).toEqual(fractions);
    expect(new Set(seen.map((p) => p.phase))).toEqual(new Set(['reading', 'validating', 'writing', 'done']));
  });

  it('reads a semicolon-separated, gzip-compressed export with day-first dotted dates and currency signs', async () => {
    const csv = [
      'Bestellnummer;Order Date;Artikel;Menge;Price',
      '"A;1";24.12.2023 18:05;Stollen;1;€ 12.90',
      '',
    ].join('\n');
    const path = join(dir, 'export.csv.gz');
    writeFileSync(path, gzipSync(csv));
    const report = await runImport(store, { file: path, target: 'orders', map: ['Bestellnummer=order_id'] });
    expect(report).toMatchObject({ imported: 1, rejected: 0, unmappedColumns: ['Artikel', 'Menge'] });
    expect(await query('SELECT order_id, ordered_at, unit_price, amount, extra FROM orders')).toEqual([
      {
        order_id: 'A;1',
        ordered_at: '2023-12-24T18:05:00.000Z',
        unit_price: 12.9,
        amount: 12.9,
        extra: '{"Artikel":"Stollen","Menge":1}',
      },
    ]);
  });

  it('imports nothing from a file with only a header', async () => {
    const report = await runImport(store, {
      file: file('empty.csv', 'order_id,ordered_at\n'),
      target: 'orders',
    });
    expect(report).toMatchObject({ rowsRead: 0, imported: 0, rejected: 0 });
  });

  it('a file that is not what its name says fails with REFINERY_ERR_IMPORT_FORMAT', async () => {
    const error = await importError(
      runImport(store, {
        file: file('fake.parquet', 'order_id,ordered_at\n1,2024-01-01\n'),
        target: 'orders',
      }),
    );
    expect(error.code).toBe('REFINERY_ERR_IMPORT_FORMAT');
    expect(error.message).toContain('fake.parquet');
  });

  it('a file that is not UTF-8 fails with REFINERY_ERR_IMPORT_FORMAT naming the line and how to convert it', async () => {
    const path = join(dir, 'latin1.csv');
    writeFileSync(
      path,
      Buffer.concat([
        Buffer.from('order_id,ordered_at,product_name\n1,2024-01-01,Caf'),
        Buffer.from([0xe9, 0x0a]),
      ]),
    );
    const error = await importError(runImport(store, { file: path, target: 'orders' }));
    expect(error.code).toBe('REFINERY_ERR_IMPORT_FORMAT');
    expect(error.message).toMatch(/not UTF-8 \(CSV Error on Line: 2\).*iconv/);
  });

  it('a missing file fails with REFINERY_ERR_IMPORT_FILE_NOT_FOUND', async () => {
    const error = await importError(runImport(store, { file: join(dir, 'nope.csv'), target: 'orders' }));
    expect(error.code).toBe('REFINERY_ERR_IMPORT_FILE_NOT_FOUND');
  });
});

describe('the same data in other formats', () => {
  const rows = [
    {
      order_id: '1',
      ordered_at: '2024-01-01 10:00:00',
      product_id: 'A',
      quantity: '2',
      unit_price: '1.5',
      note: 'x',
    },
    {
      order_id: '2',
      ordered_at: '2024-01-02 11:00:00',
      product_id: 'B',
      quantity: '1',
      unit_price: '3',
      note: 'y',
    },
  ];
  const header = Object.keys(rows[0]!);

  async function ordersTable(): Promise<Record<string, unknown>[]> {
    return query(
      'SELECT order_id, line_number, ordered_at, product_id, quantity, unit_price, amount, extra FROM orders ORDER BY order_id',
    );
  }

  it('TSV, NDJSON and Parquet import the same data to the same rows', async () => {
    const csv = [header.join(','), ...rows.map((r) => Object.values(r).join(','))].join('\n');
    await runImport(store, { file: file('o.csv', csv), target: 'orders' });
    const expected = await ordersTable();
    expect(expected).toHaveLength(2);

    const tsv = [header.join('\t'), ...rows.map((r) => Object.values(r).join('\t'))].join('\n');
    await runImport(store, { file: file('o.tsv', tsv), target: 'orders' });
    expect(await ordersTable()).toEqual(expected);

    const ndjson = rows
      .map((r) => JSON.stringify({ ...r, quantity: Number(r.quantity), unit_price: Number(r.unit_price) }))
      .join('\n');
    await runImport(store, { file: file('o.ndjson', ndjson), target: 'orders' });
    expect(await ordersTable()).toEqual(expected);

    await runImport(store, { file: file('o.json', JSON.stringify(rows)), target: 'orders' });
    expect(await ordersTable()).toEqual(expected);

    const parquet = join(dir, 'o.parquet');
    const source = join(dir, 'o.csv').replaceAll("'", "''");
    // A typed Parquet file (timestamps and numbers as such, not text), written by DuckDB itself.
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      await connection.run(
        `COPY (SELECT order_id, CAST(ordered_at AS TIMESTAMP) AS ordered_at, product_id,
                 CAST(quantity AS INTEGER) AS quantity, CAST(unit_price AS DOUBLE) AS unit_price, note
               FROM read_csv('${source}', all_varchar = true))
         TO '${parquet.replaceAll("'", "''")}' (FORMAT parquet)`,
      );
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
    expect(existsSync(parquet)).toBe(true);
    const report = await runImport(store, { file: parquet, target: 'orders' });
    expect(report).toMatchObject({ format: 'parquet', imported: 2, rejected: 0 });
    expect(await ordersTable()).toEqual(expected);
  });

  it('reports a line of NDJSON that is not JSON with its line number', async () => {
    const ndjson = [
      JSON.stringify({ order_id: '1', ordered_at: '2024-01-01' }),
      '{"order_id": "2", ',
      JSON.stringify({ order_id: '3', ordered_at: 'soon' }),
      '[1, 2]',
      JSON.stringify({ order_id: '5', ordered_at: '2024-01-05', nested: { a: 1 } }),
    ].join('\n');
    const report = await runImport(store, { file: file('o.jsonl', ndjson), target: 'orders' });
    expect(report.sampleRejects.map((r) => [r.line, r.reason])).toEqual([
      [2, 'not valid JSON'],
      [3, 'ordered_at: "soon" is not a date/time'],
      [4, 'not a JSON object'],
    ]);
    expect(await query("SELECT extra FROM orders WHERE order_id = '5'")).toEqual([
      { extra: '{"nested":{"a":1}}' },
    ]);
  });
});

describe('importing customers, products and events', () => {
  it('imports customers keyed by customer_id and rejects a repeated id with the line of the first', async () => {
    const csv = [
      'CustomerID,E-mail,First Name,Last Name,City,Zip,Loyalty Tier',
      'c1,ann@example.com,Ann,Lee,Oslo,0150,gold',
      'c2,not-an-email,Bo,Ek,Bergen,5003,',
      'c3,,Cy,,Oslo,,silver',
      'c1,ann2@example.com,Ann,Lee,Oslo,0150,gold',
    ].join('\n');
    const report = await runImport(store, { file: file('customers.csv', csv), target: 'customers' });
    expect(report).toMatchObject({ imported: 2, rejected: 2 });
    expect(report.sampleRejects.map((r) => [r.line, r.field, r.reason])).toEqual([
      [3, 'email', 'email: "not-an-email" is not an email address'],
      [5, 'customer_id', 'customer_id "c1" appears again; first on line 2'],
    ]);
    expect(
      await query('SELECT customer_id, email, name, postal_code, extra FROM customers ORDER BY 1'),
    ).toEqual([
      {
        customer_id: 'c1',
        email: 'ann@example.com',
        name: 'Ann Lee',
        postal_code: '0150',
        extra: '{"Loyalty Tier":"gold"}',
      },
      { customer_id: 'c3', email: null, name: 'Cy', postal_code: null, extra: '{"Loyalty Tier":"silver"}' },
    ]);
  });

  it('imports products and replaces them on a second import', async () => {
    const first = file(
      'products.csv',
      'sku,title,vendor,price\nA,Apple,Orchard,1.5\nB,Banana,Plantation,0.25\n',
    );
    await runImport(store, { file: first, target: 'products' });
    const second = file('products2.csv', 'sku,title,vendor,price\nA,Green apple,Orchard,1.75\n');
    const report = await runImport(store, { file: second, target: 'products' });
    expect(report).toMatchObject({ imported: 1, replaced: 1 });
    expect(await query('SELECT product_id, name, brand, price FROM products ORDER BY 1')).toEqual([
      { product_id: 'A', name: 'Green apple', brand: 'Orchard', price: 1.75 },
      { product_id: 'B', name: 'Banana', brand: 'Plantation', price: 0.25 },
    ]);
  });

  it('events import creates rows visible in the events view', async () => {
    const ndjson = [
      {
        userId: 'u1',
        event: 'Order Completed',
        timestamp: '2024-01-01T10:00:00Z',
        revenue: 12.5,
        coupon: '00123',
      },
      {
        anonymousId: 'a1',
        event: 'Signed Up',
        timestamp: '2024-01-02T10:00:00Z',
        properties: { plan: 'pro' },
      },
      { type: 'identify', userId: 'u1', timestamp: '2024-01-03T10:00:00Z', plan: 'pro' },
      { event: 'Nobody', timestamp: '2024-01-04T10:00:00Z' },
      { userId: 'u2', timestamp: '2024-01-05T10:00:00Z' },
    ]
      .map((e) => JSON.stringify(e))
      .join('\n');
    const path = file('events.ndjson', ndjson);
    const report = await runImport(store, { file: path, target: 'events' });
    expect(report).toMatchObject({ rowsRead: 5, imported: 3, rejected: 2, skipped: 0 });
    expect(report.sampleRejects.map((r) => [r.line, r.field])).toEqual([
      [4, 'user_id'],
      [5, 'event'],
    ]);
    const rows = await query(
      'SELECT type, event, user_id, anonymous_id, timestamp, properties, traits, source FROM events ORDER BY timestamp',
    );
    expect(rows).toEqual([
      {
        type: 'track',
        event: 'Order Completed',
        user_id: 'u1',
        anonymous_id: null,
        timestamp: '2024-01-01T10:00:00.000Z',
        properties: '{"revenue":12.5,"coupon":"00123"}',
        traits: null,
        source: 'import:events.ndjson',
      },
      {
        type: 'track',
        event: 'Signed Up',
        user_id: null,
        anonymous_id: 'a1',
        timestamp: '2024-01-02T10:00:00.000Z',
        properties: '{"plan":"pro"}',
        traits: null,
        source: 'import:events.ndjson',
      },
      {
        type: 'identify',
        event: null,
        user_id: 'u1',
        anonymous_id: null,
        timestamp: '2024-01-03T10:00:00.000Z',
        properties: null,
        traits: '{"plan":"pro"}',
        source: 'import:events.ndjson',
      },
    ]);
    const again = await runImport(store, { file: path, target: 'events' });
    expect(again).toMatchObject({ imported: 0, skipped: 3, rejected: 2 });
    expect(await store.events.count()).toBe(3);
  });

  it('lists past imports, newest first, with their mapping', async () => {
    await runImport(store, {
      file: file('p.csv', 'sku,name\nA,Apple\n'),
      target: 'products',
      now: new Date('2024-01-01T00:00:00Z'),
    });
    const history = await store.imports.history(10);
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({
      file: 'p.csv',
      target: 'products',
      format: 'csv',
      rows_read: 1,
      imported: 1,
      rejected: 0,
      started_at: '2024-01-01T00:00:00.000Z',
      mapping: { product_id: 'sku', name: 'name' },
    });
  });
});

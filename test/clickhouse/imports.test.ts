import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planImport } from '../../src/imports/run-import.js';
import { ClickHouseStore } from '../../src/store/clickhouse/clickhouse-store.js';
import { DuckDbStore } from '../../src/store/duckdb/duckdb-store.js';
import type { ImportReport, ImportTarget } from '../../src/store/import-types.js';
import type { Store } from '../../src/store/store.js';
import {
  type ClickHouseCluster,
  type ClickHouseProcess,
  hasClickHouse,
  startClickHouse,
  startClickHouseCluster,
} from '../helpers/clickhouse-server.js';

const QUERY = { timeoutMs: 10_000, maxRows: 10_000 };

const ORDERS = `order_id,line_number,ordered_at,customer_id,email,product_id,quantity,unit_price,amount,currency,coupon
A-1,1,2026-01-05 10:00:00,c1,ann@example.com,p1,2,$9.50,,EUR,WINTER
A-1,2,2026-01-05 10:00:00,c1,ann@example.com,p2,1,120.25,120.25,EUR,
A-1,3,2026-01-05 10:00:00,c1,ann@example.com,p3,3,1.1,,EUR,
B-2,1,01/06/2026 14:30,c2,bob@example.com,p1,,9.5,,EUR,00123
C-3,1,2026-01-07T08:00:00+02:00,c3,not-an-email,p2,1,5,,USD,
D-4,1,yesterday,c4,dan@example.com,p1,1,5,,EUR,
E-5,1,2026-01-08,,,p9,1.5,2.3333,,EUR,
A-1,2,2026-01-05 10:00:00,c1,ann@example.com,p2,1,1,1,EUR,
`;

// A-1 shrinks to one line and changes it; B-2 is untouched; F-6 is new.
const ORDERS_AGAIN = `order_id,line_number,ordered_at,customer_id,email,product_id,quantity,unit_price,amount,currency
A-1,1,2026-01-05 11:00:00,c1,ann@example.com,p1,5,9.5,,EUR
F-6,1,2026-02-01 09:00:00,c6,fay@example.com,p3,1,1.1,,EUR
F-6,2,2026-02-01 09:00:00,c6,fay@example.com,p1,1,9.5,,EUR
`;

const CUSTOMERS = `customer_id,email,first_name,last_name,city,created_at,tier
c1,ann@example.com,Ann,Lee,Berlin,2025-12-01,gold
c2,bob@example.com,Bob,,Paris,1733000000,
c3,,,,Rome,not a date,
c1,ann@other.example,Ann,Other,Oslo,2025-12-02,
`;

const CUSTOMERS_AGAIN = `customer_id,email,city
c2,bob@new.example,Lyon
c5,eve@example.com,Madrid
`;

const PRODUCTS = `product_id,name,category,brand,price,currency
p1,Mug,Kitchen,Acme,$9.50,EUR
p2,Lamp,Home,,120.25,EUR
p3,Pen,,Acme,1.1,EUR
p4,Broken,,Acme,twelve,EUR
`;

const EVENTS = `{"type":"track","event":"Order Completed","user_id":"u1","timestamp":"2026-01-05T10:00:00Z","plan":"pro"}
{"type":"identify","user_id":"u2","timestamp":"2026-01-05T11:00:00Z","plan":"free"}
{"type":"track","user_id":"u3","timestamp":"2026-01-05T12:00:00Z"}
{"type":"page","anonymous_id":"a1","name":"Home","timestamp":"2026-01-06T10:00:00Z","message_id":"m-page"}
not json
`;

const COMPARED = [
  'SELECT * FROM orders ORDER BY order_id, line_number',
  'SELECT * FROM order_summary ORDER BY order_id',
  'SELECT * FROM customers ORDER BY customer_id',
  'SELECT * FROM products ORDER BY product_id',
  'SELECT * FROM import_rejects ORDER BY import_id, line',
  'SELECT import_id, file, target, format, source, started_at, rows_read, imported, rejected, skipped, replaced, mapping FROM imports ORDER BY import_id',
  `SELECT message_id, type, event, name, user_id, anonymous_id, timestamp, received_at, properties, traits, source
   FROM events ORDER BY message_id`,
];

/** Both engines import the same files with the same specs, one after another; every answer must match. */
async function importIntoBoth(duck: Store, clickHouse: Store, dir: string) {
  let second = 0;
  const run = async (target: ImportTarget, name: string, text: string) => {
    const file = join(dir, name);
    writeFileSync(file, text);
    // Whole seconds: ClickHouse keeps DateTime at second precision, and imported_at is the start time.
    const now = new Date(Date.UTC(2026, 2, 1, 12, 0, second++));
    const { spec } = await planImport(duck, { file, target, now });
    const reports: [ImportReport, ImportReport] = [
      await duck.imports.run(spec),
      await clickHouse.imports.run(spec),
    ];
    return reports;
  };
  const reports = [
    await run('orders', 'orders.csv', ORDERS),
    await run('customers', 'customers.csv', CUSTOMERS),
    await run('products', 'products.csv', PRODUCTS),
    await run('events', 'events.ndjson', EVENTS),
    await run('events', 'events-again.ndjson', EVENTS),
  ];
  return { reports, run };
}

async function expectSameAnswers(duck: Store, clickHouse: Store) {
  for (const sql of COMPARED) {
    const [a, b] = [await duck.readOnlyQuery(sql, QUERY), await clickHouse.readOnlyQuery(sql, QUERY)];
    expect(
      b.columns.map((c) => c.name),
      sql,
    ).toEqual(a.columns.map((c) => c.name));
    expect(b.rows, sql).toEqual(a.rows);
  }
}

function describeImports(layout: string, clickHouseUrl: () => string) {
  describe(`file imports into ClickHouse match DuckDB's (${layout})`, () => {
    let duck: Store;
    let clickHouse: Store;
    let dir: string;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'refinery-ch-imports-'));
      duck = await DuckDbStore.open({ path: ':memory:' });
      await duck.migrate();
      clickHouse = await ClickHouseStore.open({ url: clickHouseUrl() });
      await clickHouse.migrate();
    });
    afterAll(async () => {
      await clickHouse?.close();
      await duck?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('reads, validates and rejects exactly as DuckDB does, and re-imports replace', async () => {
      const { reports, run } = await importIntoBoth(duck, clickHouse, dir);
      for (const [a, b] of reports) {
        expect(b).toEqual(a);
      }
      const [orders, customers, products, events, eventsAgain] = reports.map(([a]) => a);
      expect(orders).toMatchObject({ rowsRead: 8, imported: 5, rejected: 3 });
      expect(customers).toMatchObject({ rowsRead: 4, imported: 2, rejected: 2 });
      expect(products).toMatchObject({ rowsRead: 4, imported: 3, rejected: 1 });
      expect(events).toMatchObject({ rowsRead: 5, imported: 3, rejected: 2, skipped: 0 });
      expect(eventsAgain).toMatchObject({ imported: 0, rejected: 2, skipped: 3 });
      await expectSameAnswers(duck, clickHouse);

      const [ordersAgain, ordersAgainOnClickHouse] = await run('orders', 'orders-2.csv', ORDERS_AGAIN);
      expect(ordersAgainOnClickHouse).toEqual(ordersAgain);
      expect(ordersAgain).toMatchObject({ imported: 3, replaced: 3, rejected: 0 });
      const [customersAgain, customersAgainOnClickHouse] = await run(
        'customers',
        'customers-2.csv',
        CUSTOMERS_AGAIN,
      );
      expect(customersAgainOnClickHouse).toEqual(customersAgain);
      expect(customersAgain).toMatchObject({ imported: 2, replaced: 1 });
      await expectSameAnswers(duck, clickHouse);

      const shrunk = await clickHouse.readOnlyQuery(
        "SELECT line_number, quantity, amount FROM orders WHERE order_id = 'A-1' ORDER BY line_number",
        QUERY,
      );
      expect(shrunk.rows).toEqual([{ line_number: 1, quantity: 5, amount: 47.5 }]);
      const summary = await clickHouse.readOnlyQuery(
        'SELECT order_id, lines, total FROM order_summary ORDER BY order_id',
        QUERY,
      );
      expect(summary.rows).toEqual([
        { order_id: 'A-1', lines: 1, total: 47.5 },
        { order_id: 'B-2', lines: 1, total: 9.5 },
        { order_id: 'E-5', lines: 1, total: 3.5 },
        { order_id: 'F-6', lines: 2, total: 10.6 },
      ]);
    });

    it('lists rejects and history, and reads a file header through DuckDB', async () => {
      const history = await clickHouse.imports.history(100);
      expect(history.map((h) => h.import_id)).toEqual(
        (await duck.imports.history(100)).map((h) => h.import_id),
      );
      expect(history[0]?.mapping).toEqual(expect.any(Object));
      const ordersImport = history.find((h) => h.file === 'orders.csv')!;
      expect(await clickHouse.imports.rejects(String(ordersImport.import_id), 10)).toEqual(
        await duck.imports.rejects(String(ordersImport.import_id), 10),
      );
      expect(await clickHouse.imports.columnsOf(join(dir, 'products.csv'), 'csv')).toEqual([
        'product_id',
        'name',
        'category',
        'brand',
        'price',
        'currency',
      ]);
    });
  });
}

if (hasClickHouse) {
  let server: ClickHouseProcess | undefined;
  let cluster: ClickHouseCluster | undefined;
  beforeAll(async () => {
    [server, cluster] = await Promise.all([
      startClickHouse(),
      startClickHouseCluster(2, { clusterName: 'refinery' }),
    ]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([server?.stop(), cluster?.stop()]);
  });

  describeImports('one node', () => `clickhouse://127.0.0.1:${server!.httpPort}/imports`);
  describeImports('two shards', () => {
    const [first, second] = cluster!.nodes;
    const nodes = [first!, second!].map((node) => node.httpUrl.replace('http://', '')).join(',');
    return `clickhouse://127.0.0.1:${first!.httpPort}/imports?cluster=refinery&nodes=${nodes}`;
  });
} else {
  describe.skip('file imports into ClickHouse (skipped: clickhouse-server is not installed; bash .ci/run installs it)', () => {
    it('imports files into ClickHouse as DuckDB does', () => undefined);
  });
}

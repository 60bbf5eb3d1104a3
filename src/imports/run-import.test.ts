import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbStore } from '../store/duckdb/duckdb-store.js';
import type { ImportProgress } from '../store/import-types.js';
import { newImportId, runImport } from './run-import.js';

const ONLINE_RETAIL = join(
  import.meta.dirname,
  '../../../shared/datasets/online-retail/online_retail.csv.gz',
);

describe('import ids', () => {
  it('sort by the time the import started', () => {
    const earlier = newImportId(new Date('2024-01-01T10:00:00Z'));
    const later = newImportId(new Date('2024-01-01T10:00:01Z'));
    expect(earlier).toMatch(/^imp_20240101T100000_[0-9a-f]{6}$/);
    expect(earlier < later).toBe(true);
  });
});

describe.skipIf(!existsSync(ONLINE_RETAIL))(
  `importing UCI Online Retail as orders (skipped when ${ONLINE_RETAIL} is absent)`,
  () => {
    let dir: string;
    let store: DuckDbStore;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'refinery-'));
      store = await DuckDbStore.open({ path: join(dir, 'refinery.duckdb') });
      await store.migrate();
    });

    afterAll(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('imports all 541,909 lines with no --map and matches the figures in SOURCE.md', async () => {
      const seen: ImportProgress[] = [];
      const started = Date.now();
      const report = await runImport(store, { file: ONLINE_RETAIL, target: 'orders' }, (p) => seen.push(p));
      const seconds = (Date.now() - started) / 1000;
      console.log(
        `UCI Online Retail: ${report.rowsRead} rows read, ${report.imported} imported, ${report.rejected} rejected in ${seconds.toFixed(1)} s`,
      );
      expect(report.mapping).toEqual({
        order_id: 'InvoiceNo',
        ordered_at: 'InvoiceDate',
        customer_id: 'CustomerID',
        product_id: 'StockCode',
        product_name: 'Description',
        quantity: 'Quantity',
        unit_price: 'UnitPrice',
        country: 'Country',
      });
      expect(report.rowsRead).toBe(541_909);
      expect(report.imported + report.rejected + report.skipped).toBe(report.rowsRead);
      expect(report.rejected).toBe(0);
      expect(seen.at(-1)).toEqual({ phase: 'done', fraction: 1 });

      const query = async (sql: string) =>
        (await store.readOnlyQuery(sql, { timeoutMs: 60_000, maxRows: 100 })).rows[0];
      // Figures published in SOURCE.md.
      expect(
        await query(`SELECT count(*) AS lines, count(DISTINCT order_id) AS invoices,
                            count(*) FILTER (WHERE customer_id IS NULL) AS without_customer,
                            count(DISTINCT country) AS countries,
                            count(*) FILTER (WHERE order_id LIKE 'C%') AS cancellation_lines,
                            sum(quantity) AS quantity, round(sum(amount), 2) AS revenue,
                            min(ordered_at) AS first, max(ordered_at) AS last
                     FROM orders`),
      ).toEqual({
        lines: 541_909,
        invoices: 25_900,
        without_customer: 135_080,
        countries: 38,
        cancellation_lines: 9_288,
        quantity: 5_176_450,
        revenue: 9_747_747.93,
        first: '2010-12-01T08:26:00.000Z',
        last: '2011-12-09T12:50:00.000Z',
      });
      expect(await query('SELECT count(*) AS orders FROM order_summary')).toEqual({ orders: 25_900 });
    });
  },
);

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readContract } from '../contracts/contract-model.js';
import { ContractSet } from '../contracts/contract-set.js';
import { parseOdcsText } from '../contracts/odcs-source.js';
import { DuckDbStore } from '../store/duckdb/duckdb-store.js';
import { runImport } from './run-import.js';

let dir: string;
let store: DuckDbStore;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'refinery-import-contracts-'));
  store = await DuckDbStore.open({ path: join(dir, 'refinery.duckdb') });
  await store.migrate();
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function ordersContract(mode: string): ContractSet {
  const text = `apiVersion: v3.1.0
kind: DataContract
id: pos-orders
version: 1.0.0
status: active
customProperties:
  - property: refinery.mode
    value: ${mode}
schema:
  - name: orders
    physicalType: table
    properties:
      - name: quantity
        logicalType: number
        logicalTypeOptions:
          minimum: 1
      - name: currency
        logicalType: string
        quality:
          - metric: invalidValues
            arguments:
              validValues: [EUR, CHF]
            mustBe: 0
`;
  return new ContractSet([readContract(parseOdcsText(text, 'pos.odcs.yaml'))], 'allow');
}

const CSV = [
  'order_id,ordered_at,product_id,quantity,unit_price,currency',
  '1,2024-03-01 10:00:00,A,2,1.50,EUR',
  '2,2024-03-01 11:00:00,B,0,1.50,EUR',
  '3,2024-03-01 12:00:00,C,1,1.50,USD',
  '4,2024-03-01 13:00:00,D,1,1.50,CHF',
  '',
].join('\n');

describe('dataset contracts at import', () => {
  it('refuses the rows an enforced contract forbids, with line, field and reason, and imports the rest', async () => {
    const file = join(dir, 'orders.csv');
    writeFileSync(file, CSV);
    const report = await runImport(store, { file, target: 'orders', contracts: ordersContract('enforce') });
    expect(report).toMatchObject({ rowsRead: 4, imported: 2, rejected: 2 });
    expect(report.sampleRejects.map((r) => [r.line, r.field])).toEqual([
      [3, 'quantity'],
      [4, 'currency'],
    ]);
    expect(report.sampleRejects[0]!.reason).toContain('contract pos-orders: quantity must be >= 1');
    const stored = await store.readOnlyQuery('SELECT order_id FROM orders ORDER BY order_id', {
      timeoutMs: 10_000,
      maxRows: 100,
    });
    expect(stored.rows.map((r) => r.order_id)).toEqual(['1', '4']);
  });

  it('checks columns no field claims too (kept in extra)', async () => {
    const text = `apiVersion: v3.1.0
kind: DataContract
id: pos-orders
version: 1.0.0
status: active
schema:
  - name: orders
    physicalType: table
    properties:
      - name: till
        logicalType: string
        required: true
`;
    const contracts = new ContractSet([readContract(parseOdcsText(text, 'pos.odcs.yaml'))], 'allow');
    const file = join(dir, 'tills.csv');
    writeFileSync(
      file,
      'order_id,ordered_at,product_id,till\n1,2024-03-01 10:00:00,A,T1\n2,2024-03-01 11:00:00,B,\n',
    );
    const report = await runImport(store, { file, target: 'orders', contracts });
    expect(report).toMatchObject({ imported: 1, rejected: 1 });
    expect(report.sampleRejects[0]).toMatchObject({ line: 3, field: 'till' });
  });

  it('holds imported events to the event contracts, as collected ones', async () => {
    const text = `apiVersion: v3.1.0
kind: DataContract
id: shop-events
version: 1.0.0
status: active
schema:
  - name: product_viewed
    physicalType: track
    physicalName: Product Viewed
    properties:
      - name: price
        logicalType: number
        required: true
        logicalTypeOptions:
          minimum: 0
`;
    const contracts = new ContractSet([readContract(parseOdcsText(text, 'shop.odcs.yaml'))], 'allow');
    const file = join(dir, 'history.csv');
    writeFileSync(
      file,
      [
        'timestamp,event,user_id,price',
        '2024-03-01 10:00:00,Product Viewed,u1,2.5',
        '2024-03-01 10:01:00,Product Viewed,u1,-1',
        '2024-03-01 10:02:00,Other Event,u1,',
        '',
      ].join('\n'),
    );
    const report = await runImport(store, { file, target: 'events', contracts });
    expect(report).toMatchObject({ imported: 2, rejected: 1 });
    expect(report.sampleRejects[0]).toMatchObject({ line: 3, field: 'properties.price' });
    expect(report.sampleRejects[0]!.reason).toContain('contract shop-events: properties.price must be >= 0');
  });

  it('imports everything when the contract only warns', async () => {
    const file = join(dir, 'orders.csv');
    writeFileSync(file, CSV);
    const report = await runImport(store, { file, target: 'orders', contracts: ordersContract('warn') });
    expect(report).toMatchObject({ imported: 4, rejected: 0 });
  });
});

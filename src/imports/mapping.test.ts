import { describe, expect, it } from 'vitest';
import { RefineryError } from '../core/errors.js';
import { formatFromFileName, parseImportFormat, resolveFormat } from './formats.js';
import { parseMapOptions, resolveMapping } from './mapping.js';
import { normaliseColumnName, TARGETS } from './targets.js';

function thrown(work: () => unknown): RefineryError {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(RefineryError);
    return error as RefineryError;
  }
  throw new Error('expected an error');
}

describe('column names', () => {
  it('ignores case, spaces, underscores and punctuation', () => {
    expect(normaliseColumnName('Order ID')).toBe('orderid');
    expect(normaliseColumnName('order_id')).toBe('orderid');
    expect(normaliseColumnName('ORDER-ID')).toBe('orderid');
    expect(normaliseColumnName('E-mail')).toBe('email');
  });

  it('every target has unique field names and at least one required field or group', () => {
    for (const definition of Object.values(TARGETS)) {
      const names = definition.fields.map((f) => f.name);
      expect(new Set(names).size).toBe(names.length);
      expect(definition.fields.some((f) => f.required) || definition.requireOneOf.length > 0).toBe(true);
    }
  });
});

describe('automatic mapping', () => {
  it('maps the UCI Online Retail columns to order fields without --map', () => {
    const columns = [
      'InvoiceNo',
      'StockCode',
      'Description',
      'Quantity',
      'InvoiceDate',
      'UnitPrice',
      'CustomerID',
      'Country',
    ];
    const { mapping, unmappedColumns } = resolveMapping('orders', columns);
    expect(mapping).toEqual({
      order_id: 'InvoiceNo',
      ordered_at: 'InvoiceDate',
      customer_id: 'CustomerID',
      product_id: 'StockCode',
      product_name: 'Description',
      quantity: 'Quantity',
      unit_price: 'UnitPrice',
      country: 'Country',
    });
    expect(unmappedColumns).toEqual([]);
  });

  it('maps a one-row-per-order export whose only money column is a total to amount', () => {
    const { mapping, unmappedColumns } = resolveMapping('orders', [
      'Order Number',
      'Created At',
      'Customer Email',
      'Total',
      'Currency',
      'Notes',
    ]);
    expect(mapping).toEqual({
      order_id: 'Order Number',
      ordered_at: 'Created At',
      email: 'Customer Email',
      amount: 'Total',
      currency: 'Currency',
    });
    expect(unmappedColumns).toEqual(['Notes']);
  });

  it('prefers a column named exactly like the field over one matching an alias', () => {
    const { mapping } = resolveMapping('orders', ['date', 'ordered_at', 'order']);
    expect(mapping.ordered_at).toBe('ordered_at');
    expect(mapping.order_id).toBe('order');
  });

  it('lets --map override an automatic match and leaves the displaced column unmapped', () => {
    const { mapping, unmappedColumns } = resolveMapping(
      'orders',
      ['Invoice', 'Ref', 'Date'],
      parseMapOptions(['Ref=order_id']),
    );
    expect(mapping).toEqual({ order_id: 'Ref', ordered_at: 'Date' });
    expect(unmappedColumns).toEqual(['Invoice']);
  });

  it('accepts a --map column written with different case or spacing when only one column matches', () => {
    const { mapping } = resolveMapping('products', ['Item Ref'], parseMapOptions(['item_ref=product_id']));
    expect(mapping).toEqual({ product_id: 'Item Ref' });
  });

  it('maps event columns in Segment spelling', () => {
    const { mapping } = resolveMapping('events', [
      'messageId',
      'type',
      'event',
      'userId',
      'anonymousId',
      'timestamp',
      'properties',
    ]);
    expect(mapping).toEqual({
      message_id: 'messageId',
      type: 'type',
      event: 'event',
      user_id: 'userId',
      anonymous_id: 'anonymousId',
      timestamp: 'timestamp',
      properties: 'properties',
    });
  });
});

describe('mapping errors', () => {
  it('an unknown --map column fails with REFINERY_ERR_IMPORT_MAPPING naming it and listing the columns', () => {
    const error = thrown(() => resolveMapping('orders', ['id', 'date'], parseMapOptions(['Ref=order_id'])));
    expect(error.code).toBe('REFINERY_ERR_IMPORT_MAPPING');
    expect(error.message).toContain('no column "Ref"');
    expect(error.message).toContain('id, date');
  });

  it('an unknown --map field fails with REFINERY_ERR_IMPORT_MAPPING naming it', () => {
    const error = thrown(() => resolveMapping('orders', ['id', 'date'], parseMapOptions(['id=invoice'])));
    expect(error.code).toBe('REFINERY_ERR_IMPORT_MAPPING');
    expect(error.message).toContain('no field "invoice"');
  });

  it('a --map without an equals sign fails with REFINERY_ERR_IMPORT_MAPPING', () => {
    expect(thrown(() => parseMapOptions(['order_id'])).code).toBe('REFINERY_ERR_IMPORT_MAPPING');
  });

  it('a column sent to two fields fails with REFINERY_ERR_IMPORT_MAPPING', () => {
    const error = thrown(() =>
      resolveMapping('orders', ['id', 'date'], parseMapOptions(['id=order_id', 'id=product_id'])),
    );
    expect(error.code).toBe('REFINERY_ERR_IMPORT_MAPPING');
  });

  it('a missing required column fails with REFINERY_ERR_IMPORT_MISSING_COLUMN listing the file columns', () => {
    const error = thrown(() => resolveMapping('orders', ['Ref', 'Product']));
    expect(error.code).toBe('REFINERY_ERR_IMPORT_MISSING_COLUMN');
    expect(error.message).toContain('order_id, ordered_at');
    expect(error.message).toContain('(Ref, Product)');
    expect(error.details.missing).toEqual(['order_id', 'ordered_at']);
  });

  it('events without a user or anonymous id column fail with REFINERY_ERR_IMPORT_MISSING_COLUMN', () => {
    const error = thrown(() => resolveMapping('events', ['event', 'timestamp']));
    expect(error.code).toBe('REFINERY_ERR_IMPORT_MISSING_COLUMN');
    expect(error.message).toContain('user_id or anonymous_id');
  });
});

describe('formats', () => {
  it('tells the format from the extension, through a compression suffix', () => {
    expect(formatFromFileName('orders.csv')).toBe('csv');
    expect(formatFromFileName('online_retail.csv.gz')).toBe('csv');
    expect(formatFromFileName('export.TSV')).toBe('tsv');
    expect(formatFromFileName('events.jsonl')).toBe('ndjson');
    expect(formatFromFileName('events.ndjson.zst')).toBe('ndjson');
    expect(formatFromFileName('rows.json')).toBe('json');
    expect(formatFromFileName('table.parquet')).toBe('parquet');
    expect(formatFromFileName('notes.txt')).toBeUndefined();
  });

  it('an unrecognisable file name without --format fails with REFINERY_ERR_IMPORT_FORMAT', () => {
    expect(thrown(() => resolveFormat('upload.bin')).code).toBe('REFINERY_ERR_IMPORT_FORMAT');
    expect(resolveFormat('upload.bin', 'csv')).toBe('csv');
  });

  it('accepts jsonl as a name for ndjson and refuses unknown formats', () => {
    expect(parseImportFormat('JSONL')).toBe('ndjson');
    expect(thrown(() => parseImportFormat('xlsx')).code).toBe('REFINERY_ERR_IMPORT_FORMAT');
  });
});

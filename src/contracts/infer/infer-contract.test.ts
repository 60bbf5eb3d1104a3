import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readContract } from '../contract-model.js';
import { parseOdcsText } from '../odcs-source.js';
import { compileRecordValidator } from '../record-validator.js';
import {
  type InferredField,
  type InferredObject,
  inferSchemaObject,
  renderInferredContract,
  snakeCase,
} from './infer-contract.js';

/** The parts of a rendered property these tests read. */
interface PropertyYaml {
  readonly name: string;
  readonly logicalTypeOptions?: unknown;
  readonly quality?: unknown;
  readonly properties: PropertyYaml[];
  readonly items: { properties: PropertyYaml[] };
}

const STATUSES = ['paid', 'pending', 'refunded'];

/** 40 orders built from their index, so every run sees the same data. */
function orders(count = 40): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, index) => ({
    order_id: `ord-${1000 + index}`,
    total: index % 2 === 0 ? index * 3 : index * 3 + 0.5,
    quantity: (index % 4) + 1,
    delta: index - 10,
    paid: index % 3 !== 0,
    status: STATUSES[index % STATUSES.length],
    coupon: index % 5 === 0 ? `SPRING${index}` : undefined,
    note: index % 7 === 0 ? null : `note ${index}`,
    delivery_date: `2025-03-${String((index % 28) + 1).padStart(2, '0')}`,
    ordered_at: `2025-03-01T10:${String(index % 60).padStart(2, '0')}:00.000Z`,
    email: `buyer${index}@example.com`,
    cart_id: `8c0f6f3e-3c1a-4b1e-9d7a-${String(100000000000 + index)}`,
    address: {
      city: index % 2 ? 'Lyon' : 'Paris',
      zip: `${69000 + index}`,
      ...(index % 4 ? { floor: index % 4 } : {}),
    },
    products: [
      { sku: `sku-${index}`, price: 2.5 },
      { sku: `sku-${index + 1}`, price: 4 },
    ],
    tags: ['web'],
    mixed: index % 2 ? 'many' : 3,
  }));
}

function field(object: InferredObject | InferredField, name: string): InferredField {
  const found = object.properties?.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`no field ${name}`);
  return found;
}

const inferOrders = (samples = orders()) =>
  inferSchemaObject(samples, {
    physicalType: 'track',
    physicalName: 'Order Completed',
    receivedAt: samples.map(
      (_, index) => `2025-03-${String((index % 9) + 1).padStart(2, '0')}T08:00:00.000Z`,
    ),
  });

describe('inferSchemaObject', () => {
  it('infers strings, integers, numbers, booleans, objects and arrays', () => {
    const object = inferOrders();
    expect(object).toMatchObject({
      name: 'order_completed',
      physicalType: 'track',
      physicalName: 'Order Completed',
      sampleCount: 40,
      firstSeen: '2025-03-01T08:00:00.000Z',
      lastSeen: '2025-03-09T08:00:00.000Z',
    });
    expect(field(object, 'order_id').logicalType).toBe('string');
    expect(field(object, 'quantity').logicalType).toBe('integer');
    expect(field(object, 'paid').logicalType).toBe('boolean');
    expect(field(object, 'address').logicalType).toBe('object');
    expect(field(object, 'products').logicalType).toBe('array');
    expect(field(object, 'tags').items).toMatchObject({ logicalType: 'string' });
  });

  it('calls a field with integers and fractions a number, and gives a field of mixed kinds no type', () => {
    const object = inferOrders();
    expect(field(object, 'total').logicalType).toBe('number');
    expect(field(object, 'mixed')).toMatchObject({ logicalType: null, kindsSeen: ['integer', 'string'] });
  });

  it('calls a field of sealed personal values a personal string, and renders it classified', () => {
    const sealed = inferSchemaObject(
      [
        { email: `rfy1:AAAAAAAAAAAAAAAAAAAAAA:${'x'.repeat(60)}`, plan: 'pro' },
        { email: `rfy1:BBBBBBBBBBBBBBBBBBBBBB:${'y'.repeat(60)}`, plan: 'basic' },
      ],
      { physicalType: 'identify', physicalName: null },
    );
    expect(field(sealed, 'email')).toMatchObject({ logicalType: 'string', sealed: true });
    expect(field(sealed, 'email').format).toBeUndefined();
    expect(field(sealed, 'plan').sealed).toBeUndefined();
    const yaml = renderInferredContract(sealed);
    expect(yaml).toMatch(/name: email\n(?:.*\n)*?\s+classification: PII/);
  });

  it('marks a field required only when every sample has a non-null value', () => {
    const object = inferOrders();
    expect(field(object, 'order_id')).toMatchObject({ required: true, present: 40, total: 40 });
    expect(field(object, 'coupon')).toMatchObject({ required: false, present: 8 });
    expect(field(object, 'note')).toMatchObject({ required: false, present: 34 });
  });

  it('recognises ISO dates and timestamps, emails and uuids', () => {
    const object = inferOrders();
    expect(field(object, 'delivery_date').logicalType).toBe('date');
    expect(field(object, 'ordered_at').logicalType).toBe('timestamp');
    expect(field(object, 'email')).toMatchObject({ logicalType: 'string', format: 'email' });
    expect(field(object, 'cart_id')).toMatchObject({ logicalType: 'string', format: 'uuid' });
    const mixed = inferSchemaObject(
      [{ at: '2025-03-01' }, { at: '2025-03-01T10:00:00Z' }, { at: '2025-02-30' }],
      {
        physicalType: 'track',
        physicalName: 'X',
      },
    );
    expect(field(mixed, 'at').logicalType).toBe('string');
  });

  it('turns a repeated handful of strings into valid values, but not free text or small samples', () => {
    const object = inferOrders();
    expect(field(object, 'status').validValues).toEqual(['paid', 'pending', 'refunded']);
    expect(field(object, 'order_id').validValues).toBeUndefined();
    // Each value seen once is no value set.
    expect(field(object, 'coupon').validValues).toBeUndefined();
    expect(field(inferOrders(orders(12)), 'status').validValues).toBeUndefined();
  });

  it('suggests a minimum of 0 only when no negative number was seen', () => {
    const object = inferOrders();
    expect(field(object, 'quantity').minimum).toBe(0);
    expect(field(object, 'delta').minimum).toBeUndefined();
  });

  it('infers the fields of nested objects and of array elements', () => {
    const object = inferOrders();
    const address = field(object, 'address');
    expect(field(address, 'city')).toMatchObject({ logicalType: 'string', required: true });
    expect(field(address, 'floor')).toMatchObject({ logicalType: 'integer', required: false, present: 30 });
    const products = field(object, 'products').items!;
    expect(products.logicalType).toBe('object');
    expect(field(products, 'sku')).toMatchObject({ logicalType: 'string', required: true, total: 80 });
    expect(field(products, 'price').logicalType).toBe('number');
  });

  it('names the object after the event in snake_case', () => {
    expect(snakeCase('Order Completed')).toBe('order_completed');
    expect(snakeCase('checkoutStarted')).toBe('checkout_started');
    expect(snakeCase('  Sign-up: step 2 ')).toBe('sign_up_step_2');
    expect(inferSchemaObject([], { physicalType: 'identify', physicalName: null }).name).toBe('identify');
    expect(inferSchemaObject([], { physicalType: 'page', physicalName: 'Pricing' }).name).toBe(
      'page_pricing',
    );
  });
});

describe('renderInferredContract', () => {
  it('writes a draft ODCS v3.1.0 contract in warn mode that accepts the events it came from', () => {
    const samples = orders();
    const text = renderInferredContract(inferOrders(samples));
    const document = parse(text) as { description: { purpose: string } };
    expect(document).toMatchObject({
      apiVersion: 'v3.1.0',
      kind: 'DataContract',
      id: 'order_completed',
      version: '0.1.0',
      status: 'draft',
      customProperties: [{ property: 'refinery.mode', value: 'warn' }],
      schema: [{ name: 'order_completed', physicalType: 'track', physicalName: 'Order Completed' }],
    });
    expect(document.description.purpose).toBe(
      'Inferred from 40 "Order Completed" track events received between 2025-03-01 and 2025-03-09.',
    );

    const contract = readContract(parseOdcsText(text, 'inferred.yaml'));
    expect(contract.mode).toBe('warn');
    const validate = compileRecordValidator(contract.objects[0]!.properties, 'properties');
    for (const sample of samples) expect(validate(JSON.parse(JSON.stringify(sample)))).toEqual([]);
    expect(validate({ ...samples[0], status: 'lost' })).toEqual([
      expect.objectContaining({ path: 'properties.status', rule: 'validValues' }),
    ]);
  });

  it('writes types, options, value sets and nesting in ODCS terms', () => {
    const document = parse(renderInferredContract(inferOrders())) as {
      schema: { properties: PropertyYaml[] }[];
    };
    const property = (name: string) => document.schema[0]!.properties.find((p) => p.name === name)!;
    expect(property('quantity')).toEqual({
      name: 'quantity',
      logicalType: 'integer',
      logicalTypeOptions: { minimum: 0 },
      required: true,
    });
    expect(property('email').logicalTypeOptions).toEqual({ format: 'email' });
    expect(property('status').quality).toEqual([
      expect.objectContaining({
        metric: 'invalidValues',
        arguments: { validValues: ['paid', 'pending', 'refunded'] },
        mustBe: 0,
      }),
    ]);
    expect(property('mixed')).toEqual({ name: 'mixed', required: true });
    expect(property('address').properties.map((p) => p.name)).toEqual(['city', 'zip', 'floor']);
    expect(property('products').items.properties[0]).toMatchObject({ name: 'sku', logicalType: 'string' });
  });

  it('tells reviewers how often each field was present', () => {
    const text = renderInferredContract(inferOrders());
    expect(text).toMatch(/^# Drafted by `refinery contract infer` from 40 events\./m);
    expect(text).toMatch(/required: false # present in 8 of 40 events \(20%\)/);
    expect(text).toMatch(/required: true # present in 40 of 40 events \(100%\)/);
    expect(text).toMatch(/name: mixed # no logicalType: values were integer and string/);
    expect(text).toMatch(/required: false # present in 30 of 40 address objects \(75%\)/);
  });
});

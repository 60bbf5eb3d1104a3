import { describe, expect, it } from 'vitest';
import { readContract } from './contract-model.js';
import { parseOdcsText } from './odcs-source.js';
import { compileRecordValidator } from './record-validator.js';

function validatorFor(properties: string) {
  const text = `apiVersion: v3.1.0
kind: DataContract
id: t
version: 1.0.0
status: active
schema:
  - name: t
    properties:
${properties}`;
  const contract = readContract(parseOdcsText(text, 't.yaml'));
  return compileRecordValidator(contract.objects[0]!.properties, 'properties');
}

const rulesOf = (violations: { path: string; rule: string }[]) =>
  violations.map((v) => `${v.path}:${v.rule}`);

describe('compileRecordValidator', () => {
  it('checks logical types, and lets optional fields be null or absent', () => {
    const validate = validatorFor(`      - name: n
        logicalType: integer
      - name: s
        logicalType: string
      - name: b
        logicalType: boolean`);
    expect(validate({})).toEqual([]);
    expect(validate({ n: null, s: null, b: null })).toEqual([]);
    expect(rulesOf(validate({ n: 1.5, s: 3, b: 'yes' }))).toEqual([
      'properties.n:type',
      'properties.s:type',
      'properties.b:type',
    ]);
  });

  it('reports a required field that is missing or null', () => {
    const validate = validatorFor(`      - name: id
        logicalType: string
        required: true`);
    expect(validate({ id: 'x' })).toEqual([]);
    expect(rulesOf(validate({}))).toEqual(['properties.id:required']);
    expect(validate({ id: null })[0]).toMatchObject({ path: 'properties.id', rule: 'type' });
  });

  it('enforces string options: pattern, lengths and formats', () => {
    const validate = validatorFor(`      - name: code
        logicalType: string
        logicalTypeOptions:
          pattern: "^[A-Z]{3}$"
      - name: note
        logicalType: string
        logicalTypeOptions:
          minLength: 2
          maxLength: 4
      - name: email
        logicalType: string
        logicalTypeOptions:
          format: email
      - name: id
        logicalType: string
        logicalTypeOptions:
          format: uuid`);
    expect(
      validate({ code: 'EUR', note: 'abc', email: 'a@b.co', id: '3b241101-e2bb-4255-8caf-4136c566a962' }),
    ).toEqual([]);
    expect(rulesOf(validate({ code: 'eur', note: 'abcdef', email: 'a', id: 'x' })).sort()).toEqual([
      'properties.code:pattern',
      'properties.email:format',
      'properties.id:format',
      'properties.note:maxLength',
    ]);
  });

  it('enforces numeric ranges and multiples', () => {
    const validate = validatorFor(`      - name: qty
        logicalType: integer
        logicalTypeOptions:
          minimum: 1
          maximum: 10
      - name: price
        logicalType: number
        logicalTypeOptions:
          exclusiveMinimum: 0
          multipleOf: 0.5`);
    expect(validate({ qty: 3, price: 2.5 })).toEqual([]);
    expect(rulesOf(validate({ qty: 11, price: 0 }))).toEqual([
      'properties.qty:maximum',
      'properties.price:exclusiveMinimum',
    ]);
  });

  it('checks dates and timestamps, and their bounds', () => {
    const validate = validatorFor(`      - name: day
        logicalType: date
        logicalTypeOptions:
          minimum: "2020-01-01"
      - name: at
        logicalType: timestamp`);
    expect(validate({ day: '2024-02-29', at: '2024-02-29T10:00:00Z' })).toEqual([]);
    expect(rulesOf(validate({ day: '2019-12-31', at: 'yesterday' })).sort()).toEqual([
      'properties.at:format',
      'properties.day:formatMinimum',
    ]);
  });

  it('turns zero-tolerance quality rules into per-record checks, and leaves aggregate ones alone', () => {
    const validate = validatorFor(`      - name: currency
        logicalType: string
        quality:
          - metric: invalidValues
            arguments:
              validValues: [EUR, USD]
            mustBe: 0
      - name: channel
        logicalType: string
        quality:
          - metric: invalidValues
            arguments:
              validValues: [web, shop]
            mustBeLessThan: 5
            unit: percent`);
    expect(validate({ currency: 'EUR', channel: 'phone' })).toEqual([]);
    expect(validate({ currency: 'GBP' })[0]).toMatchObject({
      path: 'properties.currency',
      rule: 'validValues',
      message: 'must be one of "EUR", "USD"',
      value: '"GBP"',
    });
  });

  it('validates nested objects and array items, with paths into them', () => {
    const validate = validatorFor(`      - name: address
        logicalType: object
        properties:
          - name: city
            logicalType: string
            required: true
      - name: items
        logicalType: array
        items:
          logicalType: object
          properties:
            - name: sku
              logicalType: string
              required: true`);
    expect(validate({ address: { city: 'Bern' }, items: [{ sku: 'a' }] })).toEqual([]);
    expect(rulesOf(validate({ address: {}, items: [{ sku: 'a' }, {}] }))).toEqual([
      'properties.address.city:required',
      'properties.items[1].sku:required',
    ]);
  });

  it('never echoes values of classified fields', () => {
    const validate = validatorFor(`      - name: email
        logicalType: string
        classification: PII
        logicalTypeOptions:
          format: email`);
    const [violation] = validate({ email: 'secret-address' });
    expect(violation?.value).toBe('(classified; not shown)');
  });
});

describe('compileRecordValidator on arrays of classified fields', () => {
  it('masks a classified field inside array items too', () => {
    const validate = validatorFor(`      - name: contacts
        logicalType: array
        items:
          logicalType: object
          properties:
            - name: email
              logicalType: string
              classification: confidential
              logicalTypeOptions:
                format: email`);
    const [violation] = validate({ contacts: [{ email: 'secret-address' }] });
    expect(violation).toMatchObject({ path: 'properties.contacts[0].email', rule: 'format' });
    expect(violation?.value).toBe('(classified; not shown)');
  });
});

import { describe, expect, it } from 'vitest';
import { parseOdcsText } from '../odcs-source.js';
import { type ContractDiff, diffContracts } from './contract-diff.js';
import { renderContractDiff } from './render-diff.js';

/** A small event contract; `properties` is the YAML of the `Order Completed` object's property list. */
function contract(properties: string, extra = ''): unknown {
  const text = [
    'apiVersion: v3.1.0',
    'kind: DataContract',
    'id: orders',
    'version: 1.0.0',
    'status: active',
    'schema:',
    '  - name: order_completed',
    '    physicalType: track',
    '    physicalName: Order Completed',
    '    properties:',
    properties
      .trim()
      .split('\n')
      .map((line) => `      ${line}`)
      .join('\n'),
    extra.replace(/^\n+|\s+$/g, ''),
    '',
  ].join('\n');
  return parseOdcsText(text, 'contract.yaml').value;
}

const PREFIX = 'schema.order_completed.properties';

const BASE = `
- name: order_id
  logicalType: string
  required: true
- name: total
  logicalType: integer
- name: coupon
  logicalType: string
`;

function summary(diff: ContractDiff) {
  return diff.changes.map(({ kind, path, severity }) => ({ kind, path, severity }));
}

describe('diffContracts', () => {
  it('reports no change when properties are only reordered, because it matches them by name', () => {
    const reordered = `
- name: coupon
  logicalType: string
- name: total
  logicalType: integer
- name: order_id
  required: true
  logicalType: string
`;
    const diff = diffContracts(contract(BASE), contract(reordered));
    expect(diff.changes).toEqual([]);
    expect(diff.details).toEqual([]);
    expect(diff.counts).toEqual({ added: 0, updated: 0, removed: 0 });
  });

  it('matches a property by name after one is inserted before it, so only the insertion shows', () => {
    const inserted = `
- name: currency
  logicalType: string
${BASE}`;
    const diff = diffContracts(contract(BASE), contract(inserted));
    expect(summary(diff)).toEqual([{ kind: 'added', path: `${PREFIX}.currency`, severity: 'non-breaking' }]);
    expect(diff.details.map((detail) => detail.path)).toEqual([
      `${PREFIX}.currency`,
      `${PREFIX}.currency.logicalType`,
    ]);
  });

  it('flags a removed property as breaking, with a removal row for each of its fields', () => {
    const withoutCoupon = BASE.split('- name: coupon')[0]!;
    const diff = diffContracts(contract(BASE), contract(withoutCoupon));
    expect(summary(diff)).toEqual([{ kind: 'removed', path: `${PREFIX}.coupon`, severity: 'breaking' }]);
    expect(diff.details).toEqual([
      expect.objectContaining({ kind: 'removed', path: `${PREFIX}.coupon`, severity: 'breaking' }),
      expect.objectContaining({
        kind: 'removed',
        path: `${PREFIX}.coupon.logicalType`,
        oldValue: 'string',
        severity: 'breaking',
      }),
    ]);
    expect(diff.breakingCount).toBe(1);
  });

  it('flags a property that becomes required as breaking, and one that stops being required as not', () => {
    const couponRequired = BASE.replace(
      '- name: coupon\n  logicalType: string',
      '- name: coupon\n  logicalType: string\n  required: true',
    );
    const tightened = diffContracts(contract(BASE), contract(couponRequired));
    expect(summary(tightened)).toEqual([{ kind: 'updated', path: `${PREFIX}.coupon`, severity: 'breaking' }]);
    expect(tightened.details).toEqual([
      expect.objectContaining({ kind: 'added', path: `${PREFIX}.coupon.required`, newValue: true }),
    ]);
    expect(tightened.changes[0]!.reason).toMatch(/required/);

    const loosened = diffContracts(contract(couponRequired), contract(BASE));
    expect(summary(loosened)).toEqual([
      { kind: 'updated', path: `${PREFIX}.coupon`, severity: 'non-breaking' },
    ]);
  });

  it('treats integer to number as widening and number to integer or string to date as breaking', () => {
    const widened = diffContracts(contract(BASE), contract(BASE.replace('integer', 'number')));
    expect(summary(widened)).toEqual([
      { kind: 'updated', path: `${PREFIX}.total`, severity: 'non-breaking' },
    ]);
    expect(widened.details[0]).toMatchObject({ oldValue: 'integer', newValue: 'number' });

    const narrowed = diffContracts(contract(BASE.replace('integer', 'number')), contract(BASE));
    expect(narrowed.changes[0]).toMatchObject({
      severity: 'breaking',
      reason: expect.stringMatching(/narrowed/),
    });

    const dated = diffContracts(
      contract(BASE),
      contract(BASE.replace('name: coupon\n  logicalType: string', 'name: coupon\n  logicalType: date')),
    );
    expect(summary(dated)).toEqual([{ kind: 'updated', path: `${PREFIX}.coupon`, severity: 'breaking' }]);
  });

  it('counts an added optional property as non-breaking and an added required one as breaking', () => {
    const optional = diffContracts(contract(BASE), contract(`${BASE}- name: note\n  logicalType: string\n`));
    expect(summary(optional)).toEqual([{ kind: 'added', path: `${PREFIX}.note`, severity: 'non-breaking' }]);
    expect(optional.breakingCount).toBe(0);

    const required = diffContracts(
      contract(BASE),
      contract(`${BASE}- name: note\n  logicalType: string\n  required: true\n`),
    );
    expect(summary(required)).toEqual([{ kind: 'added', path: `${PREFIX}.note`, severity: 'breaking' }]);
  });

  it('treats the required properties of a new schema object as part of one non-breaking addition', () => {
    const extra = `
  - name: signed_up
    physicalType: track
    physicalName: Signed Up
    properties:
      - name: email
        logicalType: string
        required: true
`;
    const diff = diffContracts(contract(BASE), contract(BASE, extra));
    expect(summary(diff)).toEqual([{ kind: 'added', path: 'schema.signed_up', severity: 'non-breaking' }]);
    expect(diff.details.every((detail) => detail.severity === 'non-breaking')).toBe(true);
  });

  it('groups several changes to one property into a single updated row', () => {
    const described = BASE.replace(
      '- name: total\n  logicalType: integer',
      '- name: total\n  logicalType: integer\n  description: Order total in cents\n  tags: [money]',
    );
    const diff = diffContracts(contract(BASE), contract(described));
    expect(summary(diff)).toEqual([{ kind: 'updated', path: `${PREFIX}.total`, severity: 'non-breaking' }]);
    expect(diff.details.map((detail) => detail.path)).toEqual([
      `${PREFIX}.total.description`,
      `${PREFIX}.total.tags`,
    ]);
  });

  it('judges tightened and loosened logicalTypeOptions by direction', () => {
    const withOptions = (options: string) =>
      contract(
        BASE.replace(
          '- name: total\n  logicalType: integer',
          `- name: total\n  logicalType: integer\n  logicalTypeOptions:\n${options}`,
        ),
      );
    const verdict = (before: string, after: string) =>
      diffContracts(withOptions(before), withOptions(after)).changes.map((change) => change.severity);

    expect(verdict('    minimum: 0', '    minimum: 1')).toEqual(['breaking']);
    expect(verdict('    minimum: 1', '    minimum: 0')).toEqual(['non-breaking']);
    expect(verdict('    maximum: 100', '    maximum: 50')).toEqual(['breaking']);
    expect(verdict('    maximum: 50', '    maximum: 100')).toEqual(['non-breaking']);
    expect(verdict('    maxLength: 10', '    maxLength: 5')).toEqual(['breaking']);
    expect(verdict('    maximum: 50', '    maximum: 50\n    pattern: "^[0-9]+$"')).toEqual(['breaking']);
    expect(verdict('    maximum: 50\n    pattern: "^[0-9]+$"', '    maximum: 50')).toEqual(['non-breaking']);
    expect(diffContracts(contract(BASE), withOptions('    minimum: 0')).changes[0]).toMatchObject({
      kind: 'updated',
      severity: 'breaking',
    });
  });

  it('flags valid values that shrink as breaking and values that grow as not, ignoring their order', () => {
    const withValues = (values: string) =>
      contract(
        BASE.replace(
          '- name: coupon\n  logicalType: string',
          `- name: coupon\n  logicalType: string\n  quality:\n    - id: coupon_codes\n      metric: invalidValues\n      arguments:\n        validValues: ${values}\n      mustBe: 0`,
        ),
      );
    const shrunk = diffContracts(withValues('[A, B, C]'), withValues('[A, B]'));
    expect(shrunk.changes).toEqual([
      expect.objectContaining({
        path: `${PREFIX}.coupon`,
        severity: 'breaking',
        reason: expect.stringMatching(/"C"/),
      }),
    ]);
    expect(shrunk.details[0]!.path).toBe(`${PREFIX}.coupon.quality.coupon_codes.arguments.validValues`);
    expect(diffContracts(withValues('[A, B]'), withValues('[B, A, C]')).changes[0]!.severity).toBe(
      'non-breaking',
    );
    expect(diffContracts(withValues('[A, B]'), withValues('[B, A]')).changes).toEqual([]);
  });

  it('flags a removed server, a changed id and refinery.mode becoming enforce, but not a version bump', () => {
    const old = contract(
      BASE,
      `
servers:
  - server: production
    type: duckdb
  - server: staging
    type: duckdb
customProperties:
  - property: refinery.mode
    value: warn
`,
    );
    const changed = contract(
      BASE,
      `
servers:
  - server: production
    type: duckdb
customProperties:
  - property: refinery.mode
    value: enforce
`,
    ) as Record<string, unknown>;
    changed.version = '1.1.0';
    const diff = diffContracts(old, changed);
    expect(summary(diff)).toEqual([
      { kind: 'updated', path: 'customProperties.refinery.mode', severity: 'breaking' },
      { kind: 'removed', path: 'servers.staging', severity: 'breaking' },
      { kind: 'updated', path: 'version', severity: 'non-breaking' },
    ]);

    const renamed = { ...(old as Record<string, unknown>), id: 'orders-v2' };
    expect(summary(diffContracts(old, renamed))).toEqual([
      { kind: 'updated', path: 'id', severity: 'breaking' },
    ]);
  });

  it('names nested properties by their path and flags a removed nested field', () => {
    const nested = (fields: string) =>
      contract(`
- name: address
  logicalType: object
  properties:
${fields}
`);
    const diff = diffContracts(
      nested('    - name: city\n      logicalType: string\n    - name: zip\n      logicalType: string'),
      nested('    - name: zip\n      logicalType: string'),
    );
    expect(summary(diff)).toEqual([
      { kind: 'removed', path: `${PREFIX}.address.properties.city`, severity: 'breaking' },
    ]);
  });

  it('renders the counts, both tables and the number of breaking changes', () => {
    const text = renderContractDiff(
      diffContracts(contract(BASE), contract(BASE.replace('integer', 'number').split('- name: coupon')[0]!)),
    );
    expect(text).toContain('[ 0 Added ]  [ 1 Updated ]  [ 1 Removed ]');
    expect(text).toMatch(new RegExp(`│ Removed │ ${PREFIX}\\.coupon\\s+│ yes\\s+│`));
    expect(text).toMatch(
      new RegExp(`│ Updated │ ${PREFIX}\\.total\\.logicalType\\s+│ integer\\s+│ number\\s+│`),
    );
    expect(text.trimEnd().split('\n').at(-1)).toBe('1 breaking change');
  });
});

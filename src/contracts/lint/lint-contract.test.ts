import { Ajv2019 } from 'ajv/dist/2019.js';
import addFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { parseOdcsText } from '../odcs-source.js';
import {
  type LintFinding,
  lintContractSource,
  lintContractText,
  REFINERY_LOGICAL_TYPE_OPTIONS,
} from './lint-contract.js';
import { odcsJsonSchema, odcsRuleSet } from './odcs-json-schema.js';

const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

/** A contract with every required field, on lines 1–5. */
const HEAD = `apiVersion: v3.1.0
kind: DataContract
id: orders
version: 1.0.0
status: active
`;

function lint(yaml: string, options: { customSchema?: object } = {}) {
  return lintContractText(yaml, 'orders.odcs.yaml', options);
}

const at = (findings: readonly LintFinding[]) =>
  findings.map(({ line, path, message }) => ({ line, path, message }));

describe('lintContractText', () => {
  it('passes a minimal contract without findings', () => {
    const report = lint(HEAD);
    expect(report).toEqual({
      file: 'orders.odcs.yaml',
      valid: true,
      apiVersion: 'v3.1.0',
      errors: [],
      warnings: [],
    });
  });

  it('names a missing status', () => {
    const report = lint(HEAD.replace('status: active\n', ''));
    expect(report.valid).toBe(false);
    expect(at(report.errors)).toEqual([{ line: 1, path: 'status', message: '`status` is required' }]);
  });

  it('reports every problem at once, each on its own line', () => {
    const report = lint(`${HEAD}servers:
  - server: prod
    type: local
    path: ./data/orders.csv
schema:
  - name: orders
    description: 42
    properties:
      - name: id
        logicalType: uuid
      - name: total
        logicalType: number
        logicalTypeOptions:
          minimum: zero
`);
    expect(at(report.errors)).toEqual([
      { line: 7, path: 'servers[0].format', message: 'a `local` server needs `format`' },
      { line: 12, path: 'schema[0].description', message: '`description` must be a string, not 42' },
      {
        line: 15,
        path: 'schema[0].properties[0].logicalType',
        message:
          '`logicalType` must be one of string, date, timestamp, time, number, integer, object, array, boolean, not "uuid"',
      },
      {
        line: 19,
        path: 'schema[0].properties[1].logicalTypeOptions.minimum',
        message: '`minimum` must be a number, not a string',
      },
    ]);
  });

  it('says a schema object description that is left empty must be a string', () => {
    const report = lint(`${HEAD}schema:
  - name: orders
    description:
`);
    expect(at(report.errors)).toEqual([
      { line: 8, path: 'schema[0].description', message: '`description` must be a string (it is empty)' },
    ]);
  });

  it('refuses an unknown top-level field', () => {
    const report = lint(`${HEAD}owner: sales\n`);
    expect(at(report.errors)).toEqual([
      { line: 6, path: 'owner', message: 'unknown top-level field `owner` (ODCS does not define it)' },
    ]);
  });

  it('collapses a quality rule with two operators into one sentence', () => {
    const report = lint(`${HEAD}schema:
  - name: orders
    quality:
      - metric: rowCount
        mustBeGreaterThan: 0
        mustBeLessThan: 100
`);
    expect(report.errors).toHaveLength(1);
    expect(report.errors[0]).toMatchObject({ line: 9, path: 'schema[0].quality[0]' });
    expect(report.errors[0]?.message).toContain('may have only one of');
    expect(report.errors[0]?.message).toContain('it has `mustBeGreaterThan` and `mustBeLessThan`');
  });

  it('names the server type when a server has a field its type does not define', () => {
    const report = lint(`${HEAD}servers:
  - server: lake
    type: s3
    location: s3://bucket/orders/
    port: 443
`);
    expect(at(report.errors)).toEqual([
      { line: 10, path: 'servers[0].port', message: 'ODCS does not define `port` for servers of type `s3`' },
    ]);
  });

  it('makes an undefined server field a warning for loading, and keeps other errors beside it', () => {
    const yaml = `${HEAD}servers:
  - server: files
    type: local
    format: csv
    path: ./orders.csv
    delimiter: ";"
  - server: broken
    type: local
    format: csv
`;
    const report = lintContractText(yaml, 'orders.odcs.yaml', { undefinedServerFields: 'warning' });
    expect(at(report.warnings)).toEqual([
      {
        line: 11,
        path: 'servers[0].delimiter',
        message:
          'ODCS does not define `delimiter` for servers of type `local`; accepted here, as ODCS v3.0 and datacontract-cli accept extra server fields',
      },
    ]);
    expect(at(report.errors)).toEqual([
      { line: 12, path: 'servers[1].path', message: 'a `local` server needs `path`' },
    ]);
    const valid = lintContractText(yaml.split('  - server: broken')[0]!, 'orders.odcs.yaml', {
      undefinedServerFields: 'warning',
    });
    expect(valid.valid).toBe(true);
    expect(lint(yaml).errors.map((finding) => finding.path)).toContain('servers[0].delimiter');
  });

  it('gives one clear error for a Data Contract Specification file', () => {
    const report = lint(`dataContractSpecification: 1.2.1
id: orders
info:
  title: Orders
  version: 1.0.0
models:
  orders:
    fields: {}
`);
    expect(report.valid).toBe(false);
    expect(report.apiVersion).toBeNull();
    expect(report.errors).toHaveLength(1);
    expect(report.errors[0]).toMatchObject({ line: 1, path: 'dataContractSpecification' });
    expect(report.errors[0]?.message).toMatch(/Data Contract Specification.*ODCS v3/);
  });

  it('turns a YAML syntax error into one finding with its line', () => {
    const report = lint(`${HEAD}schema:\n  - name: [orders\n`);
    expect(report.valid).toBe(false);
    expect(report.errors).toHaveLength(1);
    expect(report.errors[0]?.line).toBeGreaterThanOrEqual(7);
    expect(report.errors[0]?.message).toMatch(/^not valid YAML/);
  });

  it('refuses a file that holds no mapping', () => {
    expect(at(lint('').errors)).toEqual([
      {
        line: 1,
        path: '',
        message:
          'the file must hold an ODCS contract (a YAML mapping with apiVersion, kind, id, …), not empty',
      },
    ]);
  });

  it('checks against a custom schema instead of the ODCS one', () => {
    const yaml = `${HEAD}change_management:\n  process: GitOps\n`;
    const customSchema = {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      required: ['apiVersion', 'kind', 'id'],
      properties: { apiVersion: { type: 'string' }, kind: { type: 'string' } },
      additionalProperties: true,
    };
    expect(lint(yaml).valid).toBe(false);
    const report = lint(yaml, { customSchema });
    expect(report.valid).toBe(true);
    expect(at(report.warnings)).toEqual([
      {
        line: 6,
        path: 'change_management',
        message: '`change_management` is not an ODCS field; Refinery ignores it',
      },
    ]);
    const strict = lint(HEAD, { customSchema: { ...customSchema, required: ['owner'] } });
    expect(at(strict.errors)).toEqual([{ line: 1, path: 'owner', message: '`owner` is required' }]);
  });

  it('warns about what Refinery cannot act on and still passes the contract', () => {
    const report = lint(`${HEAD}servers:
  - server: warehouse
    type: snowflake
    account: acme
    database: shop
    schema: public
customProperties:
  - property: refinery.retention
    value: 30d
schema:
  - name: orders
    quality:
      - type: custom
        engine: soda
        implementation: "row_count > 0"
      - type: text
        description: Orders are never deleted.
    properties:
      - name: placed_at
        logicalType: timestamp
        logicalTypeOptions:
          timezone: true
`);
    expect(report.valid).toBe(true);
    expect(at(report.warnings)).toEqual([
      {
        line: 8,
        path: 'servers[0].type',
        message:
          'server `warehouse` has type `snowflake`; `refinery contract test` can test only `local` servers',
      },
      {
        line: 13,
        path: 'customProperties[0].property',
        message: 'Refinery does not know the custom property `refinery.retention` (it reads `refinery.mode`)',
      },
      {
        line: 18,
        path: 'schema[0].quality[0].type',
        message: 'a `custom` quality rule (engine `soda`) is engine-specific; Refinery does not run it',
      },
      {
        line: 21,
        path: 'schema[0].quality[1].type',
        message: 'a `text` quality rule is documentation only; Refinery does not check it',
      },
      {
        line: 27,
        path: 'schema[0].properties[0].logicalTypeOptions.timezone',
        message: `Refinery does not enforce the logicalTypeOption \`timezone\` (it enforces ${REFINERY_LOGICAL_TYPE_OPTIONS.join(', ')})`,
      },
    ]);
    expect(report.warnings.every((finding) => finding.severity === 'warning')).toBe(true);
  });

  it('warns about a v3.0 library rule whose name Refinery does not know', () => {
    const report = lint(`${HEAD.replace('v3.1.0', 'v3.0.2')}schema:
  - name: orders
    properties:
      - name: id
        quality:
          - rule: nullCheck
            mustBe: 0
`);
    expect(report.valid).toBe(true);
    expect(at(report.warnings)).toEqual([
      {
        line: 11,
        path: 'schema[0].properties[0].quality[0].rule',
        message:
          'Refinery does not know the library metric `nullCheck` (it runs nullValues, missingValues, invalidValues, duplicateValues, rowCount)',
      },
    ]);
  });

  it('refuses a refinery.mode Refinery does not know, once', () => {
    const report = lint(`${HEAD}customProperties:
  - property: refinery.mode
    value: strict
`);
    expect(report.valid).toBe(false);
    expect(at(report.errors)).toEqual([
      {
        line: 8,
        path: 'customProperties[0].value',
        message: '`refinery.mode` must be one of enforce, warn, off, not "strict"',
      },
    ]);
  });

  it('refuses a pattern that is not a regular expression', () => {
    const report = lint(`${HEAD}schema:
  - name: orders
    properties:
      - name: sku
        logicalType: string
        logicalTypeOptions:
          pattern: "[A-Z"
`);
    expect(report.errors).toHaveLength(1);
    expect(report.errors[0]).toMatchObject({
      line: 12,
      path: 'schema[0].properties[0].logicalTypeOptions.pattern',
    });
    expect(report.errors[0]?.message).toMatch(/^`pattern` is not a valid regular expression/);
  });

  it('accepts v3.0 forms in a v3.0.x contract and refuses them in a v3.1.0 one', () => {
    const body = `team:
  - username: ann
    role: owner
schema:
  - name: orders
    quality:
      - rule: rowCount
        mustBeGreaterThan: 0
`;
    expect(lint(`${HEAD.replace('v3.1.0', 'v3.0.2')}${body}`).errors).toEqual([]);
    expect(at(lint(`${HEAD}${body}`).errors)).toEqual([
      {
        line: 12,
        path: 'schema[0].quality[0].rule',
        message: '`rule` belongs to library quality rules (`type: library` or a `metric`)',
      },
      {
        line: 13,
        path: 'schema[0].quality[0].mustBeGreaterThan',
        message: '`mustBeGreaterThan` compares a library metric or an sql query result',
      },
    ]);
  });

  it('accepts a v3.1.0 team object in a v3.0.x contract, as the v3.1.0 schema does', () => {
    const team = `team:
  name: sales-data
  members:
    - username: ann
      tags: [owner]
`;
    expect(lint(`${HEAD.replace('v3.1.0', 'v3.0.2')}${team}`).errors).toEqual([]);
    expect(lint(`${HEAD}${team}`).errors).toEqual([]);
  });

  it('lints an already parsed source the same way', () => {
    const source = parseOdcsText(HEAD.replace('version: 1.0.0\n', ''), 'orders.odcs.yaml');
    expect(at(lintContractSource(source).errors)).toEqual([
      { line: 1, path: 'version', message: '`version` is required' },
    ]);
  });
});

describe('odcsJsonSchema', () => {
  it('picks the v3.0 rules for v3.0.x contracts and the v3.1 rules otherwise', () => {
    expect(odcsRuleSet('v3.0.0')).toBe('v3.0');
    expect(odcsRuleSet('v3.0.2')).toBe('v3.0');
    expect(odcsRuleSet('v3.1.0')).toBe('v3.1');
    expect(odcsRuleSet(undefined)).toBe('v3.1');
  });

  it('compiles on its own with Ajv and refuses an apiVersion Refinery does not read', () => {
    const ajv = new Ajv2019({ strict: false });
    addFormats(ajv);
    const validate = ajv.compile(odcsJsonSchema('v3.1.0'));
    const contract = { apiVersion: 'v3.1.0', kind: 'DataContract', id: 'x', version: '1', status: 'draft' };
    expect(validate(contract)).toBe(true);
    expect(validate({ ...contract, apiVersion: 'v2.2.2' })).toBe(false);
    expect(validate({ ...contract, kind: 'Contract' })).toBe(false);
  });
});

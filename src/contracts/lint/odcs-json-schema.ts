/**
 * Refinery's own JSON Schema (draft 2019-09) for ODCS v3 data contracts, built from small pieces.
 *
 * Two rule sets share the builders:
 * - `v3.1` follows ODCS v3.1.0 and is what a `v3.1.0` contract (or one with no usable apiVersion) is
 *   checked against. It accepts and rejects the same documents as the standard's own v3.1.0 schema.
 * - `v3.0` is for contracts that declare `v3.0.x`. The standard's v3.0.2 schema rejects forms its own
 *   v3.0.x examples use (a `team` object, numeric `exclusiveMinimum`, `metric` quality rules), while the
 *   v3.1.0 schema accepts `v3.0.x` contracts. So this rule set accepts, node by node, what either
 *   official schema accepts: objects that v3.0.2 left open stay open, and both spellings of a rule pass.
 *
 * Where a rule spans several keywords, the node carries `x-lint-message` (a sentence, or one per
 * keyword) so the linter can name the problem instead of echoing the schema. Validators ignore it.
 */

import { LOGICAL_TYPES, QUALITY_OPERATORS } from '../contract-model.js';

/** The ODCS versions Refinery reads. */
export const ODCS_API_VERSIONS = ['v3.0.0', 'v3.0.1', 'v3.0.2', 'v3.1.0'] as const;
export type OdcsApiVersion = (typeof ODCS_API_VERSIONS)[number];

/** Which rule set checks a contract: see the module comment. */
export type OdcsRuleSet = 'v3.0' | 'v3.1';

/** Annotation keyword holding a readable message: a string, or one per failing keyword. `{field}` names the field. */
export const LINT_MESSAGE_KEYWORD = 'x-lint-message';

/** The standard's logical types: the same list the contract model reads. */
export const ODCS_LOGICAL_TYPES = LOGICAL_TYPES;

export const ODCS_SERVER_TYPES = [
  'api',
  'athena',
  'azure',
  'bigquery',
  'clickhouse',
  'databricks',
  'denodo',
  'dremio',
  'duckdb',
  'glue',
  'cloudsql',
  'db2',
  'hive',
  'impala',
  'informix',
  'kafka',
  'kinesis',
  'local',
  'mysql',
  'oracle',
  'postgresql',
  'postgres',
  'presto',
  'pubsub',
  'redshift',
  's3',
  'sftp',
  'snowflake',
  'sqlserver',
  'synapse',
  'trino',
  'vertica',
  'zen',
  'custom',
] as const;

export const ODCS_QUALITY_TYPES = ['text', 'library', 'sql', 'custom'] as const;
export const ODCS_QUALITY_METRICS = [
  'nullValues',
  'missingValues',
  'invalidValues',
  'duplicateValues',
  'rowCount',
] as const;
export const ODCS_QUALITY_DIMENSIONS = [
  'accuracy',
  'completeness',
  'conformity',
  'consistency',
  'coverage',
  'timeliness',
  'uniqueness',
] as const;
export const ODCS_QUALITY_OPERATORS = QUALITY_OPERATORS;

/** The top-level fields ODCS v3 defines; nothing else may appear there. */
export const ODCS_TOP_LEVEL_FIELDS = [
  'version',
  'kind',
  'apiVersion',
  'id',
  'name',
  'tenant',
  'tags',
  'status',
  'servers',
  'dataProduct',
  'description',
  'domain',
  'schema',
  'support',
  'price',
  'team',
  'roles',
  'slaDefaultElement',
  'slaProperties',
  'authoritativeDefinitions',
  'customProperties',
  'contractCreatedTs',
] as const;

/** The rule set for a contract's `apiVersion` value. */
export function odcsRuleSet(apiVersion: unknown): OdcsRuleSet {
  return typeof apiVersion === 'string' && /^v3\.0\.\d+$/.test(apiVersion) ? 'v3.0' : 'v3.1';
}

/**
 * The JSON Schema for contracts of `apiVersion` (see `odcsRuleSet`).
 * @example ajv.compile(odcsJsonSchema('v3.1.0'))
 */
export function odcsJsonSchema(apiVersion: string): object {
  return odcsJsonSchemaFor(odcsRuleSet(apiVersion));
}

const cache = new Map<OdcsRuleSet, Schema>();

export function odcsJsonSchemaFor(ruleSet: OdcsRuleSet): object {
  let schema = cache.get(ruleSet);
  if (!schema) {
    schema = buildSchema(ruleSet === 'v3.0');
    cache.set(ruleSet, schema);
  }
  return structuredClone(schema);
}

type Schema = { [keyword: string]: unknown };
type Fields = Record<string, Schema>;

// ---- small builders -----------------------------------------------------------------------------

const text: Schema = { type: 'string' };
const integer: Schema = { type: 'integer' };
const number: Schema = { type: 'number' };
const flag: Schema = { type: 'boolean' };
const anything: Schema = {};
const count: Schema = { type: 'integer', minimum: 0 };
const uri: Schema = { type: 'string', format: 'uri' };
const scalar: Schema = { type: ['string', 'number', 'boolean', 'null'] };

const ref = (name: string): Schema => ({ $ref: `#/$defs/${name}` });
const listOf = (items: Schema, extra: Schema = {}): Schema => ({ type: 'array', items, ...extra });
const oneOfValues = (values: readonly string[]): Schema => ({ type: 'string', enum: [...values] });
const forbidden = (message: string): Schema => ({ not: {}, [LINT_MESSAGE_KEYWORD]: message });

/** JSON Schema's `if`/`then`/`else`: where `condition` holds, `then` applies, elsewhere `otherwise`. */
function when(condition: Schema, then: Schema | boolean, otherwise?: Schema): Schema {
  const schema: Schema = { if: condition, then };
  if (otherwise) schema.else = otherwise;
  return schema;
}
const withMessage = (schema: Schema, message: string | Record<string, string>): Schema => ({
  ...schema,
  [LINT_MESSAGE_KEYWORD]: message,
});

/** An object with these fields; closed (no other fields) unless `open`. */
function record(fields: Fields, options: { required?: readonly string[]; open?: boolean } = {}): Schema {
  const schema: Schema = { type: 'object', properties: fields };
  if (options.required?.length) schema.required = [...options.required];
  if (!options.open) schema.additionalProperties = false;
  return schema;
}

/** Holds for an object whose field `name` is present and equals `value`. */
const fieldIs = (name: string, value: string): Schema => ({
  properties: { [name]: { const: value } },
  required: [name],
});

/** Fields only v3.1.0 defines on an object v3.0.2 left open: typed in v3.1, anything goes in v3.0. */
function laterFields(legacy: boolean, fields: Fields): Fields {
  return legacy ? {} : fields;
}

// ---- the document --------------------------------------------------------------------------------

function buildSchema(legacy: boolean): Schema {
  const openInV30 = { open: legacy };
  const stableId = ref('StableId');
  const idField = laterFields(legacy, { id: stableId });

  const defs: Record<string, Schema> = {
    StableId: withMessage(
      { type: 'string', pattern: '^[A-Za-z0-9_-]+$' },
      { pattern: '`{field}` may contain only letters, digits, `_` and `-`' },
    ),
    Tags: listOf(text),
    CustomProperty: legacy
      ? record({ property: text }, { open: true })
      : record(
          { id: stableId, property: text, value: anything, description: text },
          { required: ['property', 'value'] },
        ),
    CustomProperties: listOf(ref('CustomProperty')),
    AuthoritativeDefinitions: listOf(
      record(
        { ...idField, url: text, type: text, ...laterFields(legacy, { description: text }) },
        { required: ['url', 'type'], ...openInV30 },
      ),
    ),
    SupportItem: supportItem(legacy),
    Pricing: record({ ...idField, priceAmount: number, priceCurrency: text, priceUnit: text }, openInV30),
    // A member of a `team` object: that form is v3.1.0's, so its members are too, in either rule set.
    TeamMember: record(teamMemberFields(false, stableId), { required: ['username'] }),
    LegacyTeamMember: record(teamMemberFields(true, stableId), { open: true }),
    Team: record({
      id: stableId,
      name: text,
      description: text,
      members: listOf(ref('TeamMember')),
      tags: ref('Tags'),
      customProperties: ref('CustomProperties'),
      authoritativeDefinitions: ref('AuthoritativeDefinitions'),
    }),
    Role: record(
      {
        ...idField,
        role: text,
        description: text,
        access: text,
        firstLevelApprovers: text,
        secondLevelApprovers: text,
        customProperties: ref('CustomProperties'),
      },
      { required: ['role'], ...openInV30 },
    ),
    SlaProperty: record(
      {
        ...idField,
        property: text,
        value: scalar,
        valueExt: scalar,
        unit: text,
        element: text,
        driver: text,
        ...laterFields(legacy, { description: text, scheduler: text, schedule: text }),
      },
      { required: ['property', 'value'], ...openInV30 },
    ),
    Server: server(legacy),
    SchemaObject: schemaObject(),
    SchemaProperty: schemaProperty(legacy, 'property'),
    SchemaItemProperty: schemaProperty(legacy, 'item'),
    DataQuality: legacy ? legacyQualityRule() : qualityRule(),
    RelationshipSchemaLevel: relationship('schema'),
    RelationshipPropertyLevel: relationship('property'),
  };

  return {
    $schema: 'https://json-schema.org/draft/2019-09/schema',
    title: `ODCS v3 data contract (Refinery's schema, ${legacy ? 'v3.0.x' : 'v3.1.0'} rules)`,
    ...record(
      {
        version: text,
        kind: { type: 'string', const: 'DataContract' },
        apiVersion: oneOfValues(ODCS_API_VERSIONS),
        id: text,
        name: text,
        tenant: text,
        tags: ref('Tags'),
        status: text,
        servers: listOf(ref('Server')),
        dataProduct: text,
        description: record(
          {
            usage: text,
            purpose: text,
            limitations: text,
            authoritativeDefinitions: ref('AuthoritativeDefinitions'),
            customProperties: ref('CustomProperties'),
          },
          { open: true },
        ),
        domain: text,
        schema: listOf(ref('SchemaObject')),
        support: listOf(ref('SupportItem')),
        price: ref('Pricing'),
        team: team(legacy),
        roles: listOf(ref('Role')),
        slaDefaultElement: text,
        slaProperties: listOf(ref('SlaProperty')),
        authoritativeDefinitions: ref('AuthoritativeDefinitions'),
        customProperties: ref('CustomProperties'),
        contractCreatedTs: { type: 'string', format: 'date-time' },
      } satisfies Record<(typeof ODCS_TOP_LEVEL_FIELDS)[number], Schema>,
      { required: ['version', 'apiVersion', 'kind', 'id', 'status'] },
    ),
    $defs: defs,
  };
}

function supportItem(legacy: boolean): Schema {
  const current = record(
    {
      id: ref('StableId'),
      channel: text,
      url: text,
      description: text,
      tool: text,
      scope: text,
      invitationUrl: text,
      customProperties: ref('CustomProperties'),
    },
    { required: ['channel'] },
  );
  if (!legacy) return current;
  // v3.0.2 wanted a url but allowed any other field; v3.1.0 dropped the url but closed the object.
  const older = withMessage(
    record(
      { channel: text, url: text, description: text, tool: text, scope: text, invitationUrl: text },
      { required: ['channel', 'url'], open: true },
    ),
    { required: '`{field}` is required (an ODCS v3.0 support channel needs `channel` and `url`)' },
  );
  return { type: 'object', ...when(current, true, older) };
}

function teamMemberFields(legacy: boolean, stableId: Schema): Fields {
  const date: Schema = { type: 'string', format: 'date' };
  return {
    ...laterFields(legacy, { id: stableId }),
    username: text,
    name: text,
    description: text,
    role: text,
    dateIn: date,
    dateOut: date,
    replacedByUsername: text,
    ...laterFields(legacy, {
      tags: ref('Tags'),
      customProperties: ref('CustomProperties'),
      authoritativeDefinitions: ref('AuthoritativeDefinitions'),
    }),
  };
}

/** `team`: an object with members (v3.1.0), or a list of members (v3.0.x, still accepted by v3.1.0). */
function team(legacy: boolean): Schema {
  return withMessage(
    {
      type: ['object', 'array'],
      ...when({ type: 'array' }, { items: ref(legacy ? 'LegacyTeamMember' : 'TeamMember') }, ref('Team')),
    },
    { type: '`team` must be an object (name, members) or a list of team members' },
  );
}

// ---- servers -------------------------------------------------------------------------------------

/** Connection fields each server type may have, and which of them it needs. */
interface ServerShape {
  readonly fields: Fields;
  readonly required: readonly string[];
}

function serverShapes(legacy: boolean): Record<(typeof ODCS_SERVER_TYPES)[number], ServerShape> {
  const host = { host: text };
  const port = { port: integer };
  const database = { database: text };
  const schema = { schema: text };
  const shape = (fields: Fields, ...required: string[]): ServerShape => ({ fields, required });
  const hostPortDatabase = shape({ ...host, ...port, ...database }, 'host', 'port', 'database');
  const hostDatabase = shape({ ...host, ...port, ...database }, 'host', 'database');
  const withSchema = shape(
    { ...host, ...port, ...database, ...schema },
    'host',
    'port',
    'database',
    'schema',
  );
  // v3.0.2 listed file formats and delimiters for object stores; v3.1.0 takes any text.
  const files = { format: text, delimiter: text };
  return {
    api: shape({ location: uri }, 'location'),
    athena: shape({ stagingDir: uri, ...schema, catalog: text, regionName: text }, 'stagingDir', 'schema'),
    azure: shape({ location: uri, ...files }, 'location', 'format'),
    bigquery: shape({ project: text, dataset: text }, 'project', 'dataset'),
    clickhouse: hostPortDatabase,
    databricks: shape({ ...host, catalog: text, ...schema }, 'catalog', 'schema'),
    denodo: shape({ ...host, ...port, ...database }, 'host', 'port'),
    dremio: shape({ ...host, ...port, ...schema }, 'host', 'port'),
    // v3.0.2 typed a DuckDB schema as an integer, v3.1.0 as text.
    duckdb: shape({ ...database, schema: legacy ? { type: ['string', 'integer'] } : text }, 'database'),
    glue: shape({ account: text, ...database, location: uri, format: text }, 'account', 'database'),
    cloudsql: withSchema,
    db2: shape({ ...host, ...port, ...database, ...schema }, 'host', 'port', 'database'),
    hive: hostDatabase,
    impala: hostDatabase,
    informix: hostDatabase,
    kafka: shape({ ...host, format: text }, 'host'),
    kinesis: shape({ region: text, format: text }),
    local: shape({ path: text, format: text }, 'path', 'format'),
    mysql: hostPortDatabase,
    oracle: shape({ ...host, ...port, serviceName: text }, 'host', 'port', 'serviceName'),
    postgresql: withSchema,
    postgres: withSchema,
    presto: shape({ ...host, catalog: text, ...schema }, 'host'),
    pubsub: shape({ project: text }, 'project'),
    redshift: shape({ ...host, ...database, ...schema, region: text, account: text }, 'database', 'schema'),
    s3: shape({ location: uri, endpointUrl: uri, ...files }, 'location'),
    sftp: shape({ location: { ...uri, pattern: '^sftp://' }, ...files }, 'location'),
    snowflake: shape(
      { ...host, ...port, account: text, ...database, ...schema, warehouse: text },
      'account',
      'database',
      'schema',
    ),
    sqlserver: shape({ ...host, ...port, ...database, ...schema }, 'host', 'database', 'schema'),
    synapse: hostPortDatabase,
    trino: shape({ ...host, ...port, catalog: text, ...schema }, 'host', 'port', 'catalog', 'schema'),
    vertica: withSchema,
    zen: hostDatabase,
    custom: shape({
      account: text,
      catalog: text,
      database: text,
      dataset: text,
      delimiter: text,
      endpointUrl: uri,
      format: text,
      host: text,
      location: uri,
      path: text,
      port: integer,
      project: text,
      region: text,
      regionName: text,
      schema: text,
      serviceName: text,
      stagingDir: text,
      warehouse: text,
      stream: text,
    }),
  };
}

/** A server: common fields plus the connection fields of its `type`; v3.0.x allowed any other field. */
function server(legacy: boolean): Schema {
  const common: Fields = {
    ...laterFields(legacy, { id: ref('StableId') }),
    server: text,
    type: oneOfValues(ODCS_SERVER_TYPES),
    description: text,
    environment: text,
    roles: listOf(ref('Role')),
    customProperties: ref('CustomProperties'),
  };
  const byType = Object.entries(serverShapes(legacy)).map(([type, shape]) =>
    when(
      fieldIs('type', type),
      withMessage(record({ ...common, ...shape.fields }, { required: shape.required, open: legacy }), {
        additionalProperties: `ODCS does not define \`{field}\` for servers of type \`${type}\``,
        required: `a \`${type}\` server needs \`{field}\``,
      }),
    ),
  );
  return { ...record(common, { required: ['server', 'type'], open: true }), allOf: byType };
}

// ---- schema objects and their properties ---------------------------------------------------------

function elementFields(): Fields {
  return {
    id: ref('StableId'),
    name: text,
    physicalType: text,
    description: text,
    businessName: text,
    authoritativeDefinitions: ref('AuthoritativeDefinitions'),
    tags: ref('Tags'),
    customProperties: ref('CustomProperties'),
  };
}

function schemaObject(): Schema {
  return record(
    {
      ...elementFields(),
      logicalType: withMessage(oneOfValues(['object']), {
        enum: "a schema object's `logicalType` can only be `object`",
      }),
      physicalName: text,
      dataGranularityDescription: text,
      properties: listOf(ref('SchemaProperty')),
      relationships: listOf(ref('RelationshipSchemaLevel')),
      quality: listOf(ref('DataQuality')),
    },
    { required: ['name'] },
  );
}

/** The `logicalTypeOptions` each logical type accepts (a `boolean` accepts any). */
function optionsByType(legacy: boolean): [readonly string[], Fields][] {
  // v3.0.2 wrote `exclusiveMinimum: true` (the bound is exclusive); v3.1.0 gives the bound itself.
  const bound = (type: string): Schema => ({ type: legacy ? [type, 'boolean'] : type });
  const dateBounds = {
    format: text,
    minimum: text,
    maximum: text,
    exclusiveMinimum: bound('string'),
    exclusiveMaximum: bound('string'),
  };
  const numeric = (formats: readonly string[]): Fields => ({
    multipleOf: { type: 'number', exclusiveMinimum: 0 },
    minimum: number,
    maximum: number,
    exclusiveMinimum: bound('number'),
    exclusiveMaximum: bound('number'),
    format: oneOfValues(formats),
  });
  return [
    [['string'], { minLength: count, maxLength: count, pattern: text, format: text }],
    [['date'], dateBounds],
    [['timestamp', 'time'], { ...dateBounds, timezone: flag, defaultTimezone: text }],
    [['integer'], numeric(['i8', 'i16', 'i32', 'i64', 'i128', 'u8', 'u16', 'u32', 'u64', 'u128'])],
    [['number'], numeric(['f32', 'f64'])],
    [
      ['object'],
      {
        minProperties: count,
        maxProperties: count,
        required: listOf(text, { minItems: 1, uniqueItems: true }),
      },
    ],
    [['array'], { minItems: count, maxItems: count, uniqueItems: flag }],
  ];
}

/**
 * A schema property, or (`item`) the element description of an array property, which needs no name.
 * Nested `properties` belong to objects and `items` to arrays; a property without a logicalType may
 * carry either, but then no logicalTypeOptions.
 */
function schemaProperty(legacy: boolean, kind: 'property' | 'item'): Schema {
  const typeIsNot = (type: string): Schema => ({
    required: ['logicalType'],
    properties: { logicalType: { not: { const: type } } },
  });
  const rules: Schema[] = optionsByType(legacy).map(([types, options]) =>
    when(
      { required: ['logicalType'], properties: { logicalType: { enum: [...types] } } },
      {
        properties: {
          logicalTypeOptions: withMessage(record(options), {
            additionalProperties: `\`{field}\` is not a logicalTypeOption of logicalType \`${types.join('` or `')}\``,
          }),
        },
      },
    ),
  );
  rules.push(
    when(
      { not: { required: ['logicalType'] } },
      {
        properties: {
          logicalTypeOptions: withMessage(
            { maxProperties: 0 },
            'logicalTypeOptions need a `logicalType` to apply to',
          ),
        },
      },
    ),
    when(typeIsNot('array'), {
      properties: { items: forbidden('`items` describes array elements; it needs logicalType `array`') },
    }),
  );
  if (kind === 'property') {
    rules.push(
      when(typeIsNot('object'), {
        properties: { properties: forbidden('nested `properties` need logicalType `object`') },
      }),
    );
  }
  return {
    ...record(
      {
        ...elementFields(),
        primaryKey: flag,
        primaryKeyPosition: integer,
        logicalType: oneOfValues(ODCS_LOGICAL_TYPES),
        logicalTypeOptions: { type: 'object' },
        physicalName: text,
        required: flag,
        unique: flag,
        partitioned: flag,
        partitionKeyPosition: integer,
        classification: text,
        encryptedName: text,
        transformSourceObjects: listOf(text),
        transformLogic: text,
        transformDescription: text,
        examples: listOf(anything),
        criticalDataElement: flag,
        relationships: listOf(ref('RelationshipPropertyLevel')),
        quality: listOf(ref('DataQuality')),
        properties: listOf(ref('SchemaProperty')),
        items: ref('SchemaItemProperty'),
      },
      kind === 'property' ? { required: ['name'] } : {},
    ),
    allOf: rules,
  };
}

// ---- relationships -------------------------------------------------------------------------------

/** `table.column`, or a path such as `schema/orders/properties/id`, optionally prefixed by `file.yaml#`. */
function referencePattern(): string {
  const name = '[A-Za-z_][A-Za-z0-9_]*';
  const step = `${name}/[A-Za-z0-9_-]+`;
  const file = '(?:(?:https?://)?[A-Za-z0-9._/-]+\\.yaml#)?';
  return `^(?:${name}\\.${name}|${file}/?${step}(?:/${step})*)$`;
}

function relationship(level: 'schema' | 'property'): Schema {
  const reference = withMessage(
    { type: 'string', pattern: referencePattern() },
    { pattern: '`{field}` must be a reference such as `table.column` or `schema/table/properties/column`' },
  );
  const end: Schema = {
    type: ['string', 'array'],
    ...when({ type: 'array' }, { minItems: 1, items: reference }, reference),
  };
  const fields: Fields = {
    type: oneOfValues(['foreignKey']),
    from:
      level === 'schema'
        ? end
        : forbidden('a property-level relationship starts at its property; drop `from`'),
    to: end,
    customProperties: ref('CustomProperties'),
  };
  if (level === 'property') return record(fields, { required: ['to'] });
  const sameShape = (type: string): Schema =>
    when(
      { properties: { from: { type } }, required: ['from'] },
      {
        properties: {
          to: withMessage(
            { type },
            `\`to\` must be a ${type === 'array' ? 'list' : 'single reference'}, like \`from\``,
          ),
        },
      },
    );
  return {
    ...record(fields, { required: ['from', 'to'] }),
    allOf: [sameShape('array'), sameShape('string')],
  };
}

// ---- quality rules -------------------------------------------------------------------------------

function qualityCommonFields(legacy: boolean): Fields {
  return {
    ...laterFields(legacy, { id: ref('StableId') }),
    authoritativeDefinitions: ref('AuthoritativeDefinitions'),
    businessImpact: text,
    customProperties: listOf(ref('CustomProperty')),
    description: text,
    dimension: oneOfValues(ODCS_QUALITY_DIMENSIONS),
    method: text,
    name: text,
    schedule: text,
    scheduler: text,
    severity: text,
    tags: ref('Tags'),
    type: oneOfValues(ODCS_QUALITY_TYPES),
    unit: text,
  };
}

function operatorFields(): Fields {
  const range: Schema = { type: 'array', minItems: 2, maxItems: 2, uniqueItems: true, items: number };
  return {
    mustBe: anything,
    mustNotBe: anything,
    mustBeGreaterThan: number,
    mustBeGreaterOrEqualTo: number,
    mustBeLessThan: number,
    mustBeLessOrEqualTo: number,
    mustBeBetween: range,
    mustNotBeBetween: range,
  };
}

const exactlyOneOperator: Schema = {
  oneOf: ODCS_QUALITY_OPERATORS.map((operator) => ({ required: [operator] })),
};
const implementation: Schema = { type: ['string', 'object'] };

/** A quality rule as v3.1.0 has it: library metrics and sql queries compare with exactly one operator. */
function qualityRule(): Schema {
  const isLibrary: Schema = {
    anyOf: [fieldIs('type', 'library'), { properties: { metric: { type: 'string' } }, required: ['metric'] }],
  };
  const onlyFor = (type: string, fields: readonly string[]): Schema => ({
    properties: Object.fromEntries(
      fields.map((field) => [
        field,
        forbidden(
          `\`${field}\` belongs to ${type} quality rules${type === 'library' ? ' (`type: library` or a `metric`)' : ` (\`type: ${type}\`)`}`,
        ),
      ]),
    ),
  });
  const operators = Object.keys(operatorFields());
  return {
    ...record({
      ...qualityCommonFields(false),
      metric: oneOfValues(ODCS_QUALITY_METRICS),
      rule: text,
      arguments: { type: 'object' },
      query: text,
      engine: text,
      implementation,
      ...operatorFields(),
    }),
    allOf: [
      when(
        isLibrary,
        { required: ['metric'], ...exactlyOneOperator },
        onlyFor('library', ['rule', 'arguments']),
      ),
      when(fieldIs('type', 'sql'), { required: ['query'], ...exactlyOneOperator }, onlyFor('sql', ['query'])),
      when(
        fieldIs('type', 'custom'),
        { required: ['engine', 'implementation'] },
        onlyFor('custom', ['engine', 'implementation']),
      ),
      when(
        { not: { anyOf: [isLibrary, fieldIs('type', 'sql')] } },
        {
          properties: Object.fromEntries(
            operators.map((field) => [
              field,
              forbidden(`\`${field}\` compares a library metric or an sql query result`),
            ]),
          ),
        },
      ),
    ],
  };
}

/**
 * A quality rule in a v3.0.x contract: v3.0.2's form (a library `rule` name, other fields free) or
 * v3.1.0's (a `metric`).
 */
function legacyQualityRule(): Schema {
  return {
    ...record(qualityCommonFields(true), { open: true }),
    allOf: [
      when(fieldIs('type', 'sql'), { required: ['query'], properties: { query: text } }),
      when(fieldIs('type', 'custom'), {
        required: ['engine', 'implementation'],
        properties: { engine: text, implementation },
      }),
      // `properties: {type: {const}}` also holds when there is no type, as v3.0.2 meant it to.
      when(
        { properties: { type: { const: 'library' } } },
        {
          properties: { rule: text, ...operatorFields() },
          ...when(
            { not: { required: ['rule'] }, anyOf: [fieldIs('type', 'library'), { required: ['metric'] }] },
            withMessage(
              { required: ['metric'], properties: { metric: oneOfValues(ODCS_QUALITY_METRICS) } },
              { required: 'a library quality rule needs a `metric` (or `rule`, its ODCS v3.0 name)' },
            ),
          ),
        },
      ),
    ],
  };
}

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import addFormatsModule from 'ajv-formats';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LintReport } from '../../src/contracts/lint/lint-contract.js';
import { odcsJsonSchema, odcsRuleSet } from '../../src/contracts/lint/odcs-json-schema.js';
import { parseOdcsText } from '../../src/contracts/odcs-source.js';
import { isBuilt, runCli } from '../helpers/cli-process.js';

/*
 * Refinery's ODCS schema against the standard's own JSON Schemas, its example contracts and
 * datacontract-cli's lint fixtures. Those live beside the repository in ../shared and are never copied
 * into it; without that folder this suite is skipped. What a user sees is checked through the command they
 * type, `refinery contract lint` (which needs the build); the schema itself is compared as a document.
 *
 * The official verdict: a v3.1.0 contract (or one without a v3.0.x apiVersion) against the v3.1.0
 * schema; a v3.0.x contract against v3.0.2 or v3.1.0, whichever accepts it. The v3.1.0 schema lists
 * v3.0.x among its apiVersions, and several v3.0.2 examples (and datacontract-cli's valid.odcs.yaml,
 * which must pass) use forms only v3.1.0 accepts, such as a `team` object.
 */

const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const shared = resolve(repoRoot, '..', 'shared');
const officialSchemas = join(shared, 'odcs', 'schema');
const examplesFolder = join(shared, 'odcs', 'examples');
const lintFixtures = join(shared, 'conformance', 'datacontract-cli', 'fixtures', 'lint');
const available = [officialSchemas, examplesFolder, lintFixtures].every((folder) => existsSync(folder));

if (!available) {
  console.info(
    `ODCS lint conformance skipped: ${shared} (official ODCS schemas, examples and datacontract-cli fixtures) is not there.`,
  );
} else if (!isBuilt) {
  console.info(
    'ODCS lint conformance through `refinery contract lint` skipped: the CLI is not built (npx tsc -p tsconfig.build.json).',
  );
}

/** Runs `refinery contract lint --json FILES…` and returns its report per file, checking its exit code. */
async function lintWithCli(files: readonly string[], schema?: string): Promise<Map<string, LintReport>> {
  const args = ['contract', 'lint', '--json', ...(schema ? ['--schema', schema] : []), ...files];
  const run = await runCli(args, { env: { REFINERY_DIR: '' } });
  const reports = JSON.parse(run.stdout) as LintReport[];
  if (run.code !== (reports.some((report) => !report.valid) ? 1 : 0)) {
    throw new Error(`refinery contract lint exited ${run.code}:\n${run.stderr}`);
  }
  return new Map(reports.map((report) => [report.file, report]));
}

function reportOf(reports: Map<string, LintReport>, file: string): LintReport {
  const report = reports.get(file);
  if (!report) throw new Error(`refinery contract lint gave no report for ${file}`);
  return report;
}

function yamlFilesIn(folder: string): string[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder)
    .flatMap((name) => {
      const path = join(folder, name);
      return statSync(path).isDirectory() ? yamlFilesIn(path) : /\.ya?ml$/.test(name) ? [path] : [];
    })
    .sort();
}

const examples = yamlFilesIn(examplesFolder);
const fixtures = yamlFilesIn(lintFixtures);
const fixture = (name: string) => join(lintFixtures, name);
const named = (files: string[]) => files.map((file) => [relative(shared, file), file] as const);

function newAjv(): Ajv2019 {
  const ajv = new Ajv2019({ allErrors: true, strict: false });
  addFormats(ajv);
  return ajv;
}

function documentOf(file: string): unknown {
  return parseOdcsText(readFileSync(file, 'utf8'), file).value;
}

function apiVersionOf(document: unknown): string {
  const apiVersion = (document as { apiVersion?: unknown } | null)?.apiVersion;
  return typeof apiVersion === 'string' ? apiVersion : '';
}

describe.skipIf(!available)(
  'Refinery ODCS lint against the official schemas and fixtures (needs ../shared)',
  () => {
    let official: { v302: ValidateFunction; v310: ValidateFunction };
    const ours = new Map<string, ValidateFunction>();

    beforeAll(() => {
      const load = (version: string) =>
        newAjv().compile(
          JSON.parse(
            readFileSync(join(officialSchemas, `odcs-json-schema-${version}.json`), 'utf8'),
          ) as object,
        );
      official = { v302: load('v3.0.2'), v310: load('v3.1.0') };
    });

    function officialVerdict(document: unknown): boolean {
      if (odcsRuleSet(apiVersionOf(document)) === 'v3.1') return official.v310(document);
      return official.v302(document) || official.v310(document);
    }

    function ourVerdict(document: unknown): boolean {
      const ruleSet = odcsRuleSet(apiVersionOf(document));
      let validate = ours.get(ruleSet);
      if (!validate) {
        validate = newAjv().compile(odcsJsonSchema(apiVersionOf(document)));
        ours.set(ruleSet, validate);
      }
      return validate(document);
    }

    it('finds the standard examples and the lint fixtures', () => {
      expect(examples.length).toBeGreaterThanOrEqual(18);
      expect(fixtures.map((file) => basename(file))).toContain('valid.odcs.yaml');
    });

    it.each(named([...examples, ...fixtures]))('agrees with the official schema on %s', (_name, file) => {
      const document = documentOf(file);
      expect(ourVerdict(document)).toBe(officialVerdict(document));
    });

    it('agrees with the official schema on seeded variations of the examples', () => {
      const random = seededRandom(20_240_131);
      const originals = examples.map(documentOf);
      const disagreements: string[] = [];
      for (let round = 0; round < 1500; round++) {
        const document = structuredClone(originals[Math.floor(random() * originals.length)]);
        const mutations = 1 + Math.floor(random() * 3);
        for (let step = 0; step < mutations; step++) mutate(document, originals, random);
        const expected = officialVerdict(document);
        const actual = ourVerdict(document);
        // For v3.0.x, ours may accept a file that mixes v3.0.2-only and v3.1.0-only forms in different
        // places (each node passes one of the two); it must never refuse what either one accepts.
        const v30 = odcsRuleSet(apiVersionOf(document)) === 'v3.0';
        if (v30 ? expected && !actual : expected !== actual) disagreements.push(JSON.stringify(document));
      }
      expect(disagreements.slice(0, 3)).toEqual([]);
    });

    describe.skipIf(!isBuilt)('through refinery contract lint', () => {
      let reports: Map<string, LintReport>;

      beforeAll(async () => {
        reports = await lintWithCli([...examples, ...fixtures]);
      }, 120_000);

      it.each(named(examples))('lints the example %s clean with the built-in schema', (_name, file) => {
        const report = reportOf(reports, file);
        expect(report.errors).toEqual([]);
        expect(report.valid).toBe(true);
      });

      it.each(named(fixtures))("gives %s the official schema's verdict", (_name, file) => {
        expect(reportOf(reports, file).valid).toBe(officialVerdict(documentOf(file)));
      });

      describe("datacontract-cli's lint expectations", () => {
        it.each(['valid.odcs.yaml', 'valid-3.1.0.odcs.yaml'])('passes %s', (name) => {
          const report = reportOf(reports, fixture(name));
          expect(report.errors).toEqual([]);
          expect(report.valid).toBe(true);
        });

        it('fails invalid.odcs.yaml because status is missing', () => {
          const report = reportOf(reports, fixture('invalid.odcs.yaml'));
          expect(report.valid).toBe(false);
          expect(report.errors).toEqual([
            { line: 1, path: 'status', message: '`status` is required', severity: 'error' },
          ]);
        });

        it('reports both missing fields of invalid_multiple_errors.odcs.yaml at once', () => {
          const report = reportOf(reports, fixture('invalid_multiple_errors.odcs.yaml'));
          expect(report.valid).toBe(false);
          expect(report.errors.length).toBeGreaterThanOrEqual(2);
          expect(report.errors.map((finding) => finding.path)).toEqual(
            expect.arrayContaining(['version', 'status']),
          );
        });

        it('fails invalid_multiple_schema_errors.odcs.yaml on a schema object description that is not a string', () => {
          const report = reportOf(reports, fixture('invalid_multiple_schema_errors.odcs.yaml'));
          expect(report.valid).toBe(false);
          expect(report.errors).toContainEqual(
            expect.objectContaining({
              path: 'schema[0].description',
              message: expect.stringContaining('`description` must be a string'),
              line: 10,
            }),
          );
        });

        it('fails odcs_with_extra_top_level.yaml with the built-in schema and passes it with its custom schema', async () => {
          const file = fixture('odcs_with_extra_top_level.yaml');
          const builtIn = reportOf(reports, file);
          expect(builtIn.valid).toBe(false);
          expect(builtIn.errors).toContainEqual(expect.objectContaining({ path: 'change_management' }));

          const custom = reportOf(
            await lintWithCli([file], fixture('odcs_with_extra_top_level.schema.json')),
            file,
          );
          expect(custom.errors).toEqual([]);
          expect(custom.valid).toBe(true);
        }, 60_000);

        it.each(
          fixtures.filter((file) => basename(file).includes('datacontract')).map((file) => basename(file)),
        )('says clearly that %s is a Data Contract Specification file', (name) => {
          const report = reportOf(reports, fixture(name));
          expect(report.valid).toBe(false);
          expect(report.errors).toHaveLength(1);
          expect(report.errors[0]?.message).toContain('Data Contract Specification');
          expect(report.errors[0]?.message).toContain('ODCS v3');
        });
      });
    });
  },
);

/** mulberry32: small, seeded and good enough to pick mutations reproducibly. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

type Node = Record<string, unknown>;

const REPLACEMENTS: unknown[] = [
  'x',
  7,
  1.5,
  -1,
  true,
  null,
  [],
  {},
  'v3.1.0',
  'v3.0.2',
  'library',
  'sql',
  'custom',
  'text',
  'object',
  'array',
  'timestamp',
  'local',
  's3',
  'foreignKey',
  '2024-01-31',
  'https://example.com/x',
  'orders.id',
  ['orders.id'],
  [1, 2],
  { property: 'p', value: 1 },
  { property: 'p' },
  { url: 'https://example.com', type: 'definition' },
  { username: 'ann' },
  { metric: 'nullValues', mustBe: 0 },
  { rule: 'nullCheck' },
  { type: 'sql', query: 'select 1', mustBe: 1 },
  { exclusiveMinimum: true },
  { minLength: 1 },
];

const FIELD_NAMES = [
  'id',
  'name',
  'description',
  'type',
  'metric',
  'rule',
  'query',
  'engine',
  'implementation',
  'mustBe',
  'mustBeGreaterThan',
  'logicalType',
  'logicalTypeOptions',
  'properties',
  'items',
  'relationships',
  'from',
  'to',
  'customProperties',
  'team',
  'members',
  'url',
  'value',
  'port',
  'location',
  'format',
  'unknownField',
];

/** Deletes, replaces or adds one field somewhere in `document`, sometimes with a piece of another example. */
function mutate(document: unknown, pool: readonly unknown[], random: () => number): void {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const objects = collectObjects(document);
  if (objects.length === 0) return;
  const target = pick(objects);
  const keys = Object.keys(target);
  const choice = random();
  if (choice < 0.25 && keys.length > 0) {
    delete target[pick(keys)];
  } else if (choice < 0.55 && keys.length > 0) {
    target[pick(keys)] = structuredClone(pick(REPLACEMENTS));
  } else if (choice < 0.8) {
    target[pick(FIELD_NAMES)] = structuredClone(pick(REPLACEMENTS));
  } else {
    const donor = pick(collectObjects(pick(pool)));
    const donorKeys = Object.keys(donor);
    if (donorKeys.length > 0) {
      const key = pick(donorKeys);
      target[key] = structuredClone(donor[key]);
    }
  }
}

function collectObjects(value: unknown, into: Node[] = []): Node[] {
  if (Array.isArray(value)) {
    for (const item of value) collectObjects(item, into);
  } else if (value !== null && typeof value === 'object') {
    into.push(value as Node);
    for (const child of Object.values(value)) collectObjects(child, into);
  }
  return into;
}

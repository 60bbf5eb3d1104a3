import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decryptField } from '../../src/privacy/vault/field-envelope.js';
import { loadMasterKey } from '../../src/privacy/vault/master-key.js';
import { SubjectKeyVault } from '../../src/privacy/vault/subject-key-vault.js';
import { isBuilt, runCli } from '../helpers/cli-process.js';
import { duckDbFileText, filesUnder } from '../helpers/stored-text.js';

/*
 * `refinery import` (no server: the CLI writes the workspace's store itself) seals imported personal values
 * with the workspace's keys, as the collector seals collected ones: no table and no file of the workspace holds
 * them in clear, a person's access bundle opens them, and an erasure of the person makes them unreadable.
 */

const CUSTOMERS = [
  'customer_id,email,first_name,last_name,phone,city,address,loyalty',
  'c-ada,ada.sealed@example.org,Adaline,Sealwright,+44 20 7946 0001,Controlville,1 Secret Lane,tier-marker-5e1b',
  'c-bob,bob.sealed@example.org,Bobbin,Keptwell,+44 20 7946 0002,Controlville,2 Hidden Road,tier-marker-5e1b',
  // Refused (not an email): its reject excerpt and reason must not quote it.
  'c-bad,not-an-email-sealed,Badrow,Refusedson,,Controlville,,tier-marker-5e1b',
  // A quote never closed: the line cannot be parsed, so its columns are unknown.
  'c-broken,"broken.sealed@example.org,Brokenline,Unparsed,,Controlville,,tier-marker-5e1b',
  '',
].join('\n');

const ORDERS = [
  'order_id,ordered_at,customer_id,email,product_id,quantity,unit_price',
  'o-1,2025-01-02T10:00:00Z,c-ada,ada.sealed@example.org,p1,1,2.00',
  // No customer: the line is keyed by its email.
  'o-2,2025-01-03T10:00:00Z,,guest.sealed@example.org,p2,1,3.00',
  '',
].join('\n');

const EVENTS = [
  JSON.stringify({
    type: 'identify',
    userId: 'c-ada',
    timestamp: '2025-01-01T00:00:00Z',
    traits: { email: 'ada.sealed@example.org', name: 'Adaline Sealwright', plan: 'plan-marker-77aa' },
  }),
  '',
].join('\n');

const CLEAR_VALUES = [
  'ada.sealed@example.org',
  'bob.sealed@example.org',
  'guest.sealed@example.org',
  'not-an-email-sealed',
  'broken.sealed@example.org',
  'Adaline',
  'Sealwright',
  'Bobbin',
  'Keptwell',
  'Badrow',
  '+44 20 7946 0001',
  '1 Secret Lane',
  '2 Hidden Road',
];
// Not personal: found where the personal values are not, or the search could see nothing.
const CONTROLS = ['Controlville', 'tier-marker-5e1b', 'plan-marker-77aa'];

describe.skipIf(!isBuilt)('refinery import seals personal values (CLI, needs the build)', () => {
  const temp = mkdtempSync(join(tmpdir(), 'refinery-import-sealing-'));
  const dir = join(temp, 'workspace');
  const cli = (args: string[]) => runCli([...args, '--dir', dir], { env: { REFINERY_DIR: '' } });
  let sealedAda: string;
  let sealedBob: string;

  beforeAll(async () => {
    expect((await runCli(['init', dir])).code).toBe(0);
    for (const [name, text] of [
      ['customers.csv', CUSTOMERS],
      ['orders.csv', ORDERS],
      ['events.ndjson', EVENTS],
    ] as const) {
      writeFileSync(join(temp, name), text);
    }
    // Exit 3: some rows were refused (the customers file has two on purpose).
    for (const [file, target, code] of [
      ['customers.csv', 'customers', 3],
      ['orders.csv', 'orders', 0],
      ['events.ndjson', 'events', 0],
    ] as const) {
      const imported = await cli(['import', join(temp, file), '--as', target, '--json']);
      expect(imported.code, imported.stderr).toBe(code);
    }
  }, 120_000);
  afterAll(() => rmSync(temp, { recursive: true, force: true }));

  it('stores the personal columns sealed, and the lookup hash of the email beside them', async () => {
    const result = await cli([
      'query',
      'SELECT customer_id, email, phone, name, city, extra FROM customers ORDER BY customer_id',
      '--json',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const rows = JSON.parse(result.stdout).rows as Record<string, string | null>[];
    expect(rows.map((row) => row.customer_id)).toEqual(['c-ada', 'c-bob']);
    for (const row of rows) {
      for (const column of ['email', 'phone', 'name']) expect(row[column]).toMatch(/^rfy1:/);
      expect(row.city).toBe('Controlville');
      const extra = JSON.parse(row.extra!) as Record<string, string>;
      expect(extra.address).toMatch(/^rfy1:/);
      expect(extra.loyalty).toBe('tier-marker-5e1b');
    }
    sealedAda = rows[0]!.email!;
    sealedBob = rows[1]!.email!;
  });

  it('keeps no clear personal value in any table, and none in any file of the workspace', async () => {
    const tables = await duckDbFileText(join(dir, 'data', 'refinery.duckdb'), { access_mode: 'READ_ONLY' });
    for (const control of CONTROLS) expect(tables).toContain(control);
    for (const value of CLEAR_VALUES) expect(tables, value).not.toContain(value);
    expect(tables).toContain('"email_hash":"h1:');

    const files = filesUnder(dir).map((file) => ({ file, text: readFileSync(file).toString('latin1') }));
    expect(files.some(({ text }) => text.includes('tier-marker-5e1b'))).toBe(true);
    for (const value of CLEAR_VALUES) {
      expect(
        files.filter(({ text }) => text.includes(value)).map(({ file }) => file),
        value,
      ).toEqual([]);
    }
  });

  it('keeps a refused row with its personal columns redacted and an unparsable line without its text', async () => {
    const result = await cli([
      'query',
      'SELECT line, reason, "row" FROM import_rejects ORDER BY line',
      '--json',
    ]);
    const rejects = JSON.parse(result.stdout).rows as { line: number; reason: string; row: string | null }[];
    expect(rejects.map((reject) => reject.line)).toEqual([4, 5]);
    expect(rejects[0]!.reason).toContain('email');
    expect(JSON.parse(rejects[0]!.row!)).toMatchObject({
      customer_id: 'c-bad',
      email: '[redacted]',
      first_name: '[redacted]',
      city: 'Controlville',
    });
    expect(rejects[1]!.reason).toContain('not valid CSV');
    expect(rejects[1]!.row).toBeNull();
  });

  it("finds the person's imported customer record and order line for an access request", async () => {
    // The bundle's content, opened, is checked over the API (test/imports/): a person known only from imports
    // is not in the identity graph, so the bundle downloaded later by request id no longer names them.
    // The bundle goes to the test's temp folder, not the working directory the tests run in.
    const access = await cli([
      'privacy',
      'request',
      'access',
      '--user-id',
      'c-ada',
      '--out',
      join(temp, 'bundle'),
      '--json',
    ]);
    expect(access.code, access.stderr).toBe(0);
    expect(JSON.parse(access.stdout).request.result.parts).toMatchObject({ customers: 1, orders: 1 });
  });

  it("makes the erased person's sealed values unreadable, and leaves another person's readable", async () => {
    const erased = await cli(['privacy', 'request', 'erase', '--user-id', 'c-ada', '--json']);
    expect(erased.code, erased.stderr).toBe(0);
    const master = loadMasterKey({ dataDir: join(dir, 'data') });
    const vault = await SubjectKeyVault.open({ dataDir: join(dir, 'data'), masterKey: master.key });
    try {
      expect(decryptField(sealedAda, vault, 'traits.email')).toMatchObject({ status: 'shredded' });
      expect(decryptField(sealedBob, vault, 'traits.email')).toEqual({
        status: 'ok',
        value: 'bob.sealed@example.org',
      });
    } finally {
      await vault.close();
    }
    const left = await cli([
      'query',
      "SELECT count(*) AS n FROM customers WHERE customer_id = 'c-ada'",
      '--json',
    ]);
    expect(JSON.parse(left.stdout).rows).toEqual([{ n: 0 }]);
  });
});

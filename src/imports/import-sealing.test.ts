import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readContract } from '../contracts/contract-model.js';
import { ContractSet } from '../contracts/contract-set.js';
import { parseOdcsText } from '../contracts/odcs-source.js';
import { IdentifierHasher } from '../identity/identifier-hashing.js';
import { decryptField } from '../privacy/vault/field-envelope.js';
import { validatePersonalFieldsConfig } from '../privacy/vault/personal-fields.js';
import { SubjectKeyVault } from '../privacy/vault/subject-key-vault.js';
import { DuckDbStore } from '../store/duckdb/duckdb-store.js';
import type { ImportPrivacy } from './import-sealing.js';
import { runImport } from './run-import.js';

let dir: string;
let store: DuckDbStore;
let privacy: ImportPrivacy & { vault: SubjectKeyVault };
const masterKey = Buffer.alloc(32, 3);

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'refinery-import-sealing-'));
  store = await DuckDbStore.open({ path: join(dir, 'refinery.duckdb') });
  await store.migrate();
  privacy = {
    vault: await SubjectKeyVault.open({ dataDir: dir, masterKey }),
    fields: validatePersonalFieldsConfig(['loyalty_card']),
    identifiers: IdentifierHasher.fromMasterKey(masterKey),
  };
});

afterEach(async () => {
  await privacy.vault.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function rows(sql: string): Promise<Record<string, unknown>[]> {
  return (await store.readOnlyQuery(sql, { timeoutMs: 10_000, maxRows: 1000 })).rows;
}

function open(envelope: unknown, path: string): unknown {
  const opened = decryptField(String(envelope), privacy.vault, path);
  return opened.status === 'ok' ? opened.value : opened.status;
}

describe('sealing imported personal values', () => {
  it('seals a customer under their customer id, configured names and the full name worked out in clear', async () => {
    const csv =
      'customer_id,email,first_name,last_name,loyalty_card,tier\nc1,a@example.org,Ann,Lee,LC-991,gold\n';
    await runImport(store, { file: file('c.csv', csv), target: 'customers', privacy });
    const [row] = await rows('SELECT email, first_name, name, extra FROM customers');
    expect(open(row!.email, 'traits.email')).toBe('a@example.org');
    expect(open(row!.name, 'traits.name')).toBe('Ann Lee');
    const extra = JSON.parse(String(row!.extra)) as Record<string, unknown>;
    expect(open(extra.loyalty_card, 'traits.loyalty_card')).toBe('LC-991');
    expect(extra.tier).toBe('gold');
    expect(privacy.vault.isKeyOf(String(row!.email).slice(5, 27), { type: 'user_id', value: 'c1' })).toBe(
      true,
    );
  });

  it('keys an order line without a customer by its email, and refuses one with neither', async () => {
    const csv = [
      'order_id,ordered_at,customer_id,email,loyalty_card',
      'o1,2024-01-01,,Guest@Example.org,',
      'o2,2024-01-01,,,LC-5',
      '',
    ].join('\n');
    const report = await runImport(store, { file: file('o.csv', csv), target: 'orders', privacy });
    expect(report).toMatchObject({ imported: 1, rejected: 1 });
    expect(report.sampleRejects[0]).toMatchObject({ line: 3, field: 'extra' });
    expect(report.sampleRejects[0]!.reason).toContain('customer_id');
    expect(report.sampleRejects[0]!.row).not.toContain('LC-5');
    const [row] = await rows('SELECT email FROM orders');
    const hash = privacy.identifiers.email('guest@example.org')!;
    expect(
      privacy.vault.isKeyOf(String(row!.email).slice(5, 27), { type: 'anonymous_id', value: hash }),
    ).toBe(true);
    expect(open(row!.email, 'properties.email')).toBe('Guest@Example.org');
  });

  it('finds the customers an erasure of an email must reach by the keyed hash kept beside the sealed email', async () => {
    await runImport(store, {
      file: file('c.csv', 'customer_id,email\nc1,Ann@Example.org\nc2,bo@example.org\n'),
      target: 'customers',
      privacy,
    });
    await runImport(store, {
      file: file('o.csv', 'order_id,ordered_at,customer_id,email\no1,2024-01-01,c3,ann@example.org\n'),
      target: 'orders',
      privacy,
    });
    const hash = privacy.identifiers.email('ann@example.org')!;
    expect(await store.imports.customerIdsOfEmails([hash])).toEqual(['c1', 'c3']);
    expect(await store.imports.customerIdsOfEmails([])).toEqual([]);
  });

  it('seals imported events as the collector does, unmapped columns included', async () => {
    const ndjson = [
      JSON.stringify({
        type: 'identify',
        user_id: 'u1',
        timestamp: '2024-01-01T00:00:00Z',
        traits: { email: 'u1@example.org', plan: 'pro' },
        phone: '+44 20 7946 0000',
      }),
      JSON.stringify({
        type: 'track',
        anonymous_id: 'a1',
        event: 'Order Completed',
        timestamp: '2024-01-01T00:00:00Z',
        properties: { email: 'a1@example.org', total: 5 },
      }),
      '',
    ].join('\n');
    await runImport(store, { file: file('e.ndjson', ndjson), target: 'events', privacy });
    const [identify, track] = await rows('SELECT traits, properties FROM events ORDER BY type');
    const traits = JSON.parse(String(identify!.traits)) as Record<string, unknown>;
    expect(open(traits.email, 'traits.email')).toBe('u1@example.org');
    expect(open(traits.phone, 'traits.phone')).toBe('+44 20 7946 0000');
    expect(traits.plan).toBe('pro');
    const properties = JSON.parse(String(track!.properties)) as Record<string, unknown>;
    expect(open(properties.email, 'properties.email')).toBe('a1@example.org');
    expect(properties.total).toBe(5);
  });

  it('never quotes a personal value in the reason a contract refuses a row with', async () => {
    const contract = `apiVersion: v3.1.0
kind: DataContract
id: people
version: 1.0.0
status: active
customProperties:
  - property: refinery.mode
    value: enforce
schema:
  - name: customers
    physicalType: table
    properties:
      - name: loyalty_card
        logicalType: string
        logicalTypeOptions:
          pattern: "^LC-"
`;
    const contracts = new ContractSet([readContract(parseOdcsText(contract, 'people.odcs.yaml'))], 'allow');
    // loyalty_card is personal by this workspace's settings, which the contract knows nothing of.
    const csv = 'customer_id,loyalty_card\nc1,XQ-4471\n';
    const report = await runImport(store, {
      file: file('p.csv', csv),
      target: 'customers',
      privacy,
      contracts,
    });
    expect(report.rejected).toBe(1);
    expect(report.sampleRejects[0]!.reason).toContain('loyalty_card');
    expect(JSON.stringify(report.sampleRejects)).not.toContain('XQ-4471');
  });
});

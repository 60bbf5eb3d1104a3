import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isRefineryError, type RefineryError } from '../../core/errors.js';
import { encryptField, isEnvelope } from './field-envelope.js';
import {
  DEFAULT_PERSONAL_FIELDS,
  messageSubject,
  protectMessage,
  revealMessage,
  revealValue,
  validatePersonalFieldsConfig,
} from './personal-fields.js';
import { SubjectKeyVault } from './subject-key-vault.js';
import { VAULT_ERROR_CODES } from './vault-errors.js';

let dataDir: string;
let masterKey: Buffer;
const vaults: SubjectKeyVault[] = [];

async function openVault(): Promise<SubjectKeyVault> {
  const vault = await SubjectKeyVault.open({
    dataDir,
    masterKey,
    now: () => Date.parse('2026-03-10T12:00:00Z'),
  });
  vaults.push(vault);
  return vault;
}

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'refinery-personal-'));
  masterKey = randomBytes(32);
});

afterEach(async () => {
  for (const vault of vaults.splice(0)) await vault.close();
  rmSync(dataDir, { recursive: true, force: true });
});

function configError(input: unknown): RefineryError {
  try {
    validatePersonalFieldsConfig(input);
  } catch (error) {
    if (isRefineryError(error)) return error;
    throw error;
  }
  throw new Error('expected the personal field settings to be refused');
}

const identify = {
  type: 'identify',
  userId: 'user-ada-1815',
  anonymousId: 'anon-visitor-77',
  traits: {
    email: 'ada@example.com',
    name: 'Ada Lovelace',
    plan: 'pro',
    address: { street: '1 Bakery Lane', city: 'Bath' },
  },
  context: { ip: '203.0.113.9', traits: { Phone: '+44 20 7946 0000' }, library: { name: 'analytics.js' } },
};

const productViewed = {
  type: 'track',
  event: 'Product Viewed',
  anonymousId: 'anon-visitor-77',
  properties: { product_id: 'p-1', name: 'Sourdough loaf', price: 4.5, currency: 'GBP' },
  context: { page: { path: '/loaves' }, library: { name: 'analytics.js', version: '2.0.0' } },
};

describe('validatePersonalFieldsConfig', () => {
  it('covers Segment’s reserved personal traits by default', () => {
    expect(DEFAULT_PERSONAL_FIELDS.traits.list).toEqual(
      [
        'address',
        'birthday',
        'email',
        'first_name',
        'firstname',
        'ip',
        'last_name',
        'lastname',
        'name',
        'phone',
        'username',
      ].sort(),
    );
  });

  it('does not count a page’s or product’s name, or an ip, as personal in properties', () => {
    expect(DEFAULT_PERSONAL_FIELDS.properties.has('name')).toBe(false);
    expect(DEFAULT_PERSONAL_FIELDS.properties.has('ip')).toBe(false);
    expect(DEFAULT_PERSONAL_FIELDS.properties.has('email')).toBe(true);
  });

  it('adds the names given to the defaults, in traits and properties, ignoring case', () => {
    const fields = validatePersonalFieldsConfig(['loyaltyCardNumber', 'shipping_address']);
    for (const section of [fields.traits, fields.properties]) {
      expect(section.has('LOYALTYCARDNUMBER')).toBe(true);
      expect(section.has('loyaltycardnumber')).toBe(true);
      expect(section.has('shipping_address')).toBe(true);
      expect(section.has('email')).toBe(true);
      expect(section.has('plan')).toBe(false);
    }
  });

  it('treats no setting as the defaults', () => {
    expect(validatePersonalFieldsConfig(undefined).traits.list).toEqual(DEFAULT_PERSONAL_FIELDS.traits.list);
    expect(validatePersonalFieldsConfig(null).properties.list).toEqual(
      DEFAULT_PERSONAL_FIELDS.properties.list,
    );
  });

  it('refuses a setting that is not a list', () => {
    const error = configError({ email: true });
    expect(error.code).toBe('REFINERY_ERR_CONFIG_INVALID');
    expect(error.details.field).toBe('privacy.personalFields');
  });

  it('reports every bad name at once with its path', () => {
    const error = configError(['ok', 7, '', 'shipping.street', ' padded', 'OK']);
    expect(error.code).toBe('REFINERY_ERR_CONFIG_INVALID');
    expect(error.details.field).toBe('privacy.personalFields[1]');
    expect(error.details.problems).toEqual([
      expect.stringMatching(/^privacy\.personalFields\[1\] is 7/),
      expect.stringMatching(/^privacy\.personalFields\[2\] is ""/),
      expect.stringMatching(/^privacy\.personalFields\[3\] is "shipping\.street".*not a path/),
      expect.stringMatching(/^privacy\.personalFields\[4\] is " padded"/),
      expect.stringMatching(/^privacy\.personalFields\[5\] repeats "ok"/),
    ]);
  });
});

describe('messageSubject', () => {
  it('is the userId when present, else the anonymousId', () => {
    expect(messageSubject({ userId: 'u1', anonymousId: 'a1' })).toEqual({ type: 'user_id', value: 'u1' });
    expect(messageSubject({ userId: '  ', anonymousId: 'a1' })).toEqual({
      type: 'anonymous_id',
      value: 'a1',
    });
    expect(messageSubject({ userId: 42 })).toEqual({ type: 'user_id', value: '42' });
    expect(messageSubject({ userId: null, anonymousId: null })).toBeUndefined();
  });
});

describe('protectMessage', () => {
  it('seals personal traits under the user’s key and reveals them back', async () => {
    const vault = await openVault();
    const original = structuredClone(identify);
    const { message, changed, subject } = await protectMessage(identify, vault, DEFAULT_PERSONAL_FIELDS);
    expect(changed).toBe(true);
    expect(subject).toEqual({ type: 'user_id', value: 'user-ada-1815' });
    expect(identify).toEqual(original);

    expect(message.traits.plan).toBe('pro');
    for (const value of [message.traits.email, message.traits.name, message.traits.address]) {
      expect(isEnvelope(value)).toBe(true);
    }
    expect(isEnvelope(message.context.traits.Phone)).toBe(true);
    expect(message.context.ip).toBe('203.0.113.9');
    expect(message.context.library).toBe(identify.context.library);

    const json = JSON.stringify(message);
    for (const clear of ['ada@example.com', 'Lovelace', 'Bakery', '7946']) expect(json).not.toContain(clear);

    const revealed = await revealMessage(message, vault);
    expect(revealed).toEqual({ value: identify, shredded: [] });
  });

  it('returns a track call with no personal field as the same object and creates no key', async () => {
    const vault = await openVault();
    const result = await protectMessage(productViewed, vault, DEFAULT_PERSONAL_FIELDS);
    expect(result.message).toBe(productViewed);
    expect(result.changed).toBe(false);
    expect(vault.size).toBe(0);
  });

  it('leaves a message without a subject unchanged and creates no key', async () => {
    const vault = await openVault();
    const orphan = { type: 'identify', traits: { email: 'ada@example.com' } };
    const result = await protectMessage(orphan, vault, DEFAULT_PERSONAL_FIELDS);
    expect(result).toEqual({ message: orphan, changed: false, subject: undefined });
    expect(result.message).toBe(orphan);
    expect(vault.size).toBe(0);
  });

  it('leaves null personal fields alone', async () => {
    const vault = await openVault();
    const message = { userId: 'u1', traits: { email: null, plan: 'pro' } };
    expect((await protectMessage(message, vault, DEFAULT_PERSONAL_FIELDS)).message).toBe(message);
  });

  it('finds personal fields at any depth of properties, and copies only what it changes', async () => {
    const vault = await openVault();
    const order = {
      userId: 'u1',
      properties: {
        order_id: 'o-9',
        products: [
          { sku: 'loaf', name: 'Sourdough' },
          { sku: 'gift', name: 'Gift card', recipient: { Email: 'bob@example.com', first_name: 'Bob' } },
        ],
        shipping: { method: 'courier', address: { city: 'Bath' } },
      },
    };
    const { message } = await protectMessage(order, vault, DEFAULT_PERSONAL_FIELDS);
    const [loaf, gift] = message.properties.products;
    expect(loaf).toBe(order.properties.products[0]);
    expect(gift!.name).toBe('Gift card');
    expect(isEnvelope(gift!.recipient!.Email)).toBe(true);
    expect(isEnvelope(gift!.recipient!.first_name)).toBe(true);
    expect(isEnvelope(message.properties.shipping.address)).toBe(true);
    expect(message.properties.shipping.method).toBe('courier');
    expect((await revealMessage(message, vault)).value).toEqual(order);
  });

  it('never seals a value twice', async () => {
    const vault = await openVault();
    const once = await protectMessage(identify, vault, DEFAULT_PERSONAL_FIELDS);
    const twice = await protectMessage(once.message, vault, DEFAULT_PERSONAL_FIELDS);
    expect(twice.message).toBe(once.message);
    expect(twice.changed).toBe(false);
    expect(vault.size).toBe(1);
  });

  it('seals a client’s string that merely looks like an envelope, so it cannot pass for one', async () => {
    const vault = await openVault();
    const bobsEnvelope = encryptField(
      'bob@example.com',
      await vault.keyFor({ type: 'user_id', value: 'bob' }),
      'traits.email',
    );
    const forged = { userId: 'mallory', traits: { email: bobsEnvelope } };
    const { message } = await protectMessage(forged, vault, DEFAULT_PERSONAL_FIELDS);
    expect(message.traits.email).not.toBe(bobsEnvelope);
    const revealed = await revealMessage(message, vault);
    expect(revealed.value.traits.email).toBe(bobsEnvelope);
  });

  it('uses the anonymous id’s key for a visitor not yet identified', async () => {
    const vault = await openVault();
    const visitor = { anonymousId: 'anon-visitor-77', context: { traits: { email: 'ada@example.com' } } };
    const { subject } = await protectMessage(visitor, vault, DEFAULT_PERSONAL_FIELDS);
    expect(subject).toEqual({ type: 'anonymous_id', value: 'anon-visitor-77' });
  });
});

describe('revealing after erasure', () => {
  it('turns shredded fields into null and reports them, also in a vault opened afterwards', async () => {
    const vault = await openVault();
    const { message } = await protectMessage(identify, vault, DEFAULT_PERSONAL_FIELDS);
    await vault.shred([{ type: 'user_id', value: 'user-ada-1815' }]);

    for (const reader of [vault, await openVault()]) {
      const { value, shredded } = await revealMessage(message, reader);
      expect(value.traits).toEqual({ email: null, name: null, plan: 'pro', address: null });
      expect(value.context.traits).toEqual({ Phone: null });
      expect(shredded).toEqual(['traits.email', 'traits.name', 'traits.address', 'traits.Phone']);
    }
  });

  it('refuses a sealed value moved to another field', async () => {
    const vault = await openVault();
    const { message } = await protectMessage(identify, vault, DEFAULT_PERSONAL_FIELDS);
    const moved = { properties: { email: message.traits.email } };
    await expect(revealMessage(moved, vault)).rejects.toMatchObject({
      code: VAULT_ERROR_CODES.envelopeTampered,
      details: { field: 'properties.email' },
    });
  });

  it('opens context.traits stored in the traits column, as the store does for RudderStack identify calls', async () => {
    const vault = await openVault();
    const rudder = { userId: 'u1', context: { traits: { email: 'ada@example.com' } } };
    const { message } = await protectMessage(rudder, vault, DEFAULT_PERSONAL_FIELDS);
    const column = message.context.traits;
    expect((await revealValue(column, vault, 'traits')).value).toEqual({ email: 'ada@example.com' });
  });

  it('opens values sealed by another process with keys created after this vault was opened', async () => {
    const reader = await openVault();
    const writer = await openVault();
    const { message } = await protectMessage(identify, writer, DEFAULT_PERSONAL_FIELDS);
    const { value, shredded } = await revealValue(message.traits, reader, 'traits');
    expect(value).toEqual(identify.traits);
    expect(shredded).toEqual([]);
  });

  it('returns a value without envelopes as the same object', async () => {
    const vault = await openVault();
    expect((await revealValue(productViewed.properties, vault, 'properties')).value).toBe(
      productViewed.properties,
    );
  });
});

import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isRefineryError, type RefineryError } from '../../core/errors.js';
import { loadMasterKey, MASTER_KEY_VARIABLE, masterKeyPath, parseMasterKey } from './master-key.js';
import { VAULT_ERROR_CODES } from './vault-errors.js';

let dataDir: string;

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'refinery-master-key-'));
});

afterEach(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

function refusal(run: () => unknown): RefineryError {
  try {
    run();
  } catch (error) {
    if (isRefineryError(error)) return error;
    throw error;
  }
  throw new Error('expected a RefineryError');
}

describe('loadMasterKey', () => {
  it('creates a 32-byte key file on first use and returns the same key afterwards', () => {
    const first = loadMasterKey({ dataDir });
    expect(first).toMatchObject({ source: 'file', created: true, file: masterKeyPath(dataDir) });
    expect(first.key).toHaveLength(32);
    expect(readFileSync(masterKeyPath(dataDir))).toEqual(first.key);

    const second = loadMasterKey({ dataDir });
    expect(second.created).toBe(false);
    expect(second.key).toEqual(first.key);
  });

  it.skipIf(process.platform === 'win32')('keeps the key file at mode 0600 in a folder at mode 0700', () => {
    loadMasterKey({ dataDir });
    expect(statSync(masterKeyPath(dataDir)).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, 'secrets')).mode & 0o777).toBe(0o700);
  });

  it('leaves no temporary file next to the key', () => {
    loadMasterKey({ dataDir });
    expect(readdirSync(join(dataDir, 'secrets'))).toEqual(['master.key']);
  });

  it('never replaces an existing key file', () => {
    const existing = randomBytes(32);
    mkdirSync(join(dataDir, 'secrets'));
    writeFileSync(masterKeyPath(dataDir), existing, { mode: 0o600 });
    const loaded = loadMasterKey({ dataDir });
    expect(loaded).toMatchObject({ source: 'file', created: false });
    expect(loaded.key).toEqual(existing);
    expect(readFileSync(masterKeyPath(dataDir))).toEqual(existing);
  });

  it('prefers REFINERY_MASTER_KEY over the file and creates no file', () => {
    const key = randomBytes(32);
    const loaded = loadMasterKey({ dataDir, fromEnvironment: key.toString('base64') });
    expect(loaded).toMatchObject({ source: 'environment', created: false, file: undefined });
    expect(loaded.key).toEqual(key);
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it('treats an empty REFINERY_MASTER_KEY as unset', () => {
    expect(loadMasterKey({ dataDir, fromEnvironment: '' }).source).toBe('file');
  });

  it.each([
    ['too short', randomBytes(16).toString('base64')],
    ['too long', randomBytes(33).toString('base64')],
    ['not base64', `${'*'.repeat(43)}=`],
    ['hex rather than base64', randomBytes(32).toString('hex')],
  ])('refuses a REFINERY_MASTER_KEY that is %s', (_, value) => {
    const error = refusal(() => loadMasterKey({ dataDir, fromEnvironment: value }));
    expect(error.code).toBe(VAULT_ERROR_CODES.masterKeyInvalid);
    expect(error.details.field).toBe(MASTER_KEY_VARIABLE);
    expect(error.message).not.toContain(value);
  });

  it('accepts a base64url key and surrounding whitespace', () => {
    const key = randomBytes(32);
    expect(parseMasterKey(`  ${key.toString('base64url')}\n`)).toEqual(key);
  });

  it('refuses a key file of the wrong size rather than replacing it', () => {
    mkdirSync(join(dataDir, 'secrets'));
    writeFileSync(masterKeyPath(dataDir), 'not a key\n');
    const error = refusal(() => loadMasterKey({ dataDir }));
    expect(error.code).toBe(VAULT_ERROR_CODES.masterKeyInvalid);
    expect(readFileSync(masterKeyPath(dataDir), 'utf8')).toBe('not a key\n');
  });
});

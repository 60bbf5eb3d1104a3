import { describe, expect, it } from 'vitest';
import { API_KEY_KINDS } from '../store/store.js';
import {
  can,
  isPermission,
  KIND_SUMMARIES,
  PERMISSIONS,
  ROLE_PERMISSIONS,
  rolesWith,
  seesPersonalData,
} from './roles.js';

describe('the roles table', () => {
  it('lets a write key collect and do nothing else', () => {
    expect(PERMISSIONS.filter((permission) => can('write', permission))).toEqual(['collect']);
  });

  it('lets only write keys collect', () => {
    expect(rolesWith('collect')).toEqual(['write']);
  });

  it('gives the admin every permission but collecting', () => {
    expect(PERMISSIONS.filter((permission) => !can('admin', permission))).toEqual(['collect']);
  });

  it('gives a read key analytics only', () => {
    expect(PERMISSIONS.filter((permission) => can('read', permission))).toEqual(['read:analytics']);
  });

  it('shows personal data to the admin and the privacy officer only', () => {
    expect(API_KEY_KINDS.filter(seesPersonalData)).toEqual(['admin', 'privacy']);
  });

  it('gives SQL and individual events only to roles that see personal data, since both expose it', () => {
    for (const permission of ['query', 'read:events'] as const) {
      for (const kind of rolesWith(permission))
        expect(seesPersonalData(kind), `${kind}: ${permission}`).toBe(true);
    }
  });

  it('grants every permission to some role and names only known permissions', () => {
    for (const permission of PERMISSIONS) expect(rolesWith(permission), permission).not.toEqual([]);
    for (const kind of API_KEY_KINDS) {
      for (const permission of ROLE_PERMISSIONS[kind]) expect(isPermission(permission)).toBe(true);
    }
  });

  it('describes every kind for help texts', () => {
    expect(Object.keys(KIND_SUMMARIES).sort()).toEqual([...API_KEY_KINDS].sort());
  });
});

describe('can', () => {
  it('refuses kinds it does not know, including prototype keys', () => {
    expect(can('superuser', 'read:analytics')).toBe(false);
    expect(can('constructor', 'read:analytics')).toBe(false);
    expect(can('', 'collect')).toBe(false);
    expect(seesPersonalData('toString')).toBe(false);
  });

  it('cannot be widened by changing the exported table at run time', () => {
    expect(Object.isFrozen(ROLE_PERMISSIONS)).toBe(true);
    expect(Object.isFrozen(ROLE_PERMISSIONS.read)).toBe(true);
    expect(() => (ROLE_PERMISSIONS.read as string[]).push('manage:keys')).toThrow(TypeError);
    expect(can('read', 'manage:keys')).toBe(false);
  });
});

describe('isPermission', () => {
  it('accepts the declared permissions and nothing else', () => {
    expect(isPermission('read:analytics')).toBe(true);
    expect(isPermission('public')).toBe(false);
    expect(isPermission('READ:ANALYTICS')).toBe(false);
    expect(isPermission(undefined)).toBe(false);
  });
});

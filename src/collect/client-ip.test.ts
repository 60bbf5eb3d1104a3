import { describe, expect, it } from 'vitest';
import { applyIpPolicy } from './client-ip.js';

describe('client IP policy', () => {
  it('keeps the address under "full", unwrapping IPv4-mapped IPv6', () => {
    expect(applyIpPolicy('::ffff:198.51.100.7', 'full')).toBe('198.51.100.7');
  });

  it('truncates IPv4 to /24 and IPv6 to /48', () => {
    expect(applyIpPolicy('203.0.113.77', 'truncate')).toBe('203.0.113.0');
    expect(applyIpPolicy('2001:db8:abcd:12::1', 'truncate')).toBe('2001:db8:abcd::');
    expect(applyIpPolicy('2001:db8::1', 'truncate')).toBe('2001:db8:0::');
  });

  it('drops the address under "drop" and refuses to truncate what is not an address', () => {
    expect(applyIpPolicy('203.0.113.77', 'drop')).toBeNull();
    expect(applyIpPolicy('not-an-ip', 'truncate')).toBeNull();
  });
});

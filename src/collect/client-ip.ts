import { isIPv4, isIPv6 } from 'node:net';
import type { IpHandling } from '../config/workspace-config.js';

/**
 * Applies the workspace's IP policy. `truncate` keeps the network part only (IPv4 /24, IPv6 /48),
 * enough for coarse geography but no longer pointing at one household.
 */
export function applyIpPolicy(ip: string | null | undefined, policy: IpHandling): string | null {
  if (!ip || policy === 'drop') return null;
  const address = ip.startsWith('::ffff:') && isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
  if (policy === 'full') return address;
  if (isIPv4(address)) return `${address.split('.').slice(0, 3).join('.')}.0`;
  if (isIPv6(address)) return `${expandIPv6(address).slice(0, 3).join(':')}::`;
  return null;
}

function expandIPv6(address: string): string[] {
  const [head = '', tail = ''] = address.split('::');
  const headParts = head ? head.split(':') : [];
  const tailParts = tail ? tail.split(':') : [];
  const missing = 8 - headParts.length - tailParts.length;
  return [...headParts, ...Array<string>(Math.max(0, missing)).fill('0'), ...tailParts].map(
    (part) => part.replace(/^0+(?=.)/, '') || '0',
  );
}

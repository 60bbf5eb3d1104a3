import { readdir, readFile, readlink, stat } from 'node:fs/promises';
import { isIPv4, isIPv6, type Socket } from 'node:net';
import { endianness } from 'node:os';

/** Who holds the other end of a connection, as the kernel says (Linux), when it is a process on this machine. */
export interface LocalPeer {
  readonly uid: number;
  /** The account name of `uid`, when /etc/passwd has one. */
  readonly user?: string;
  /** A process holding the socket, when this process may look at it (same user, or root). */
  readonly pid?: number;
  readonly command?: string;
}

/**
 * Finds the process at the other end of a TCP connection from this machine by reading the kernel's socket
 * tables (/proc/net/tcp and tcp6): the client's socket is listed there with the uid that owns it and its inode,
 * and the process is the one holding that inode among its file descriptors. Nothing here comes from the
 * client, so it cannot be claimed falsely; undefined when the client is elsewhere or this is not Linux.
 */
export async function findLocalPeer(socket: Socket): Promise<LocalPeer | undefined> {
  const client = endpointOf(socket.remoteAddress, socket.remotePort);
  const server = endpointOf(socket.localAddress, socket.localPort);
  if (!client || !server) return undefined;
  const entry = await findSocketEntry(client, server);
  if (!entry) return undefined;
  const [user, holder] = await Promise.all([userNameOf(entry.uid), processHolding(entry.inode, entry.uid)]);
  return {
    uid: entry.uid,
    ...(user ? { user } : {}),
    ...(holder ? { pid: holder.pid, command: holder.command } : {}),
  };
}

/** `uid 1000 (ada), pid 4242 (node)`: a peer as an audit entry names it. */
export function describeLocalPeer(peer: LocalPeer | undefined): string {
  if (!peer) return 'a client that is not a process on this machine';
  const user = `uid ${peer.uid}${peer.user ? ` (${peer.user})` : ''}`;
  const process =
    peer.pid === undefined ? 'pid unknown' : `pid ${peer.pid}${peer.command ? ` (${peer.command})` : ''}`;
  return `${user}, ${process}`;
}

interface Endpoint {
  /** The address as /proc/net/tcp* writes it, e.g. `0100007F:1F90` for 127.0.0.1:8080. */
  readonly text: string;
  readonly table: 'tcp' | 'tcp6';
}

function endpointOf(address: string | undefined, port: number | undefined): Endpoint | undefined {
  if (!address || port === undefined) return undefined;
  const portHex = port.toString(16).toUpperCase().padStart(4, '0');
  // A dual-stack server sees an IPv4 client as ::ffff:a.b.c.d; the client's own socket is an IPv4 one.
  const v4 = address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
  if (isIPv4(v4)) {
    return { text: `${wordsHex(v4.split('.').map(Number))}:${portHex}`, table: 'tcp' };
  }
  if (isIPv6(v4)) return { text: `${wordsHex(ipv6Bytes(v4))}:${portHex}`, table: 'tcp6' };
  return undefined;
}

/** The kernel prints an address as 32-bit words in host byte order. */
function wordsHex(bytes: readonly number[]): string {
  let text = '';
  for (let word = 0; word < bytes.length; word += 4) {
    const group = bytes.slice(word, word + 4);
    if (endianness() === 'LE') group.reverse();
    text += group.map((byte) => byte.toString(16).toUpperCase().padStart(2, '0')).join('');
  }
  return text;
}

function ipv6Bytes(address: string): number[] {
  const [head = '', tail = ''] = address.split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const left = groups(head);
  const right = groups(tail);
  const middle = address.includes('::') ? Array(8 - left.length - right.length).fill('0') : [];
  return [...left, ...middle, ...right].flatMap((group) => {
    const value = Number.parseInt(group, 16);
    return [value >> 8, value & 0xff];
  });
}

async function findSocketEntry(
  client: Endpoint,
  server: Endpoint,
): Promise<{ uid: number; inode: string } | undefined> {
  let table: string;
  try {
    table = await readFile(`/proc/net/${client.table}`, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of table.split('\n').slice(1)) {
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode …
    const fields = line.trim().split(/\s+/);
    if (fields[1] !== client.text || fields[2] !== server.text) continue;
    const uid = Number(fields[7]);
    const inode = fields[9];
    return Number.isInteger(uid) && inode && inode !== '0' ? { uid, inode } : undefined;
  }
  return undefined;
}

/** The first process of `uid` whose descriptors include socket `inode`; others' /proc/<pid>/fd are unreadable. */
async function processHolding(
  inode: string,
  uid: number,
): Promise<{ pid: number; command?: string } | undefined> {
  const link = `socket:[${inode}]`;
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return undefined;
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if ((await stat(`/proc/${name}`)).uid !== uid) continue;
      for (const fd of await readdir(`/proc/${name}/fd`)) {
        if ((await readlink(`/proc/${name}/fd/${fd}`).catch(() => '')) !== link) continue;
        const command = (await readFile(`/proc/${name}/comm`, 'utf8').catch(() => '')).trim();
        return { pid: Number(name), ...(command ? { command } : {}) };
      }
    } catch {
      // The process ended, or is not ours to look at.
    }
  }
  return undefined;
}

async function userNameOf(uid: number): Promise<string | undefined> {
  try {
    const passwd = await readFile('/etc/passwd', 'utf8');
    return passwd
      .split('\n')
      .map((line) => line.split(':'))
      .find((fields) => fields[2] === String(uid))?.[0];
  } catch {
    return undefined;
  }
}

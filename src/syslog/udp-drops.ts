import { readdir, readFile, readlink } from 'node:fs/promises';

/**
 * The kernel's count of datagrams it dropped for one of this process's UDP
 * sockets (its receive buffer was full): the `drops` column of
 * /proc/net/udp (udp6 for IPv6), on the line of the socket's inode. The
 * inode is the one among this process's descriptors (/proc/self/fd) bound
 * to the socket's local port, found once. Undefined where there is no
 * /proc (not Linux).
 */
export class UdpKernelDrops {
  private readonly port: number;
  private readonly ipv6: boolean;
  private inode: string | undefined;

  constructor(port: number, ipv6: boolean) {
    this.port = port;
    this.ipv6 = ipv6;
  }

  async read(): Promise<number | undefined> {
    let table: string;
    try {
      table = await readFile(this.ipv6 ? '/proc/net/udp6' : '/proc/net/udp', 'utf8');
    } catch {
      return undefined;
    }
    const rows = table.split('\n').slice(1).map((line) => line.trim().split(/\s+/)).filter((cols) => cols.length >= 13);
    const port = this.port.toString(16).toUpperCase().padStart(4, '0');
    const candidates = rows.filter((cols) => cols[1]!.endsWith(`:${port}`));
    if (this.inode === undefined || !candidates.some((cols) => cols[9] === this.inode)) this.inode = await ownSocketInode(candidates.map((cols) => cols[9]!));
    const row = candidates.find((cols) => cols[9] === this.inode);
    return row ? Number(row[12]) : undefined;
  }
}

/** The one of `inodes` that is a socket this process holds open. */
async function ownSocketInode(inodes: string[]): Promise<string | undefined> {
  if (inodes.length === 0) return undefined;
  const wanted = new Set(inodes.map((inode) => `socket:[${inode}]`));
  let fds: string[];
  try {
    fds = await readdir('/proc/self/fd');
  } catch {
    return undefined;
  }
  for (const fd of fds) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
    if (wanted.has(target)) return target.slice('socket:['.length, -1);
  }
  return undefined;
}

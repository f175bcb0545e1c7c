import type { Stats } from 'node:fs';

/**
 * A file's identity: device + inode (what stays when logrotate renames a
 * file, and changes when a new file is created at the old path) plus the
 * fingerprint of its first line (what tells a new file that reuses a freed
 * inode, or a truncated and rewritten one, from the old content).
 * `<dev>:<ino>:<fingerprint>` keys checkpoints and prefixes record ids.
 */
export function identityKey(stats: Pick<Stats, 'dev' | 'ino'>, fingerprint: string): string {
  return `${stats.dev}:${stats.ino}:${fingerprint}`;
}

/** Whether `stats` is the same inode as the one `key` was made from. */
export function sameInode(key: string, stats: Pick<Stats, 'dev' | 'ino'>): boolean {
  return key.startsWith(`${stats.dev}:${stats.ino}:`);
}

/** `<dev>:<ino>` of a key. */
export function inodeOf(key: string): string {
  return key.slice(0, key.lastIndexOf(':'));
}

/** `<dev>:<ino>` of a stat result. */
export function inodeOfStats(stats: Pick<Stats, 'dev' | 'ino'>): string {
  return `${stats.dev}:${stats.ino}`;
}

/** The first-line fingerprint of a key. */
export function fingerprintOfKey(key: string): string {
  return key.slice(key.lastIndexOf(':') + 1);
}

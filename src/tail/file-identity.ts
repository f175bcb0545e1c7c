import type { Stats } from 'node:fs';

/**
 * Device + inode: what stays the same when logrotate renames a file and
 * changes when a new file is created at the old path.
 */
export function fileKey(stats: Pick<Stats, 'dev' | 'ino'>): string {
  return `${stats.dev}:${stats.ino}`;
}

import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Stats } from 'node:fs';
import { sameInode } from './file-identity.ts';
import { readFingerprint } from './fingerprint.ts';

export interface RotatedCopy {
  path: string;
  handle: FileHandle;
  stats: Stats;
}

/** logrotate names copies after the file: access.log.1, access.log-20261122, access.log.1.gz (whose content differs). */
export function isCopyName(original: string, candidate: string): boolean {
  return dirname(candidate) === dirname(original) && basename(candidate).startsWith(basename(original)) && candidate !== original;
}

/**
 * After copytruncate, the lines of `original` not read yet survive only in
 * the copy logrotate made just before truncating. The copy is the file
 * beside it, named after it, that starts with the same first line (same
 * fingerprint) and is at least `minSize` bytes long. Returns it opened, or
 * undefined (compressed at once, moved to an olddir, or not there).
 */
export async function findRotatedCopy(original: string, key: string, fingerprint: string, minSize: number, fingerprintBytes: number): Promise<RotatedCopy | undefined> {
  const dir = dirname(original);
  const names = await readdir(dir).catch(() => [] as string[]);
  const candidates: { path: string; stats: Stats }[] = [];
  for (const name of names) {
    const path = join(dir, name);
    if (!isCopyName(original, path)) continue;
    const stats = await stat(path).catch(() => undefined);
    if (stats?.isFile() && stats.size >= minSize && !sameInode(key, stats)) candidates.push({ path, stats });
  }
  candidates.sort((a, b) => b.stats.mtimeMs - a.stats.mtimeMs); // the newest copy is the one just made
  for (const { path } of candidates) {
    const handle = await open(path, 'r').catch(() => undefined);
    if (!handle) continue;
    if ((await readFingerprint(handle, fingerprintBytes)) === fingerprint) return { path, handle, stats: await handle.stat() };
    await handle.close();
  }
  return undefined;
}

/**
 * Finding a file again by its identity after rotation moved it while it
 * was not followed (the agent was down, or had released it): renamed to any
 * name in its directory, or copied (copytruncate) to a new inode that
 * starts with the same first line. Pure lookups: what to do with the answer
 * is the tailer's (resume.ts decides).
 */
import type { Stats } from 'node:fs';
import { open, readdir, realpath, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fingerprintOfKey, inodeOfStats, sameInode } from './identity.ts';
import { readFingerprint } from './fingerprint.ts';

export interface Located {
  path: string;
  /** Open on the file (the caller closes it or keeps it to read). */
  handle: FileHandle;
  /** From the descriptor, after the fingerprint was checked. */
  stats: Stats;
}

/** found: the file, open; gone: it is nowhere to be found; unknown: its directory could not be read now. */
export type LocateResult = { found: Located } | { gone: true } | { unknown: string };

interface Entry {
  path: string;
  stats: Stats;
}

/**
 * Directory listings (with a stat of each entry) for one pass: a pass looks
 * for several files in few directories, and a directory is read once.
 */
export class Listings {
  private readonly dirs = new Map<string, Promise<Entry[] | string>>();

  /** The regular files in `dir`, [] when it does not exist, or the error text when it cannot be read. */
  list(dir: string): Promise<Entry[] | string> {
    let listing = this.dirs.get(dir);
    if (!listing) {
      listing = readEntries(dir);
      this.dirs.set(dir, listing);
    }
    return listing;
  }
}

async function readEntries(dir: string): Promise<Entry[] | string> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? [] : `cannot list ${dir}: ${(err as Error).message}`;
  }
  const entries: Entry[] = [];
  for (const name of names) {
    const path = join(dir, name);
    const stats = await stat(path).catch(() => undefined);
    if (stats?.isFile()) entries.push({ path, stats });
  }
  return entries;
}

/**
 * Where a file last seen at `path` may have been renamed or copied: its own
 * directory, and, when `path` is a symlink (Kubernetes' /var/log/containers),
 * the directory of the file it points to, with that file's name.
 */
async function placesOf(path: string): Promise<{ dir: string; name: string }[]> {
  const places = [{ dir: dirname(path), name: basename(path) }];
  const real = await realpath(path).catch(() => undefined);
  if (real && real !== path) places.push({ dir: dirname(real), name: basename(real) });
  return places;
}

/** Whether an open file still starts with the first line the identity `key` was made from (throws when it cannot be read). */
export async function startsWithLineOf(handle: FileHandle, key: string, fingerprintBytes: number): Promise<boolean> {
  return (await readFingerprint(handle, fingerprintBytes)) === fingerprintOfKey(key);
}

export type IdentityAt = { kind: 'same'; located: Located } | { kind: 'rewritten' | 'other' } | { kind: 'unreadable'; error: NodeJS.ErrnoException };

/**
 * What the file at `path` is to the identity `key` now: that file (returned
 * open), its inode with another first line (truncated and rewritten),
 * another file, or not readable now (with the error: ENOENT, EMFILE, EIO...).
 */
export async function identityAt(path: string, key: string, fingerprintBytes: number): Promise<IdentityAt> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    return { kind: 'unreadable', error: err as NodeJS.ErrnoException };
  }
  let at: IdentityAt;
  try {
    const stats = await handle.stat();
    if (!sameInode(key, stats)) at = { kind: 'other' };
    else if (await startsWithLineOf(handle, key, fingerprintBytes)) return { kind: 'same', located: { path, handle, stats } };
    else at = { kind: 'rewritten' };
  } catch (err) {
    at = { kind: 'unreadable', error: err as NodeJS.ErrnoException };
  }
  await handle.close().catch(() => undefined);
  return at;
}

/** Opens `path` if it is still the file `key` names (inode and first line). */
async function openIfIdentity(path: string, key: string, fingerprintBytes: number): Promise<Located | undefined> {
  const at = await identityAt(path, key, fingerprintBytes);
  return at.kind === 'same' ? at.located : undefined;
}

/**
 * Finds the file `key` names, last seen at `lastPath`: there, or renamed
 * within its directory. A file whose inode is found with another first line
 * was truncated and rewritten (copytruncate): its old content is not there
 * any more, so it counts as gone (see findCopy).
 */
export async function locate(key: string, lastPath: string, listings: Listings, fingerprintBytes: number): Promise<LocateResult> {
  const here = await stat(lastPath).catch(() => undefined);
  if (here && sameInode(key, here)) {
    const found = await openIfIdentity(lastPath, key, fingerprintBytes);
    if (found) return { found };
  }
  for (const { dir } of await placesOf(lastPath)) {
    const entries = await listings.list(dir);
    if (typeof entries === 'string') return { unknown: entries };
    for (const entry of entries) {
      if (!sameInode(key, entry.stats) || entry.path === lastPath) continue;
      const found = await openIfIdentity(entry.path, key, fingerprintBytes);
      if (found) return { found };
    }
  }
  return { gone: true };
}

/** Whether `candidate` is named as logrotate names a rotated `original` in its directory: access.log.1, access.log-20261122. */
export function isRotatedName(original: string, candidate: string): boolean {
  return candidate !== original && dirname(candidate) === dirname(original) && basename(candidate).startsWith(basename(original));
}

/**
 * Whether `candidate` may be a copy logrotate made of `original`: the same
 * directory, and a name that starts with the original's name up to its first
 * dot (access.log.1, access.log-20261122, access-20261122.log for
 * access.log). Only these are opened: a directory of thousands of logs is
 * not read through at every rotation.
 */
export function mayBeCopyOf(original: string, candidate: string): boolean {
  if (candidate === original || dirname(candidate) !== dirname(original)) return false;
  const name = basename(original);
  const dot = name.indexOf('.', 1);
  return basename(candidate).startsWith(dot > 0 ? name.slice(0, dot) : name);
}

/**
 * The copy (copytruncate) of the file `key` names, last seen at `lastPath`:
 * another inode beside it, named after it, that starts with the same first
 * line. Of several, the newest. Returns it open, or undefined (compressed
 * at once, moved to an olddir, or not made).
 */
export async function findCopy(key: string, lastPath: string, listings: Listings, fingerprintBytes: number, skip: (inode: string) => boolean): Promise<Located | undefined> {
  const candidates: Entry[] = [];
  for (const { dir, name } of await placesOf(lastPath)) {
    const entries = await listings.list(dir);
    if (typeof entries === 'string') continue;
    const original = join(dir, name);
    for (const entry of entries) {
      if (sameInode(key, entry.stats) || skip(inodeOfStats(entry.stats)) || !mayBeCopyOf(original, entry.path)) continue;
      candidates.push(entry);
    }
  }
  candidates.sort((a, b) => b.stats.mtimeMs - a.stats.mtimeMs);
  for (const { path } of candidates) {
    const handle = await open(path, 'r').catch(() => undefined);
    if (!handle) continue;
    try {
      if (await startsWithLineOf(handle, key, fingerprintBytes)) return { path, handle, stats: await handle.stat() };
    } catch {
      // Unreadable: not a copy this pass can use.
    }
    await handle.close().catch(() => undefined);
  }
  return undefined;
}

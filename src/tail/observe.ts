/**
 * Looking at a followed file for rotation.ts: its size, whether it still
 * starts with its first line, and what its path holds now. The I/O half of
 * the check; the decision is rotation.ts's.
 */
import { stat } from 'node:fs/promises';
import { sameInode } from './identity.ts';
import { identityAt, startsWithLineOf } from './locate.ts';
import type { FileObservation } from './rotation.ts';
import type { TailedFile } from './tailed-file.ts';

export type Looked = Pick<FileObservation, 'size' | 'readOffset' | 'sameContent' | 'atPath'>;

/**
 * Whether the file still starts with the first line it had (a copytruncate
 * that regrew past its reader does not); undefined when it cannot be told
 * now (its descriptor closed meanwhile for the budget): nothing may be
 * concluded, or remembered, from that.
 */
export async function keepsItsFirstLine(file: TailedFile, fingerprintBytes: number): Promise<boolean | undefined> {
  const handle = file.handle;
  if (!handle) return undefined;
  return startsWithLineOf(handle, file.key, fingerprintBytes).catch(() => undefined);
}

/** The same for a file closed for the descriptor budget, read by its path (undefined: another inode there now, or unreadable). */
async function startsWithItsFirstLine(path: string, key: string, fingerprintBytes: number): Promise<boolean | undefined> {
  const at = await identityAt(path, key, fingerprintBytes);
  if (at.kind === 'same') await at.located.handle.close().catch(() => undefined);
  return at.kind === 'same' ? true : at.kind === 'rewritten' ? false : undefined;
}

/**
 * What `file` looks like now; 'moved' for a file closed for the descriptor
 * budget whose path holds another file or none; undefined when its
 * descriptor cannot be stat'ed (looked at again at the next poll).
 */
export async function lookAt(file: TailedFile, fingerprintBytes: number): Promise<Looked | 'moved' | undefined> {
  // Taken before the size: a read that completes while the stat is under way cannot make the file look shorter than what was read.
  const readOffset = file.readOffset;
  if (!file.handle) {
    const current = await stat(file.path).catch(() => undefined);
    if (!current || !sameInode(file.key, current)) return 'moved';
    // Closed for the descriptor budget: its first line is read by path, and only when size or mtime changed.
    const sameContent = await firstLineCheck(file, current, () => startsWithItsFirstLine(file.path, file.key, fingerprintBytes));
    return { size: current.size, readOffset, sameContent, atPath: 'this' };
  }
  const stats = await file.handle.stat().catch(() => undefined);
  if (!stats) return undefined;
  const sameContent = await firstLineCheck(file, stats, () => keepsItsFirstLine(file, fingerprintBytes));
  let atPath: Looked['atPath'] = 'unchecked';
  if (!file.detached) {
    const current = await stat(file.path).catch(() => undefined);
    atPath = !current ? 'none' : sameInode(file.key, current) ? 'this' : 'other';
  }
  return { size: stats.size, readOffset, sameContent, atPath };
}

/**
 * Unchanged size and mtime since the last check that could tell: the first
 * line is what it was (no read of it for an idle file). A check that could
 * not tell is not remembered, so the next one reads the first line again.
 */
async function firstLineCheck(file: TailedFile, now: { size: number; mtimeMs: number }, check: () => Promise<boolean | undefined>): Promise<boolean> {
  if (now.size === file.checkedSize && now.mtimeMs === file.checkedMtimeMs) return true;
  const same = await check();
  if (same === undefined) return true;
  file.checkedSize = now.size;
  file.checkedMtimeMs = now.mtimeMs;
  return same;
}

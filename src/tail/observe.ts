/**
 * Looking at a followed file for rotation.ts: its size, whether it still
 * starts with its first line, and what its path holds now. The I/O half of
 * the check; the decision is rotation.ts's.
 */
import { stat } from 'node:fs/promises';
import { fingerprintOfKey, sameInode } from './identity.ts';
import { readFingerprint } from './fingerprint.ts';
import type { FileObservation } from './rotation.ts';
import type { TailedFile } from './tailed-file.ts';

export type Looked = Pick<FileObservation, 'size' | 'readOffset' | 'sameContent' | 'atPath'>;

/** Whether the file still starts with the first line it had (a copytruncate that regrew past its reader does not). */
export async function keepsItsFirstLine(file: TailedFile, fingerprintBytes: number): Promise<boolean> {
  if (!file.handle) return true;
  return (await readFingerprint(file.handle, fingerprintBytes)) === fingerprintOfKey(file.key);
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
    return { size: current.size, readOffset, sameContent: true, atPath: 'this' };
  }
  const stats = await file.handle.stat().catch(() => undefined);
  if (!stats) return undefined;
  let sameContent = true;
  // Unchanged size and mtime: the first line is what it was (no read of it for an idle file).
  if (stats.size !== file.checkedSize || stats.mtimeMs !== file.checkedMtimeMs) {
    sameContent = await keepsItsFirstLine(file, fingerprintBytes);
    file.checkedSize = stats.size;
    file.checkedMtimeMs = stats.mtimeMs;
  }
  let atPath: Looked['atPath'] = 'unchecked';
  if (!file.detached) {
    const current = await stat(file.path).catch(() => undefined);
    atPath = !current ? 'none' : sameInode(file.key, current) ? 'this' : 'other';
  }
  return { size: stats.size, readOffset, sameContent, atPath };
}

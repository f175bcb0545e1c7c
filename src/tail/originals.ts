/**
 * Is a newly found file a copy (copytruncate, or `cp`) of a file the input
 * follows or has a checkpoint for? Another inode in the same directory with
 * the same first line, and, where both can be read, the same first bytes
 * (a log that merely starts with the same line is no copy). What the
 * original's state is then decides, in resume.ts, whether the copy is read
 * and from where.
 */
import type { FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { CheckpointStore, FileCheckpoint } from '../checkpoint/checkpoint-store.ts';
import { fingerprintOfKey, inodeOf } from './identity.ts';
import { isRotatedName, Listings, locate, mayBeCopyOf } from './locate.ts';
import { keepsItsFirstLine } from './observe.ts';
import { samePrefix } from './prefix.ts';
import type { Original } from './resume.ts';
import type { TailedFile } from './tailed-file.ts';

export interface OriginalsHost {
  /** The followed file with this identity (released ones included while their hand-over is under way). */
  followed(key: string): TailedFile | undefined;
  owns(entry: FileCheckpoint): boolean;
  /** Looks at a followed file soon (its truncation not noticed yet). */
  wake(file: TailedFile): void;
  /** The start-up scan is over. */
  started(): boolean;
}

export async function originalOf(
  path: string,
  key: string,
  handle: FileHandle,
  checkpoints: CheckpointStore,
  host: OriginalsHost,
  fingerprintBytes: number,
): Promise<Original | undefined> {
  const dir = dirname(path);
  const listings = new Listings();
  for (const other of checkpoints.withFingerprint(fingerprintOfKey(key))) {
    const entry = checkpoints.get(other);
    if (!entry || inodeOf(other) === inodeOf(key)) continue;
    const followed = host.followed(other);
    if (followed) {
      if (dirname(followed.path) !== dir) continue;
      // Released while still followed: its truncation is being handed over (in turn after us), and takes this copy.
      if (followed.released) return { state: 'followed', key: other, offset: followed.tracker.committed, id: followed.id };
      // At start-up nothing tells which of two such files came first but their names (access.log, access.log.1).
      if (!host.started() && !isRotatedName(followed.path, path)) continue;
      const like = await startsLike(followed, handle, fingerprintBytes);
      if (like === 'different') continue;
      // Truncated under its reader, not noticed yet: its hand-over (soon: woken now) takes this copy over.
      if (like === 'rewritten') host.wake(followed);
      return { state: 'followed', key: other, offset: followed.tracker.committed, id: followed.id };
    }
    if (dirname(entry.path) !== dir || !host.owns(entry)) continue;
    const where = await locate(other, entry.path, listings, fingerprintBytes);
    if ('found' in where) {
      const same = await samePrefix(where.found.handle, handle).finally(() => where.found.handle.close());
      if (same) return { state: 'live', key: other, offset: entry.offset, id: entry.id ?? other };
      continue;
    }
    // Not known either way (its directory unreadable now): treated as live, so the copy waits rather than repeats.
    if ('unknown' in where) return { state: 'live', key: other, offset: entry.offset, id: entry.id ?? other };
    if (mayBeCopyOf(entry.path, path)) return { state: 'gone', key: other, offset: entry.offset, id: entry.id ?? other };
  }
  return undefined;
}

/** Whether an open file starts with a followed file's bytes, or the followed one no longer starts with its own first line. */
async function startsLike(file: TailedFile, handle: FileHandle, fingerprintBytes: number): Promise<'same' | 'different' | 'rewritten'> {
  if (file.handle) {
    if (!(await keepsItsFirstLine(file, fingerprintBytes))) return 'rewritten';
    return (await samePrefix(file.handle, handle)) ? 'same' : 'different';
  }
  const located = await locate(file.key, file.path, new Listings(), fingerprintBytes);
  if (!('found' in located)) return 'rewritten';
  const same = await samePrefix(located.found.handle, handle).finally(() => located.found.handle.close());
  return same ? 'same' : 'different';
}

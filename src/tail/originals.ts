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
import { isRotatedName, Listings, locate, mayBeCopyOf, startsWithLineOf } from './locate.ts';
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
      const like = await compare(where.found.handle, other, handle, fingerprintBytes).finally(() => where.found.handle.close());
      if (like === 'same') return { state: 'live', key: other, offset: entry.offset, id: entry.id ?? other };
      if (like === 'different') continue;
      // Truncated while being compared: it is gone now, as below.
    }
    // Not known either way (its directory unreadable now): treated as live, so the copy waits rather than repeats.
    if ('unknown' in where) return { state: 'live', key: other, offset: entry.offset, id: entry.id ?? other };
    if (mayBeCopyOf(entry.path, path)) return { state: 'gone', key: other, offset: entry.offset, id: entry.id ?? other };
  }
  return undefined;
}

/** Whether an open file starts with a followed file's bytes, or the followed one no longer starts with its own first line. */
async function startsLike(file: TailedFile, handle: FileHandle, fingerprintBytes: number): Promise<Likeness> {
  if (file.handle) return compare(file.handle, file.key, handle, fingerprintBytes);
  const located = await locate(file.key, file.path, new Listings(), fingerprintBytes);
  if (!('found' in located)) return 'rewritten';
  return compare(located.found.handle, file.key, handle, fingerprintBytes).finally(() => located.found.handle.close());
}

type Likeness = 'same' | 'different' | 'rewritten';

/**
 * Compares an original's beginning with a candidate's. The original's first
 * line is checked after the comparison: truncated meanwhile (it compared
 * short, or empty), it is 'rewritten', never 'different'. When in doubt,
 * 'rewritten': the candidate is left alone for now, never read twice.
 */
async function compare(original: FileHandle, key: string, candidate: FileHandle, fingerprintBytes: number): Promise<Likeness> {
  try {
    const same = await samePrefix(original, candidate);
    if (!(await startsWithLineOf(original, key, fingerprintBytes))) return 'rewritten';
    return same ? 'same' : 'different';
  } catch {
    // The original's descriptor closed meanwhile (descriptor budget): not a copy to read now; asked again at the next scan.
    return 'rewritten';
  }
}

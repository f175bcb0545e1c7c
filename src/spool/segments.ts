/**
 * The segment files of one spool directory, oldest first: the one place
 * that creates and deletes them.
 *
 * Deleting a segment closes every handle this process holds on it first
 * (the writer's here, the reader's through `onDelete`): a file unlinked
 * while still open keeps its blocks until the last close, so on a full
 * disk a drained segment held open by the reader freed nothing, and every
 * later append failed with ENOSPC (issue 13).
 */
import type { FileHandle } from 'node:fs/promises';
import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { segmentName } from './format.ts';

export interface Segment {
  base: number;
  path: string;
  /** Bytes of the file (after a failed write: up to the last good frame). */
  size: number;
  /** Set for the segment appends go to. */
  handle: FileHandle | undefined;
  /** A write or truncate failed on it: no more appends. */
  broken: boolean;
  /** Written since the last fdatasync. */
  dirty: boolean;
  /** Being deleted: handles on it are closed, none may be opened. */
  deleted: boolean;
}

export function segmentAt(dir: string, base: number, size: number): Segment {
  return { base, path: join(dir, segmentName(base)), size, handle: undefined, broken: false, dirty: false, deleted: false };
}

export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export class SegmentFiles {
  /** Oldest first; the newest is the one appends go to when it has a handle. */
  readonly list: Segment[] = [];
  private readonly dir: string;
  /** With fsync always or batch, creations and deletions are made durable (fsync of the directory). */
  private readonly syncDirs: boolean;
  private readonly releasers: ((segment: Segment) => Promise<void>)[] = [];

  constructor(dir: string, syncDirs: boolean) {
    this.dir = dir;
    this.syncDirs = syncDirs;
  }

  /** `release` closes another holder's handles on a segment about to be unlinked. */
  onDelete(release: (segment: Segment) => Promise<void>): void {
    this.releasers.push(release);
  }

  get newest(): Segment | undefined {
    return this.list.at(-1);
  }

  get oldest(): Segment | undefined {
    return this.list[0];
  }

  /** Bytes of all segment files (what max_bytes bounds). */
  get diskBytes(): number {
    let total = 0;
    for (const s of this.list) total += s.size;
    return total;
  }

  /** A segment found on open (recover.ts), in base order. */
  adopt(segment: Segment): void {
    this.list.push(segment);
  }

  /**
   * Creates the segment whose first entry will be `base` and makes it the
   * newest, open for appends. No entry can be in a file of that name
   * (base is past every entry written), so one left by a failed earlier
   * attempt is truncated rather than refused: refusing would fail every
   * later append.
   */
  async create(base: number): Promise<Segment> {
    const segment = segmentAt(this.dir, base, 0);
    const handle = await open(segment.path, 'w', 0o640);
    if (this.syncDirs) {
      try {
        await syncDir(this.dir);
      } catch (err) {
        await handle.close().catch(() => undefined);
        await unlink(segment.path).catch(() => undefined);
        throw err;
      }
    }
    segment.handle = handle;
    this.list.push(segment);
    return segment;
  }

  /** Appends go on in `segment`, found on open (the newest, with room left). */
  async reopen(segment: Segment): Promise<void> {
    segment.handle = await open(segment.path, 'r+');
  }

  /**
   * Closes every handle on `segment`, unlinks it and forgets it. When the
   * unlink fails it stays listed (marked deleted) and the next call retries.
   */
  async delete(segment: Segment): Promise<void> {
    segment.deleted = true;
    const handle = segment.handle;
    segment.handle = undefined;
    if (handle) await handle.close().catch(() => undefined);
    for (const release of this.releasers) await release(segment);
    await unlink(segment.path).catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    });
    const at = this.list.indexOf(segment);
    if (at >= 0) this.list.splice(at, 1);
  }

  /** After deletions: makes them durable (fsync always or batch). */
  async synced(): Promise<void> {
    if (this.syncDirs) await syncDir(this.dir);
  }
}

/**
 * "Room may be back" for appends refused for lack of room (Spool.whenRoom):
 * woken when acks free a segment, oldest entries are dropped, an append
 * succeeds, or the spool closes. Space freed by another tenant of the
 * filesystem wakes none of these, so while the disk is full the
 * filesystem's free space is also polled (statfs, a few times a second)
 * and waiters are woken once an entry of the refused size would fit.
 */
import { statfs } from 'node:fs/promises';

/** How often free space is polled while the disk is full and someone waits. */
const PROBE_MS = 250;

export class RoomSignal {
  private readonly dir: string;
  private waiting: Promise<void> | undefined;
  /** Room may have been freed since the last refused append: a wait started late must not miss that wake-up. */
  private freedSinceRefusal = false;
  private release: (() => void) | undefined;
  /** While the disk is full: the bytes the refused entry needs. */
  private need: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private probing = false;
  /** Free bytes when the probe last woke waiters: it wakes them again only once there is more (no wake-up loop when statfs shows room the append still does not get, e.g. no inodes left). */
  private freeAtWake = -1;

  constructor(dir: string) {
    this.dir = dir;
  }

  /**
   * Resolves at the next wake-up, or at once when one came since the last
   * refused append. One promise is shared by every waiter: nothing piles up
   * while the disk stays full.
   */
  wait(): Promise<void> {
    if (this.freedSinceRefusal) return Promise.resolve();
    this.waiting ??= new Promise((resolve) => (this.release = resolve));
    if (this.need !== undefined) this.startProbe();
    return this.waiting;
  }

  wake(): void {
    this.freedSinceRefusal = true;
    this.stopProbe();
    const release = this.release;
    this.waiting = undefined;
    this.release = undefined;
    release?.();
  }

  /** An append was refused; with `diskFullBytes` (ENOSPC/EDQUOT for an entry that size) the filesystem is watched for room. */
  refused(diskFullBytes?: number): void {
    this.freedSinceRefusal = false;
    if (diskFullBytes === undefined) return;
    this.need = diskFullBytes;
    if (this.waiting) this.startProbe();
  }

  /** An append succeeded: the disk is not full (any more). */
  roomAgain(): void {
    this.need = undefined;
    this.freeAtWake = -1;
    this.wake();
  }

  close(): void {
    this.need = undefined;
    this.wake();
  }

  private startProbe(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.probe(), PROBE_MS);
    this.timer.unref();
  }

  private stopProbe(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async probe(): Promise<void> {
    if (this.probing || this.need === undefined) return;
    this.probing = true;
    try {
      const fs = await statfs(this.dir);
      // root may use the blocks reserved for it (ext4), so its ENOSPC comes when bfree, not bavail, runs out.
      const free = (process.getuid?.() === 0 ? fs.bfree : fs.bavail) * fs.bsize;
      // The entry, plus a block for a new segment's first page and one for rounding.
      if (this.need !== undefined && free >= this.need + 2 * fs.bsize && free > this.freeAtWake) {
        this.freeAtWake = free;
        this.wake();
      }
    } catch {
      // Cannot tell: the caller's backoff timer still retries.
    } finally {
      this.probing = false;
    }
  }
}

import type { TailedFile } from './tailed-file.ts';

/**
 * Reads a file that is being written again soon after each read, without
 * waiting for a file event: chokidar reports a file's changes at most once
 * per 50 ms (its throttle), and the poll is slower still, so a steadily
 * written file read only on events would have its lines wait up to 50 ms.
 *
 * After a read that found new lines, the next comes `firstMs` later. A read
 * that found nothing doubles the wait, and once `forMs` passed since the
 * file last grew the follow-ups stop (file events take over): a writer that
 * pauses briefly (a late timer, a busy server) is still caught within a few
 * `firstMs`, and a file that stopped costs a few empty reads (one pread each).
 */
export class FollowUps {
  private readonly firstMs: number;
  private readonly forMs: number;
  private readonly read: (file: TailedFile) => void;
  /** When each file is due; Infinity while its read is queued (a paused pipeline must not spin the timer). */
  private readonly due = new Map<TailedFile, { at: number; waitMs: number }>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(firstMs: number, forMs: number, read: (file: TailedFile) => void) {
    this.firstMs = firstMs;
    this.forMs = forMs;
    this.read = read;
  }

  /** A read of `file` reached its end, having found new bytes (`grew`) or none. */
  afterRead(file: TailedFile, grew: boolean, now: number): void {
    if (this.stopped) return; // the read that was under way when the tailer stopped
    const entry = this.due.get(file);
    if (grew) {
      this.due.set(file, { at: now + this.firstMs, waitMs: this.firstMs });
    } else {
      if (!entry) return; // not followed up: a read asked by an event or the poll
      if (now - file.lastGrowthAt >= this.forMs) {
        this.due.delete(file);
        return;
      }
      entry.waitMs *= 2;
      entry.at = now + entry.waitMs;
    }
    this.timer ??= setTimeout(this.tick, this.firstMs);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.due.clear();
  }

  /** One timer for every file, ticking every firstMs while any is followed up. */
  private readonly tick = (): void => {
    this.timer = undefined;
    const now = Date.now();
    let waiting = false;
    for (const [file, entry] of this.due) {
      if (file.released) this.due.delete(file);
      else if (entry.at <= now) {
        entry.at = Infinity;
        this.read(file);
      } else if (entry.at !== Infinity) waiting = true;
    }
    // Files whose read is queued re-arm the timer when that read ends (afterRead).
    if (waiting) this.timer = setTimeout(this.tick, this.firstMs);
  };
}

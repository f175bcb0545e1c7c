import type { TailedFile } from './tailed-file.ts';

/**
 * When the poll looks at each file: a file event or a change brings it to
 * `minMs`; every look that finds nothing doubles its wait, up to `maxMs`.
 * File events (inotify) do the prompt work; this is the safety net, and
 * thousands of quiet files cost a look each every `maxMs`. The poll itself
 * runs only when a file is due (`nextPoll`), never more often than every
 * `minMs`: an idle agent sleeps between its looks.
 */
export class CheckSchedule {
  private readonly minMs: number;
  private readonly maxMs: number;
  private readonly pollBy: (at: number) => void;

  /** `pollBy(at)`: a poll is wanted by `at` (epoch ms), sooner than any armed now perhaps. */
  constructor(minMs: number, maxMs: number, pollBy: (at: number) => void = () => undefined) {
    this.minMs = minMs;
    this.maxMs = Math.max(minMs, maxMs);
    this.pollBy = pollBy;
  }

  due(file: TailedFile, now: number): boolean {
    return file.nextCheckAt <= now;
  }

  /** Looked at at the next poll, and every poll while it keeps changing; the first quiet look after that waits minMs. */
  wake(file: TailedFile): void {
    file.checkIntervalMs = 0;
    file.nextCheckAt = 0;
    this.soon();
  }

  /** Something to retry at the next poll (a file waiting for its first line): a poll within minMs. */
  soon(): void {
    this.pollBy(Date.now() + this.minMs);
  }

  /** Nothing changed: look again a little later each time. */
  quiet(file: TailedFile, now: number): void {
    // Detached files are drained and released on rotate_wait's clock: they stay on the short interval.
    const max = file.detached ? this.minMs : this.maxMs;
    file.checkIntervalMs = Math.min(max, Math.max(this.minMs, file.checkIntervalMs * 2));
    file.nextCheckAt = now + file.checkIntervalMs;
  }

  /** When the poll after one that ended `now` is due: at the first file's next check, minMs after this one at the soonest; never (Infinity) without files. */
  nextPoll(files: Iterable<TailedFile>, retrying: boolean, now: number): number {
    let first = retrying ? 0 : Infinity;
    for (const file of files) if (file.nextCheckAt < first) first = file.nextCheckAt;
    return Math.max(first, now + this.minMs);
  }
}

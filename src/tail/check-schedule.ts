import type { TailedFile } from './tailed-file.ts';

/**
 * When the poll looks at each file: a file event or a change brings it to
 * `minMs`; every look that finds nothing doubles its wait, up to `maxMs`.
 * File events (inotify) do the prompt work; this is the safety net, and
 * thousands of quiet files cost a look each every `maxMs`.
 */
export class CheckSchedule {
  private readonly minMs: number;
  private readonly maxMs: number;

  constructor(minMs: number, maxMs: number) {
    this.minMs = minMs;
    this.maxMs = Math.max(minMs, maxMs);
  }

  due(file: TailedFile, now: number): boolean {
    return file.nextCheckAt <= now;
  }

  /** Looked at at the next poll, and every poll while it keeps changing; the first quiet look after that waits minMs. */
  wake(file: TailedFile): void {
    file.checkIntervalMs = 0;
    file.nextCheckAt = 0;
  }

  /** Nothing changed: look again a little later each time. */
  quiet(file: TailedFile, now: number): void {
    // Detached files are drained and released on rotate_wait's clock: they stay on the short interval.
    const max = file.detached ? this.minMs : this.maxMs;
    file.checkIntervalMs = Math.min(max, Math.max(this.minMs, file.checkIntervalMs * 2));
    file.nextCheckAt = now + file.checkIntervalMs;
  }
}

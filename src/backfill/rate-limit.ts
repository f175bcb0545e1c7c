import { setTimeout as sleep } from 'node:timers/promises';

/**
 * `--max-rate`: at most `perSecond` lines a second on average, in bursts of
 * at most a tenth of a second's worth (a token bucket), so a backfill
 * leaves the brokers and the live agent their share.
 */
export class RateLimit {
  private readonly perSecond: number;
  private readonly burst: number;
  private tokens: number;
  private last = performance.now();

  constructor(perSecond: number) {
    if (!(perSecond > 0)) throw new Error(`--max-rate must be a positive number of lines per second, not ${perSecond}`);
    this.perSecond = perSecond;
    this.burst = Math.max(1, perSecond / 10);
    this.tokens = this.burst;
  }

  /** Takes one line's token; resolves when the line may go (at once while the bucket holds tokens). */
  take(): Promise<unknown> | undefined {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.perSecond) / 1000);
    this.last = now;
    this.tokens -= 1;
    if (this.tokens >= 0) return undefined;
    return sleep((-this.tokens * 1000) / this.perSecond);
  }
}

/** Sizes seen within this long share one sample: the age it tells is at most this much too old. */
const RESOLUTION_MS = 1000;
/** Past this many samples (a long outage), the resolution doubles: coarser (an hour in ~1 min steps), still never too young. */
const MAX_SAMPLES = 64;

/**
 * When each size of a file was first seen, to tell how long its
 * undelivered bytes have waited (logship_file_lag_seconds): the bytes past
 * the checkpoint have waited since the first size seen past it. Sizes are
 * sampled when the tailer checks the file and at each scrape, so a steady
 * writer whose lines are delivered within a second shows 0 or close to it,
 * and a stall shows the time since the first byte it holds back was seen.
 * Each sample keeps the earliest time of the sizes it stands for, so the
 * age is over-stated by at most the resolution (1 s, coarser in a long
 * outage), never under-stated.
 */
export class SizeTimeline {
  private sizes: number[] = [];
  private times: number[] = [];
  private resolutionMs = RESOLUTION_MS;

  /** The file measured `size` bytes at `now` (ms). */
  saw(size: number, now: number): void {
    const last = this.sizes.length - 1;
    if (last >= 0 && size <= this.sizes[last]!) {
      // Truncated (copytruncate): what came before says nothing about what is there now.
      if (size < this.sizes[last]!) this.reset(size, now);
      return;
    }
    if (last >= 0 && now - this.times[last]! < this.resolutionMs) {
      this.sizes[last] = size;
      return;
    }
    this.sizes.push(size);
    this.times.push(now);
    while (this.sizes.length > MAX_SAMPLES) this.coarsen();
  }

  /**
   * Since when (ms) the bytes past `offset` (the delivered ones' end) have
   * waited; undefined when no size past it was seen. Forgets the sizes at
   * or below `offset`: they are delivered.
   */
  waitingSince(offset: number): number | undefined {
    let delivered = 0;
    while (delivered < this.sizes.length && this.sizes[delivered]! <= offset) delivered++;
    if (delivered > 0) {
      this.sizes.splice(0, delivered);
      this.times.splice(0, delivered);
      if (this.sizes.length === 0) this.resolutionMs = RESOLUTION_MS;
    }
    return this.times[0];
  }

  private reset(size: number, now: number): void {
    this.sizes = [size];
    this.times = [now];
    this.resolutionMs = RESOLUTION_MS;
  }

  /** Doubles the resolution and merges the samples it joins: each merged one keeps its first time and its last size. */
  private coarsen(): void {
    this.resolutionMs *= 2;
    const sizes: number[] = [];
    const times: number[] = [];
    for (let i = 0; i < this.sizes.length; i++) {
      const last = times.length - 1;
      if (last >= 0 && this.times[i]! - times[last]! < this.resolutionMs) sizes[last] = this.sizes[i]!;
      else {
        times.push(this.times[i]!);
        sizes.push(this.sizes[i]!);
      }
    }
    this.sizes = sizes;
    this.times = times;
  }
}

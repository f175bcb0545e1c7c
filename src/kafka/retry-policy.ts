/**
 * How delivery waits between tries, for Kafka and for the spool alike: an
 * exponential backoff with jitter, and a pause that ends early when it is
 * woken (the spool has room again) or when delivery stops.
 *
 * Not p-retry or exponential-backoff: both own the loop and its sleep. The
 * sleep must end early when the spool frees room, and between two tries
 * delivery decides again where the batches go (Kafka or the spool, see
 * route.ts), keeping one backoff across both; p-retry can only end the
 * whole loop (AbortSignal, which would restart its backoff), never
 * retries a TypeError (one thrown from inside the Kafka client would end
 * delivery), and its jitter vanishes once the delay reaches maxTimeout,
 * where agents then retry in step; exponential-backoff's sleep cannot be
 * cut short at all. What is left to write is the two functions below.
 */

export interface BackoffOptions {
  /** The first wait; doubled after each failure in a row. */
  initialMs: number;
  /** The longest wait. */
  maxMs: number;
}

/** Doubling stops here: 2^40 times any initial delay is past any maxMs. */
const MAX_DOUBLINGS = 40;

export class Backoff {
  private readonly options: BackoffOptions;
  private readonly random: () => number;
  private failures = 0;

  constructor(options: BackoffOptions, random: () => number = Math.random) {
    this.options = options;
    this.random = random;
  }

  /**
   * The wait before the next try, after one more failure: initialMs
   * doubled per failure in a row, at most maxMs; half of it fixed and half
   * random ("equal jitter"), so that many agents retrying after the same
   * outage do not beat in step, even at the cap.
   */
  next(): number {
    const base = Math.min(this.options.maxMs, this.options.initialMs * 2 ** Math.min(this.failures, MAX_DOUBLINGS));
    this.failures++;
    return base / 2 + this.random() * (base / 2);
  }

  /** After a success: the next failure waits initialMs again. */
  reset(): void {
    this.failures = 0;
  }

  /** Failures in a row since the last success. */
  get streak(): number {
    return this.failures;
  }
}

/** Waits `ms`, or less: until `wake` settles or `signal` aborts. Never rejects. */
export function pause(ms: number, { wake, signal }: { wake?: Promise<unknown>; signal?: AbortSignal } = {}): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    wake?.then(done, done);
  });
}

/**
 * Gives memory back once the agent goes quiet after work. V8 keeps the heap
 * it grew under load, and the allocator the pages that batch buffers took:
 * an agent idle after a backfill held ~40 MiB more than a fresh one. So,
 * `quietMs` after the last batch: the batch buffers kept for reuse are let
 * go, and one memory-reducing collection runs (with --expose-gc, which the
 * installed agent's Node flags carry; without it, only the buffers go).
 *
 * Costs nothing while idle (no timer armed) and one timer per `quietMs`
 * while busy.
 */
export class IdleMemory {
  private readonly quietMs: number;
  private readonly letGo: () => void;
  private last = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(quietMs: number, letGo: () => void) {
    this.quietMs = quietMs;
    this.letGo = letGo;
  }

  /** Work happened (a batch closed): the quiet period starts again. */
  activity(): void {
    this.last = Date.now();
    if (this.timer === undefined) this.arm(this.quietMs);
  }

  private arm(ms: number): void {
    this.timer = setTimeout(this.check, ms);
    this.timer.unref();
  }

  private readonly check = (): void => {
    this.timer = undefined;
    const quiet = Date.now() - this.last;
    if (quiet < this.quietMs) {
      this.arm(this.quietMs - quiet);
      return;
    }
    this.letGo();
    // Asynchronous: the collection's marking runs in steps, not as one pause.
    void globalThis.gc?.({ type: 'major', flavor: 'last-resort', execution: 'async' });
  };

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

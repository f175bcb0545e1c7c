/**
 * When to log a condition that comes and goes (spool full, then room
 * again, many times a second while replay and new batches take turns on a
 * full disk): the start of an episode is logged when its reason changed or
 * a minute has passed since the last one logged, and so is a retry that
 * still fails; the end is logged only when its start was. So an operator
 * reads at most about two lines a minute, and the last one tells the state
 * now (the counters still count every refusal).
 */
export class EpisodeLog {
  private readonly everyMs: number;
  private readonly now: () => number;
  private active = false;
  private startLogged = false;
  private failures = 0;
  private lastKey = '';
  private lastLoggedAt = -Infinity;

  constructor(everyMs = 60_000, now: () => number = Date.now) {
    this.everyMs = everyMs;
    this.now = now;
  }

  /** The condition holds (again); true when this should be logged. */
  failing(key: string): boolean {
    if (!this.active) {
      this.active = true;
      this.startLogged = false;
      this.failures = 0;
    }
    this.failures++;
    const now = this.now();
    if (key === this.lastKey && now - this.lastLoggedAt < this.everyMs) return false;
    this.lastKey = key;
    this.lastLoggedAt = now;
    this.startLogged = true;
    return true;
  }

  /** The condition ended; the failures of the episode when its end should be logged, else undefined. */
  recovered(): number | undefined {
    if (!this.active) return undefined;
    this.active = false;
    return this.startLogged ? this.failures : undefined;
  }

  /** The condition holds now. */
  get holds(): boolean {
    return this.active;
  }
}

/**
 * Per-file ack ordering. Batches of one file are issued in line order but
 * may be acknowledged in any order (several are in flight); the checkpoint
 * may only move over a prefix of lines that are all delivered.
 */
export class OffsetTracker {
  /** File offset up to which every line is delivered: safe to checkpoint. */
  committed: number;
  /** Sequence number of offsets[0]. */
  private base = 0;
  private readonly offsets: number[] = [];
  private readonly done: boolean[] = [];
  private onAdvance: (tracker: OffsetTracker) => void;

  constructor(committed: number, onAdvance: (tracker: OffsetTracker) => void) {
    this.committed = committed;
    this.onAdvance = onAdvance;
  }

  /** Registers a batch holding this file's lines up to `offset`; returns its ticket. */
  issue(offset: number): number {
    this.offsets.push(offset);
    this.done.push(false);
    return this.base + this.offsets.length - 1;
  }

  ack(ticket: number): void {
    const index = ticket - this.base;
    if (index < 0 || index >= this.done.length) return; // already settled (e.g. after a reset)
    this.done[index] = true;
    let n = 0;
    while (n < this.done.length && this.done[n]) n++;
    if (n === 0) return;
    this.committed = this.offsets[n - 1]!;
    this.offsets.splice(0, n);
    this.done.splice(0, n);
    this.base += n;
    this.onAdvance(this);
  }

  /**
   * From now on, advances are reported to `onAdvance`: the lines of a
   * copytruncate copy carry on the offsets of its original, whose batches
   * may still be in flight; their acks now move the copy's checkpoint.
   */
  handOver(onAdvance: (tracker: OffsetTracker) => void): void {
    this.onAdvance = onAdvance;
  }

  /** Batches issued and not yet acked. */
  get pending(): number {
    return this.done.length;
  }

  /**
   * The file was truncated: reading restarts at 0. Tickets still in flight
   * refer to the old content; they are dropped so they cannot move the
   * checkpoint past the new content.
   */
  reset(): void {
    this.base += this.offsets.length;
    this.offsets.length = 0;
    this.done.length = 0;
    this.committed = 0;
    this.onAdvance(this);
  }
}

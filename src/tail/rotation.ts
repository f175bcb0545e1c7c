/**
 * What happened to a followed file since it was last looked at, decided in
 * one place (as Fluent Bit's `flb_tail_file_is_rotated` apart from
 * `flb_tail_file_rotated`): the tailer observes the file (its size, its
 * first line, what its path holds now), this says what to do, the tailer
 * does it. Pure: table-tested in test/tail/rotation.test.ts.
 */

export interface FileObservation {
  /** The file's size now (from its descriptor; from its path when closed). */
  size: number;
  /** The next byte to read. */
  readOffset: number;
  /** Whether it still starts with the first line it had (copytruncate: not). */
  sameContent: boolean;
  /** What the path holds now: this file, another one (rotated), nothing (deleted); unchecked for a file already detached. */
  atPath: 'this' | 'other' | 'none' | 'unchecked';
  detached: boolean;
  hasPartial: boolean;
  /** Batches of its lines not yet acknowledged. */
  pending: number;
  /** Waiting to be read already. */
  queued: boolean;
  now: number;
  lastGrowthAt: number;
  /** When the path stopped naming it (detached files). */
  detachedAt: number;
}

export interface TailTimings {
  rotateWaitMs: number;
  /** 0: a partial last line waits for its newline. */
  partialFlushMs: number;
}

export type Verdict =
  /** Truncated or rewritten: the old content's rest is in a copy, if anywhere; the new content is a new file. */
  | { kind: 'truncated' }
  /** Bytes to read. */
  | { kind: 'grew' }
  /** The path names another file (rotated) or none (deleted): keep the descriptor, drain it, then release it. */
  | { kind: 'detach'; how: 'rotated' | 'deleted'; flushPartial: boolean }
  /** Detached, read to its end, quiet for rotate_wait and all acknowledged: ship a last partial line, release it. */
  | { kind: 'release' }
  | { kind: 'quiet'; flushPartial: boolean };

export function decideRotation(o: FileObservation, t: TailTimings): Verdict {
  const unread = o.size - o.readOffset;
  if (unread < 0 || !o.sameContent) return { kind: 'truncated' };
  if (unread > 0) return { kind: 'grew' };
  // A partial last line of a file that stays put is shipped after a quiet time (if set); a detached one's at its release.
  const flushPartial = o.hasPartial && !o.detached && t.partialFlushMs > 0 && o.now - o.lastGrowthAt >= t.partialFlushMs;
  if (!o.detached && (o.atPath === 'other' || o.atPath === 'none')) return { kind: 'detach', how: o.atPath === 'other' ? 'rotated' : 'deleted', flushPartial };
  // rotate_wait counts from the rotation too: nginx writes to the old file until it reopens, even after a quiet spell.
  const quietSince = Math.max(o.lastGrowthAt, o.detachedAt);
  if (o.detached && o.now - quietSince >= t.rotateWaitMs && o.pending === 0 && !o.queued) return { kind: 'release' };
  return { kind: 'quiet', flushPartial };
}

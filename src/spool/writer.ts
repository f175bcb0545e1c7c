/**
 * The spool's one writer: appends (group commit), segment rolling,
 * when_full (block / drop_oldest), deletion of drained segments and the
 * periodic sync, all run one at a time by one loop, so a deletion never
 * races an append.
 *
 * A rejected append also rejects the appends queued behind it, so what the
 * spool holds is always a prefix of what was appended (a source's order is
 * never broken by a retry). A failed write is cut off again (ftruncate),
 * or, when that fails too, its segment is sealed and later appends go to a
 * new one. Before an append is refused for lack of room, drained segments
 * not deleted yet are deleted (a deletion that failed earlier is retried
 * here, not only at the next ack).
 */
import type { Logger } from '../observe/logger.ts';
import { EpisodeLog } from '../observe/episode-log.ts';
import { ioError, SpoolFullError, type SpoolError } from './errors.ts';
import { writeHeader } from './format.ts';
import type { IndexEntry, Ledger } from './ledger.ts';
import type { SpoolOptions } from './options.ts';
import type { RoomSignal } from './room.ts';
import type { Segment, SegmentFiles } from './segments.ts';

export interface AppendJob {
  frame: Buffer;
  payloadLength: number;
  payloadCrc: number;
  records: number;
  valueBytes: number;
  createdAt: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

interface Written {
  job: AppendJob;
  entry: IndexEntry;
}

export class SpoolWriter {
  /** An append was refused for lack of room, and none succeeded since. */
  full: SpoolFullError['reason'] | undefined;
  droppedOldest = 0;
  droppedRecords = 0;
  fsyncs = 0;
  fsyncErrors = 0;

  /** segmentBytes as used: no larger than an eighth of the filesystem (see Spool.open). */
  private readonly options: SpoolOptions;
  private readonly dir: string;
  private readonly ledger: Ledger;
  private readonly segments: SegmentFiles;
  private readonly room: RoomSignal;
  private readonly log: Logger;
  private readonly fullLog = new EpisodeLog();
  private readonly queue: AppendJob[] = [];
  private unsynced: Written[] = [];
  private looping = false;
  private loopIdle: (() => void)[] = [];
  private gcWanted = false;
  private gcWaiters: (() => void)[] = [];
  private syncDue = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(options: SpoolOptions, dir: string, ledger: Ledger, segments: SegmentFiles, room: RoomSignal, log: Logger) {
    this.options = options;
    this.dir = dir;
    this.ledger = ledger;
    this.segments = segments;
    this.room = room;
    this.log = log;
    if (options.fsync === 'interval') {
      this.timer = setInterval(() => {
        this.syncDue = true;
        this.kick();
      }, Math.max(1, options.fsyncIntervalMs));
      this.timer.unref();
    }
  }

  append(job: AppendJob): void {
    this.queue.push(job);
    this.kick();
  }

  /** Resolves after drained segments were deleted in the writer loop (between two append groups). */
  requestCollect(): Promise<void> {
    return new Promise((resolve) => {
      this.gcWaiters.push(resolve);
      this.gcWanted = true;
      this.kick();
    });
  }

  private kick(): void {
    if (this.looping) return;
    this.looping = true;
    void this.loop();
  }

  private async loop(): Promise<void> {
    try {
      while (this.queue.length > 0 || this.gcWanted || this.syncDue) {
        if (this.queue.length > 0) {
          const jobs = this.queue.splice(0, this.options.fsync === 'always' ? 1 : this.queue.length);
          await this.writeGroup(jobs);
        }
        if (this.gcWanted) {
          this.gcWanted = false;
          const waiters = this.gcWaiters.splice(0);
          await this.collect().catch((err: unknown) => this.log.warn({ err }, 'spool: cannot delete drained segments; will retry'));
          for (const wake of waiters) wake();
        }
        if (this.syncDue) {
          this.syncDue = false;
          await this.intervalSync();
        }
      }
    } catch (err) {
      // Not expected: every step handles its errors. Fail what waits rather than hang.
      this.log.error({ err }, 'spool writer failed');
      this.rejectQueued(ioError(err, 'writer'));
    } finally {
      this.looping = false;
      for (const wake of this.gcWaiters.splice(0)) wake();
      for (const wake of this.loopIdle.splice(0)) wake();
    }
  }

  private rejectQueued(err: Error): void {
    for (const job of this.queue.splice(0)) job.reject(err);
  }

  private async writeGroup(jobs: AppendJob[]): Promise<void> {
    for (let i = 0; i < jobs.length; i++) {
      const job = jobs[i]!;
      try {
        await this.writeOne(job);
      } catch (err) {
        const error = ioError(err, `appending to ${this.dir}`);
        // Keep what was written before it; fail it and everything behind it (order is kept).
        await this.flushUnsynced();
        if (error instanceof SpoolFullError) this.refusedForRoom(error, job.frame.length);
        else {
          this.room.refused();
          this.log.error({ err }, 'spool append failed');
        }
        job.reject(error);
        for (const rest of jobs.slice(i + 1)) rest.reject(error);
        this.rejectQueued(error);
        return;
      }
    }
    const failed = await this.flushUnsynced();
    if (failed) this.rejectQueued(failed);
  }

  /** The room signal watches the disk; logged per episode (a caller retrying while full would repeat it, see episode-log.ts). */
  private refusedForRoom(error: SpoolFullError, bytes: number): void {
    this.room.refused(error.reason === 'disk_full' ? bytes : undefined);
    this.full = error.reason;
    if (this.fullLog.failing(error.reason)) {
      this.log.warn({ reason: error.reason, disk_bytes: this.segments.diskBytes, max_bytes: this.options.maxBytes, segments: this.segments.list.length }, error.message);
    }
  }

  private async writeOne(job: AppendJob): Promise<void> {
    const size = job.frame.length;
    while (true) {
      try {
        await this.makeRoom(size);
        const segment = await this.segmentFor(size);
        await this.writeFrame(segment, job);
        return;
      } catch (err) {
        const error = ioError(err, `appending to ${this.dir}`);
        if (error instanceof SpoolFullError && error.reason === 'disk_full') {
          // Only when that freed bytes: deleting the empty segment this write just failed in frees nothing.
          if (this.collectable() && (await this.collect().then((freed) => freed > 0, () => false))) continue;
          if (this.options.whenFull === 'drop_oldest' && (await this.dropOldest('disk full'))) continue;
        }
        throw error;
      }
    }
  }

  private async makeRoom(size: number): Promise<void> {
    if (size > this.options.maxBytes) {
      throw new SpoolFullError('entry_too_large', `a batch of ${size} bytes is larger than the spool's max_bytes (${this.options.maxBytes})`);
    }
    while (this.segments.diskBytes + size > this.options.maxBytes) {
      if (this.collectable()) {
        await this.collect();
        continue;
      }
      if (this.options.whenFull === 'block') {
        throw new SpoolFullError('max_bytes', `spool full: ${this.segments.diskBytes} of max_bytes ${this.options.maxBytes} bytes used, the batch needs ${size}; reading pauses until replay frees room`);
      }
      if (!(await this.dropOldest('max_bytes'))) {
        throw new SpoolFullError('max_bytes', `spool full: ${this.segments.diskBytes} of max_bytes ${this.options.maxBytes} bytes used by entries being written`);
      }
    }
  }

  /** The segment to write `size` bytes to, rolling to a new one when needed. */
  private async segmentFor(size: number): Promise<Segment> {
    const active = this.segments.newest;
    if (active?.handle && !active.broken && (active.size === 0 || active.size + size <= this.options.segmentBytes)) return active;
    return this.roll();
  }

  /** Seals the active segment and starts a new one. */
  private async roll(): Promise<Segment> {
    await this.seal();
    return this.segments.create(this.ledger.nextSeq);
  }

  /** Stops appending to the newest segment: its pending writes are synced, its handle closed. */
  private async seal(): Promise<void> {
    const active = this.segments.newest;
    if (!active?.handle) return;
    const failed = await this.flushUnsynced();
    if (failed) throw failed;
    if (active.dirty) await this.syncSegment(active).catch((err: unknown) => this.log.error({ err, segment: active.path }, 'spool: fdatasync failed when sealing a segment'));
    if (active.size === 0) {
      // Nothing in it (every write to it failed): remove it so its name can be used again.
      await this.segments.delete(active).catch(() => undefined);
      return;
    }
    const handle = active.handle;
    active.handle = undefined;
    await handle.close().catch(() => undefined);
  }

  private async writeFrame(segment: Segment, job: AppendJob): Promise<void> {
    const seq = this.ledger.nextSeq;
    writeHeader(job.frame, { payloadLength: job.payloadLength, payloadCrc: job.payloadCrc, seq, createdAt: job.createdAt, records: job.records, valueBytes: job.valueBytes });
    const offset = segment.size;
    try {
      let done = 0;
      while (done < job.frame.length) {
        const { bytesWritten } = await segment.handle!.write(job.frame, done, job.frame.length - done, offset + done);
        done += bytesWritten;
      }
    } catch (err) {
      await this.cutBack(segment, offset);
      throw err;
    }
    this.ledger.nextSeq = seq + 1;
    if (this.full) {
      const refusals = this.fullLog.recovered();
      if (refusals !== undefined) this.log.info({ was: this.full, refusals, disk_bytes: this.segments.diskBytes }, 'spool has room again');
      this.full = undefined;
      this.room.roomAgain();
    }
    segment.size = offset + job.frame.length;
    segment.dirty = true;
    const entry: IndexEntry = {
      seq,
      segment,
      offset,
      frameBytes: job.frame.length,
      records: job.records,
      valueBytes: job.valueBytes,
      createdAt: job.createdAt,
      handedOut: false,
      skipped: false,
    };
    if (this.options.fsync === 'interval') {
      this.ledger.push(entry);
      job.resolve();
    } else {
      this.unsynced.push({ job, entry });
    }
  }

  /** Removes a failed write's bytes; when that fails, the segment takes no more appends. */
  private async cutBack(segment: Segment, size: number): Promise<void> {
    try {
      await segment.handle!.truncate(size);
    } catch (err) {
      segment.broken = true;
      this.log.error({ err, segment: segment.path, offset: size }, 'spool: cannot cut off a failed write; the segment is sealed (the bytes are dropped on next open)');
    }
    segment.size = size;
  }

  /**
   * fdatasyncs the newest segment and resolves the appends it covers. On
   * failure they are rejected and cut off (the error is returned).
   */
  private async flushUnsynced(): Promise<SpoolError | undefined> {
    if (this.unsynced.length === 0) return undefined;
    const written = this.unsynced;
    this.unsynced = [];
    const segment = written[0]!.entry.segment;
    try {
      await this.syncSegment(segment);
    } catch (err) {
      const error = ioError(err, `fdatasync of ${segment.path}`);
      this.room.refused();
      this.log.error({ err, segment: segment.path }, 'spool: fdatasync failed; the batches it covered are rejected');
      await this.cutBack(segment, written[0]!.entry.offset);
      // After a failed fsync the page cache cannot be trusted: write on in a new segment.
      segment.broken = true;
      for (const { job } of written) job.reject(error);
      return error;
    }
    for (const { job, entry } of written) {
      this.ledger.push(entry);
      job.resolve();
    }
    return undefined;
  }

  private async syncSegment(segment: Segment): Promise<void> {
    if (!segment.handle) return;
    segment.dirty = false;
    try {
      this.fsyncs++;
      await segment.handle.datasync();
    } catch (err) {
      this.fsyncErrors++;
      segment.dirty = true;
      throw err;
    }
  }

  private async intervalSync(): Promise<void> {
    const active = this.segments.newest;
    if (active?.dirty) {
      await this.syncSegment(active).catch((err: unknown) => this.log.error({ err, segment: active.path }, 'spool: periodic fdatasync failed'));
    }
    await this.ledger.syncIfDirty();
  }

  /**
   * Drops the oldest segment and its entries not yet acked, to make room.
   * Returns false when there is nothing to drop.
   */
  private async dropOldest(why: string): Promise<boolean> {
    let oldest = this.segments.oldest;
    if (!oldest) return false;
    if (oldest.handle) {
      // The oldest is the one being written: start a new one first.
      if (oldest.size === 0) return false;
      await this.roll();
      oldest = this.segments.oldest!;
    }
    const dropped = this.ledger.drop(oldest);
    this.droppedOldest += dropped.entries;
    this.droppedRecords += dropped.records;
    this.log.error(
      { why, segment: oldest.path, entries: dropped.entries, records: dropped.records, first_seq: dropped.firstSeq, last_seq: dropped.lastSeq, dropped_total: this.droppedOldest },
      'spool full (when_full: drop_oldest): oldest entries dropped; their records are lost',
    );
    await this.segments.delete(oldest);
    if (dropped.lastSeq !== undefined) await this.ledger.persistOrLog();
    this.room.wake();
    return true;
  }

  /** Whether segments before the oldest pending entry's are waiting to be deleted. */
  private collectable(): boolean {
    const first = this.segments.oldest;
    return first !== undefined && first !== this.ledger.oldest?.segment && !(first.handle && this.unsynced.length > 0);
  }

  /** Deletes segments before the oldest pending entry's (all of them when nothing is pending); returns the bytes freed. */
  async collect(): Promise<number> {
    const keepFrom = this.ledger.oldest?.segment;
    let deleted = 0;
    let freed = 0;
    try {
      while (this.segments.list.length > 0 && this.segments.oldest !== keepFrom) {
        const segment = this.segments.oldest!;
        // Appends written to it and not synced yet resolve with the next flush: keep it until then.
        if (segment.handle && this.unsynced.length > 0) break;
        await this.segments.delete(segment);
        deleted++;
        freed += segment.size;
      }
    } finally {
      if (deleted > 0) await this.segments.synced().catch(() => undefined);
      if (freed > 0) this.room.wake();
    }
    return freed;
  }

  /** Resolves when the loop has nothing left to do. */
  private idle(): Promise<void> {
    if (!this.looping) return Promise.resolve();
    return new Promise((resolve) => this.loopIdle.push(resolve));
  }

  /** Waits for queued appends, then syncs and closes the active segment. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.kick();
    await this.idle();
    const active = this.segments.newest;
    if (active?.handle) {
      if (active.dirty) await this.syncSegment(active).catch((err: unknown) => this.log.error({ err }, 'spool: fdatasync on close failed'));
      await active.handle.close().catch(() => undefined);
      active.handle = undefined;
    }
  }
}

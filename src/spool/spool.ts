/**
 * The on-disk spool: batches that cannot go to Kafka now are appended to
 * segment files, and handed back oldest first for replay.
 *
 * Directory layout (`dir`):
 *   00000000000000000001.seg   segments, named by the seq of their first entry (format.ts)
 *   cursor                     the oldest seq not yet acked (cursor.ts)
 *   lock                       pid of the process that has the spool open
 *
 * Writes go through one loop, in call order: a rejected append also rejects
 * the appends queued behind it, so what the spool holds is always a prefix of
 * what was appended (a source's order is never broken by a retry).
 *
 * fsync policy (the `fsync` setting):
 *   always    fdatasync after each append before it resolves. Survives power
 *             loss; one disk flush per batch (a few ms on SSD, more on HDD).
 *   batch     group commit: appends that arrive while a flush is under way
 *             are written together and share the next fdatasync; each
 *             resolves once the flush that covers it is done. Same
 *             guarantee as always, nearly the throughput of interval under
 *             concurrent load. The default.
 *   interval  an append resolves once written to the OS (it survives a
 *             crash or SIGKILL of the agent, not a power loss or kernel
 *             panic); the segment and cursor are fdatasync'ed every
 *             fsync_interval_ms. Cheapest; a power loss can lose up to that
 *             much of the spool (those lines are re-read from the log files
 *             only if their checkpoints had not advanced, so they may be lost).
 * New segment files and deletions also fsync the directory (always, batch).
 * The read cursor follows the same policy: always/batch sync it on each ack.
 *
 * Bounds: the segment files together never exceed `maxBytes` on disk; a new
 * segment starts when the next entry would take the current one past
 * `segmentBytes` (an entry larger than that gets a segment of its own).
 * Disk space is freed a segment at a time, when every entry in it is acked.
 * When an entry does not fit:
 *   block        append rejects with SpoolFullError (reason max_bytes); the
 *                caller stops reading logs and waits (whenRoom()).
 *   drop_oldest  the oldest segment is dropped whole: its entries not yet
 *                acked (in flight ones included) are discarded, counted in
 *                droppedOldest/droppedRecords and logged with their seq range;
 *                repeated until the entry fits. The cursor moves past them.
 * ENOSPC/EDQUOT from the filesystem is the same: SpoolFullError (reason
 * disk_full) with block, a dropped oldest segment and a retry with
 * drop_oldest (when there is one to drop). Other I/O errors reject with
 * SpoolIOError. A failed write is cut off again (ftruncate), or, when that
 * fails too, its segment is sealed and later appends go to a new one.
 */
import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, readdir, readFile, truncate, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { crc32 } from 'node:zlib';
import type { OutMessage } from '../batch/types.ts';
import type { Logger } from '../observe/logger.ts';
import { CURSOR_FILE, CursorFile } from './cursor.ts';
import { ioError, SpoolClosedError, SpoolError, SpoolFullError, SpoolLockedError } from './errors.ts';
import {
  decodePayload,
  encodePayload,
  HEADER_BYTES,
  parseSegmentName,
  payloadCrcOk,
  readHeader,
  scanSegment,
  segmentName,
  tornTailAt,
  writeHeader,
} from './format.ts';

export type FsyncPolicy = 'always' | 'batch' | 'interval';
export type WhenFull = 'block' | 'drop_oldest';

export interface SpoolOptions {
  dir: string;
  /** Upper bound of all segment files together, in bytes. */
  maxBytes: number;
  /** A new segment starts when the current one would grow past this. */
  segmentBytes: number;
  fsync: FsyncPolicy;
  /** With fsync: interval, how often written data is flushed to disk. */
  fsyncIntervalMs: number;
  whenFull: WhenFull;
}

/** Defaults for the `spool` settings (bytes, ms). */
export const SPOOL_DEFAULTS = {
  maxBytes: 1024 * 1024 * 1024,
  segmentBytes: 64 * 1024 * 1024,
  fsync: 'batch',
  fsyncIntervalMs: 1000,
  whenFull: 'block',
} as const satisfies Omit<SpoolOptions, 'dir'>;

/** One spooled batch, as handed out by next(). */
export interface SpoolEntry {
  /** Increasing over the spool's life (across restarts); replay order. */
  seq: number;
  topics: Map<string, OutMessage[]>;
  records: number;
  /** Sum of value lengths, as Batch.bytes (not the bytes on disk). */
  bytes: number;
  /** When it was appended, ms since the epoch. */
  createdAt: number;
}

export interface SpoolStats {
  /** Entries not yet acked (handed out ones included). */
  entries: number;
  records: number;
  /** Bytes on disk of the entries not yet acked. */
  bytes: number;
  /** Bytes of all segment files (what max_bytes bounds). */
  diskBytes: number;
  segments: number;
  /** Age of the oldest entry not yet acked. */
  oldestAgeMs: number | undefined;
  /** Entries not handed out yet. */
  unread: number;
  /** Corrupt entries skipped (found on open or when read back), since open. */
  corruptSkipped: number;
  /** Bytes of torn writes cut off on open. */
  tornBytesCut: number;
  /** Entries (and their records) discarded by when_full: drop_oldest, since open. */
  droppedOldest: number;
  droppedRecords: number;
  /** Segment fdatasync calls, since open. */
  fsyncs: number;
  fsyncErrors: number;
}

interface Segment {
  base: number;
  path: string;
  /** Bytes of the file (after a failed write: up to the last good frame). */
  size: number;
  /** Set for the segment appends go to. */
  handle: FileHandle | undefined;
  /** A write or truncate failed on it: no more appends. */
  broken: boolean;
  /** Written since the last fdatasync. */
  dirty: boolean;
}

interface IndexEntry {
  seq: number;
  segment: Segment;
  offset: number;
  frameBytes: number;
  records: number;
  valueBytes: number;
  createdAt: number;
  handedOut: boolean;
  /** Corrupt when read back: passed over, never handed out. */
  skipped: boolean;
}

interface AppendJob {
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

const LOCK_FILE = 'lock';

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export class Spool {
  readonly dir: string;
  private readonly options: SpoolOptions;
  private readonly log: Logger;
  private readonly segments: Segment[] = [];
  /** Entries not yet acked, oldest first, from `head`. */
  private pending: IndexEntry[] = [];
  private head = 0;
  /** Next entry for next(), an index into pending (>= head). */
  private readPos = 0;
  /** Oldest seq not acked; persisted in the cursor file. */
  private cursor: number;
  private nextSeq: number;
  private readonly cursorFile: CursorFile;
  private cursorDirty = false;
  private cursorWrite: Promise<void> | undefined;
  private cursorAgain: Promise<void> | undefined;

  private readonly queue: AppendJob[] = [];
  private unsynced: Written[] = [];
  private looping = false;
  private loopIdle: (() => void)[] = [];
  private gcWanted = false;
  private gcWaiters: (() => void)[] = [];
  private syncDue = false;
  private timer: NodeJS.Timeout | undefined;
  private reading: Promise<unknown> = Promise.resolve();
  private readSegment: Segment | undefined;
  private readHandle: FileHandle | undefined;
  private roomWaiters: (() => void)[] = [];
  private closed = false;
  /** An append was refused for lack of room, and none succeeded since. */
  private full = false;

  private pendingRecords = 0;
  private pendingBytes = 0;
  private corruptSkipped = 0;
  private tornBytesCut = 0;
  private droppedOldest = 0;
  private droppedRecords = 0;
  private fsyncs = 0;
  private fsyncErrors = 0;

  private constructor(options: SpoolOptions, log: Logger, cursorFile: CursorFile, cursor: number) {
    this.options = options;
    this.dir = resolve(options.dir);
    this.log = log;
    this.cursorFile = cursorFile;
    this.cursor = cursor;
    this.nextSeq = Math.max(cursor, 1);
  }

  /**
   * Opens the spool in `options.dir` (created if missing): takes the lock,
   * loads the cursor, scans every segment (CRC of every entry not yet
   * acked). A torn write at the end of a segment is cut off; a corrupt entry
   * elsewhere is skipped, counted and logged with its segment and offset.
   * Segments with nothing left to replay are deleted.
   */
  static async open(options: SpoolOptions, log: Logger): Promise<Spool> {
    if (!(options.maxBytes > 0 && options.segmentBytes > 0)) throw new SpoolError('spool maxBytes and segmentBytes must be positive');
    const dir = resolve(options.dir);
    await mkdir(dir, { recursive: true });
    await lock(dir);
    let spool: Spool | undefined;
    try {
      const { file, cursor } = await CursorFile.open(join(dir, CURSOR_FILE));
      spool = new Spool(options, log.child({ stage: 'spool' }), file, cursor);
      await spool.load();
    } catch (err) {
      if (spool) await spool.cursorFile.close().catch(() => undefined);
      await unlink(join(dir, LOCK_FILE)).catch(() => undefined);
      throw err instanceof SpoolError ? err : ioError(err, `opening ${dir}`);
    }
    if (options.fsync === 'interval') {
      spool.timer = setInterval(() => {
        spool.syncDue = true;
        spool.kick();
      }, Math.max(1, options.fsyncIntervalMs));
      spool.timer.unref();
    }
    return spool;
  }

  private async load(): Promise<void> {
    const names = (await readdir(this.dir))
      .map((name) => ({ name, base: parseSegmentName(name) }))
      .filter((s): s is { name: string; base: number } => s.base !== undefined)
      .sort((a, b) => a.base - b.base);
    let lastSeq = 0;
    for (const [i, { name, base }] of names.entries()) {
      const path = join(this.dir, name);
      const buf = await readFile(path);
      const items = scanSegment(buf, this.cursor);
      const newest = i === names.length - 1;
      const tornAt = tornTailAt(items, newest);
      const segment: Segment = { base, path, size: tornAt ?? buf.length, handle: undefined, broken: false, dirty: false };
      for (const item of items) {
        if (tornAt !== undefined && item.offset >= tornAt) break;
        if (item.kind === 'garbage') {
          this.corruptSkipped++;
          this.log.error({ segment: name, offset: item.offset, bytes: item.length, reason: item.reason }, 'spool: corrupt bytes skipped (entries in them are lost)');
          continue;
        }
        const { header } = item;
        if (header.seq < this.cursor) {
          lastSeq = Math.max(lastSeq, header.seq);
          continue;
        }
        if (header.seq <= lastSeq) {
          this.corruptSkipped++;
          this.log.error({ segment: name, offset: item.offset, seq: header.seq }, 'spool: entry out of sequence skipped');
          continue;
        }
        lastSeq = header.seq;
        if (!item.crcOk) {
          this.corruptSkipped++;
          this.log.error({ segment: name, offset: item.offset, seq: header.seq, records: header.records }, 'spool: corrupt entry skipped (CRC mismatch); its records are lost');
          continue;
        }
        this.pushEntry({
          seq: header.seq,
          segment,
          offset: item.offset,
          frameBytes: item.length,
          records: header.records,
          valueBytes: header.valueBytes,
          createdAt: header.createdAt,
          handedOut: false,
          skipped: false,
        });
      }
      if (tornAt !== undefined) {
        this.tornBytesCut += buf.length - tornAt;
        this.log.warn({ segment: name, offset: tornAt, bytes: buf.length - tornAt }, 'spool: torn write at the end of a segment cut off (a crash during an append)');
        await truncate(path, tornAt);
        const handle = await open(path, 'r+');
        await handle.datasync().finally(() => handle.close());
      }
      if (segment.size === 0) {
        // Nothing valid in it (created just before a crash): its name may be needed again.
        await unlink(path);
        continue;
      }
      this.segments.push(segment);
    }
    this.nextSeq = Math.max(this.nextSeq, lastSeq + 1);
    // Cursor can lag the entries (e.g. segments deleted, then a crash before the cursor write): start at the first left.
    const first = this.pending[0];
    if (first && first.seq > this.cursor) this.cursor = first.seq;
    // Keep appending to the newest segment while it has room.
    const newest = this.segments.at(-1);
    if (newest && newest.size < this.options.segmentBytes && this.pending.some((e) => e.segment === newest)) {
      newest.handle = await open(newest.path, 'r+');
    }
    await this.collect();
    const s = this.stats();
    if (s.entries > 0 || s.corruptSkipped > 0 || s.tornBytesCut > 0) {
      this.log.info({ dir: this.dir, entries: s.entries, records: s.records, bytes: s.bytes, segments: s.segments, oldest_age_ms: s.oldestAgeMs, corrupt_skipped: s.corruptSkipped, torn_bytes_cut: s.tornBytesCut }, 'spool opened with entries to replay');
    }
  }

  private pushEntry(entry: IndexEntry): void {
    this.pending.push(entry);
    this.pendingRecords += entry.records;
    this.pendingBytes += entry.frameBytes;
  }

  /** True when every entry appended has been acked (or dropped). */
  get isEmpty(): boolean {
    return this.head >= this.pending.length;
  }

  /** Entries not handed out by next() yet. */
  get unread(): number {
    let n = 0;
    for (let i = this.readPos; i < this.pending.length; i++) if (!this.pending[i]!.skipped) n++;
    return n;
  }

  private get diskBytes(): number {
    let total = 0;
    for (const s of this.segments) total += s.size;
    return total;
  }

  stats(): SpoolStats {
    const oldest = this.pending[this.head];
    return {
      entries: this.pending.length - this.head,
      records: this.pendingRecords,
      bytes: this.pendingBytes,
      diskBytes: this.diskBytes,
      segments: this.segments.length,
      oldestAgeMs: oldest ? Math.max(0, Date.now() - oldest.createdAt) : undefined,
      unread: this.unread,
      corruptSkipped: this.corruptSkipped,
      tornBytesCut: this.tornBytesCut,
      droppedOldest: this.droppedOldest,
      droppedRecords: this.droppedRecords,
      fsyncs: this.fsyncs,
      fsyncErrors: this.fsyncErrors,
    };
  }

  /**
   * Stores a batch. Encodes it now (the caller may reuse its arrays once
   * this returns); resolves once the entry is on disk as the fsync policy
   * says — then the caller may advance its file checkpoints. Rejects with
   * SpoolFullError (no room: max_bytes with block, disk full, entry too
   * large), SpoolIOError (other I/O errors) or SpoolClosedError; a
   * rejected entry left nothing on disk.
   */
  append(topics: ReadonlyMap<string, readonly OutMessage[]>, records: number): Promise<void> {
    if (this.closed) return Promise.reject(new SpoolClosedError('spool is closed'));
    const { frame, payloadLength, valueBytes } = encodePayload(topics);
    const payloadCrc = payloadCrcOfFrame(frame);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ frame, payloadLength, payloadCrc, records, valueBytes, createdAt: Date.now(), resolve, reject });
      this.kick();
    });
  }

  /** Resolves when room may have been freed (an ack drained a segment, or oldest entries were dropped), or on close. */
  whenRoom(): Promise<void> {
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  private kick(): void {
    if (this.looping) return;
    this.looping = true;
    void this.loop();
  }

  /** The one writer: appends, segment deletion and interval syncs, one at a time. */
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
        if (!(error instanceof SpoolFullError)) this.log.error({ err }, 'spool append failed');
        else if (!this.full) {
          // Logged once per episode: a caller retrying while full would repeat it.
          this.full = true;
          this.log.warn({ reason: error.reason, disk_bytes: this.diskBytes, max_bytes: this.options.maxBytes }, error.message);
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
        if (error instanceof SpoolFullError && error.reason === 'disk_full' && this.options.whenFull === 'drop_oldest' && (await this.dropOldest('disk full'))) continue;
        throw error;
      }
    }
  }

  private async makeRoom(size: number): Promise<void> {
    if (size > this.options.maxBytes) {
      throw new SpoolFullError('entry_too_large', `a batch of ${size} bytes is larger than the spool's max_bytes (${this.options.maxBytes})`);
    }
    while (this.diskBytes + size > this.options.maxBytes) {
      if (this.options.whenFull === 'block') {
        throw new SpoolFullError('max_bytes', `spool full: ${this.diskBytes} of max_bytes ${this.options.maxBytes} bytes used, the batch needs ${size}; reading pauses until replay frees room`);
      }
      if (!(await this.dropOldest('max_bytes'))) {
        throw new SpoolFullError('max_bytes', `spool full: ${this.diskBytes} of max_bytes ${this.options.maxBytes} bytes used by entries being written`);
      }
    }
  }

  /** The segment to write `size` bytes to, rolling to a new one when needed. */
  private async segmentFor(size: number): Promise<Segment> {
    const active = this.segments.at(-1);
    if (active?.handle && !active.broken && (active.size === 0 || active.size + size <= this.options.segmentBytes)) return active;
    await this.seal();
    const base = this.nextSeq;
    const path = join(this.dir, segmentName(base));
    const handle = await open(path, 'wx', 0o640);
    const segment: Segment = { base, path, size: 0, handle, broken: false, dirty: false };
    this.segments.push(segment);
    if (this.options.fsync !== 'interval') await syncDir(this.dir);
    return segment;
  }

  /** Stops appending to the newest segment: its pending writes are synced, its handle closed. */
  private async seal(): Promise<void> {
    const active = this.segments.at(-1);
    if (!active?.handle) return;
    const failed = await this.flushUnsynced();
    if (failed) throw failed;
    if (active.dirty) await this.syncSegment(active).catch((err: unknown) => this.log.error({ err, segment: active.path }, 'spool: fdatasync failed when sealing a segment'));
    const handle = active.handle;
    active.handle = undefined;
    await handle.close().catch(() => undefined);
    if (active.size === 0) {
      // Nothing in it (every write to it failed): remove it so its name can be used again.
      this.segments.pop();
      await unlink(active.path).catch(() => undefined);
    }
  }

  private async writeFrame(segment: Segment, job: AppendJob): Promise<void> {
    const seq = this.nextSeq;
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
    this.nextSeq = seq + 1;
    if (this.full) {
      this.full = false;
      this.log.info({ disk_bytes: this.diskBytes }, 'spool has room again');
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
      this.pushEntry(entry);
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
      this.log.error({ err, segment: segment.path }, 'spool: fdatasync failed; the batches it covered are rejected');
      await this.cutBack(segment, written[0]!.entry.offset);
      // After a failed fsync the page cache cannot be trusted: write on in a new segment.
      segment.broken = true;
      for (const { job } of written) job.reject(error);
      return error;
    }
    for (const { job, entry } of written) {
      this.pushEntry(entry);
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
    const active = this.segments.at(-1);
    if (active?.dirty) {
      await this.syncSegment(active).catch((err: unknown) => this.log.error({ err, segment: active.path }, 'spool: periodic fdatasync failed'));
    }
    if (this.cursorDirty) {
      this.cursorDirty = false;
      await this.cursorFile.sync().catch((err: unknown) => {
        this.cursorDirty = true;
        this.log.error({ err }, 'spool: fdatasync of the cursor failed');
      });
    }
  }

  /**
   * Drops the oldest segment and its entries not yet acked, to make room.
   * Returns false when there is nothing to drop.
   */
  private async dropOldest(why: string): Promise<boolean> {
    let oldest = this.segments[0];
    if (!oldest) return false;
    if (oldest.handle) {
      // The oldest is the one being written: start a new one first.
      if (oldest.size === 0) return false;
      await this.seal();
      const base = this.nextSeq;
      const path = join(this.dir, segmentName(base));
      this.segments.push({ base, path, size: 0, handle: await open(path, 'wx', 0o640), broken: false, dirty: false });
      oldest = this.segments[0]!;
    }
    let entries = 0;
    let records = 0;
    let firstSeq: number | undefined;
    let lastSeq: number | undefined;
    while (this.head < this.pending.length && this.pending[this.head]!.segment === oldest) {
      const entry = this.pending[this.head]!;
      firstSeq ??= entry.seq;
      lastSeq = entry.seq;
      if (!entry.skipped) {
        entries++;
        records += entry.records;
      }
      this.removeHead();
    }
    this.droppedOldest += entries;
    this.droppedRecords += records;
    if (lastSeq !== undefined) this.cursor = Math.max(this.cursor, lastSeq + 1);
    this.log.error({ why, segment: oldest.path, entries, records, first_seq: firstSeq, last_seq: lastSeq, dropped_total: this.droppedOldest }, 'spool full (when_full: drop_oldest): oldest entries dropped; their records are lost');
    this.segments.shift();
    await unlink(oldest.path).catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    });
    if (lastSeq !== undefined) await this.persistCursor().catch((err: unknown) => this.log.error({ err }, 'spool: cannot write the cursor'));
    this.wakeRoom();
    return true;
  }

  private removeHead(): void {
    const entry = this.pending[this.head]!;
    if (!entry.skipped) {
      this.pendingRecords -= entry.records;
      this.pendingBytes -= entry.frameBytes;
    }
    this.head++;
    if (this.readPos < this.head) this.readPos = this.head;
    if (this.head > 1024 && this.head * 2 > this.pending.length) {
      this.pending = this.pending.slice(this.head);
      this.readPos -= this.head;
      this.head = 0;
    }
  }

  /** Passes over corrupt entries at the head, moving the cursor past them. */
  private skipHeadSkipped(): boolean {
    let moved = false;
    while (this.head < this.pending.length && this.pending[this.head]!.skipped) {
      this.cursor = this.pending[this.head]!.seq + 1;
      this.removeHead();
      moved = true;
    }
    return moved;
  }

  /**
   * The oldest entry not handed out yet, read back from disk and checked
   * (an entry whose CRC no longer holds is skipped, counted and logged), or
   * undefined when there is none. Calls are served one at a time, in order;
   * several entries may be out (in flight) before the first is acked.
   */
  next(): Promise<SpoolEntry | undefined> {
    const result = this.reading.then(() => this.readNext());
    this.reading = result.catch(() => undefined);
    return result;
  }

  private async readNext(): Promise<SpoolEntry | undefined> {
    if (this.closed) throw new SpoolClosedError('spool is closed');
    while (true) {
      if (this.readPos < this.head) this.readPos = this.head;
      const entry = this.pending[this.readPos];
      if (!entry) return undefined;
      if (entry.skipped || entry.handedOut) {
        this.readPos++;
        continue;
      }
      let buf: Buffer;
      try {
        buf = await this.readFrame(entry);
      } catch (err) {
        if (entry.seq < this.cursor) continue; // dropped meanwhile (drop_oldest)
        throw ioError(err, `reading ${entry.segment.path} at ${entry.offset}`);
      }
      if (entry.seq < this.cursor) continue;
      const header = readHeader(buf, 0);
      let topics: Map<string, OutMessage[]> | undefined;
      let problem = 'CRC mismatch';
      if (header && header.seq === entry.seq && header.payloadLength + HEADER_BYTES === buf.length && payloadCrcOk(buf, 0, header)) {
        try {
          topics = decodePayload(buf, HEADER_BYTES, buf.length);
        } catch (err) {
          problem = (err as Error).message;
        }
      }
      this.readPos++;
      if (!topics) {
        entry.skipped = true;
        this.corruptSkipped++;
        this.pendingRecords -= entry.records;
        this.pendingBytes -= entry.frameBytes;
        this.log.error({ segment: entry.segment.path, offset: entry.offset, seq: entry.seq, records: entry.records, problem }, 'spool: corrupt entry skipped on replay; its records are lost');
        if (this.skipHeadSkipped()) await this.persistCursor().catch((err: unknown) => this.log.error({ err }, 'spool: cannot write the cursor'));
        continue;
      }
      entry.handedOut = true;
      return { seq: entry.seq, topics, records: entry.records, bytes: entry.valueBytes, createdAt: entry.createdAt };
    }
  }

  private async readFrame(entry: IndexEntry): Promise<Buffer> {
    if (this.readSegment !== entry.segment || !this.readHandle) {
      const old = this.readHandle;
      this.readHandle = undefined;
      this.readSegment = undefined;
      if (old) await old.close().catch(() => undefined);
      this.readHandle = await open(entry.segment.path, 'r');
      this.readSegment = entry.segment;
    }
    const buf = Buffer.allocUnsafe(entry.frameBytes);
    let done = 0;
    while (done < buf.length) {
      const { bytesRead } = await this.readHandle.read(buf, done, buf.length - done, entry.offset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done === buf.length ? buf : buf.subarray(0, done);
  }

  /**
   * Marks an entry handed out by next() as delivered. Entries are acked in
   * the order next() gave them (acking one already dropped is a no-op).
   * Persists the cursor (synced per the fsync policy) and deletes segments
   * left with nothing to replay.
   */
  async ack(entry: SpoolEntry): Promise<void> {
    if (this.closed) throw new SpoolClosedError('spool is closed');
    if (entry.seq < this.cursor) return;
    const head = this.pending[this.head];
    if (!head || head.seq !== entry.seq || !head.handedOut) {
      throw new SpoolError(`spool entries must be acked in order: expected seq ${head?.seq ?? 'none'} (handed out), got ${entry.seq}`);
    }
    const segment = head.segment;
    this.cursor = entry.seq + 1;
    this.removeHead();
    this.skipHeadSkipped();
    await this.persistCursor();
    const now = this.pending[this.head];
    if (!now || now.segment !== segment) await this.requestCollect();
  }

  /** Resolves after segment deletion ran in the writer loop (between two append groups). */
  private requestCollect(): Promise<void> {
    return new Promise((resolve) => {
      this.gcWaiters.push(resolve);
      this.gcWanted = true;
      this.kick();
    });
  }

  private idle(): Promise<void> {
    if (!this.looping) return Promise.resolve();
    return new Promise((resolve) => this.loopIdle.push(resolve));
  }

  /** Writes the cursor; concurrent calls share writes (each resolves after a write that started after it). */
  private persistCursor(): Promise<void> {
    if (!this.cursorWrite) {
      const run = this.writeCursor().finally(() => {
        this.cursorWrite = undefined;
      });
      this.cursorWrite = run;
      return run;
    }
    this.cursorAgain ??= this.cursorWrite
      .catch(() => undefined)
      .then(() => {
        this.cursorAgain = undefined;
        return this.persistCursor();
      });
    return this.cursorAgain;
  }

  private async writeCursor(): Promise<void> {
    try {
      await this.cursorFile.write(this.cursor);
      if (this.options.fsync === 'interval') this.cursorDirty = true;
      else await this.cursorFile.sync();
    } catch (err) {
      throw ioError(err, 'writing the spool cursor');
    }
  }

  /** Deletes segments before the oldest pending entry's (all of them when nothing is pending). */
  private async collect(): Promise<void> {
    const keepFrom = this.pending[this.head]?.segment;
    let deleted = 0;
    while (this.segments.length > 0 && this.segments[0] !== keepFrom) {
      const segment = this.segments[0]!;
      if (segment.handle) {
        if (this.unsynced.length > 0) break;
        const handle = segment.handle;
        segment.handle = undefined;
        await handle.close().catch(() => undefined);
      }
      await unlink(segment.path).catch((err: unknown) => {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      });
      this.segments.shift();
      deleted++;
    }
    if (deleted > 0) {
      if (this.options.fsync !== 'interval') await syncDir(this.dir).catch(() => undefined);
      this.wakeRoom();
    }
  }

  private wakeRoom(): void {
    for (const wake of this.roomWaiters.splice(0)) wake();
  }

  /**
   * Waits for queued appends, syncs segment and cursor (every policy), and
   * releases the directory. Entries handed out and not acked are replayed
   * after the next open.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.kick();
    await this.idle();
    await this.reading.catch(() => undefined);
    await this.cursorWrite?.catch(() => undefined);
    await this.cursorAgain?.catch(() => undefined);
    const active = this.segments.at(-1);
    if (active?.handle) {
      if (active.dirty) await this.syncSegment(active).catch((err: unknown) => this.log.error({ err }, 'spool: fdatasync on close failed'));
      await active.handle.close().catch(() => undefined);
      active.handle = undefined;
    }
    await this.readHandle?.close().catch(() => undefined);
    this.readHandle = undefined;
    await this.cursorFile.sync().catch(() => undefined);
    await this.cursorFile.close().catch(() => undefined);
    await unlink(join(this.dir, LOCK_FILE)).catch(() => undefined);
    this.wakeRoom();
  }
}

function payloadCrcOfFrame(frame: Buffer): number {
  return crc32(frame.subarray(HEADER_BYTES));
}

/** Takes `<dir>/lock` for this process; refuses when another live process holds it. */
async function lock(dir: string): Promise<void> {
  const path = join(dir, LOCK_FILE);
  try {
    await writeFile(path, `${process.pid}\n`, { flag: 'wx', mode: 0o640 });
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError(err, `creating ${path}`);
  }
  const pid = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
  if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && pidAlive(pid)) throw new SpoolLockedError(dir, pid);
  // Left by a process that is gone (crash, SIGKILL): take it over.
  await writeFile(path, `${process.pid}\n`, { mode: 0o640 }).catch((err: unknown) => {
    throw ioError(err, `writing ${path}`);
  });
}


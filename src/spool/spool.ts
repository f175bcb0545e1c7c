/**
 * The on-disk spool: batches that cannot go to Kafka now are appended to
 * segment files, and handed back oldest first for replay. This class is the
 * facade; the work is split by role, as in Vector's disk buffer:
 *
 *   writer.ts    appends (group commit), segment rolling, when_full, deletion of drained segments
 *   reader.ts    reading entries back for replay
 *   ledger.ts    entries not acked yet, and the cursor (cursor.ts is its file)
 *   segments.ts  the segment files: the one place that creates and deletes them
 *   recover.ts   the scan on open
 *   room.ts      "room may be back" for refused appends (whenRoom)
 *   lock.ts      one process per spool directory
 *
 * Directory layout (`dir`):
 *   00000000000000000001.seg   segments, named by the seq of their first entry (format.ts)
 *   cursor                     the oldest seq not yet acked (cursor.ts)
 *   lock                       pid of the process that has the spool open
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
 * `segmentBytes` (an entry larger than that gets a segment of its own), and
 * no segment is larger than an eighth of the filesystem, so that replay
 * frees a small disk a piece at a time. Disk space is freed a segment at a
 * time, when every entry in it is acked; no handle stays open on a deleted
 * segment. When an entry does not fit:
 *   block        append rejects with SpoolFullError (reason max_bytes); the
 *                caller stops reading logs and waits (whenRoom()).
 *   drop_oldest  the oldest segment is dropped whole: its entries not yet
 *                acked (in flight ones included) are discarded, counted in
 *                droppedOldest/droppedRecords and logged with their seq range;
 *                repeated until the entry fits. The cursor moves past them.
 * ENOSPC/EDQUOT from the filesystem is the same: SpoolFullError (reason
 * disk_full) with block, a dropped oldest segment and a retry with
 * drop_oldest (when there is one to drop); whenRoom() then also resolves
 * when the filesystem has room again, whoever freed it. Other I/O errors
 * reject with SpoolIOError.
 */
import { mkdir, statfs } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { crc32 } from 'node:zlib';
import type { OutMessage } from '../batch/types.ts';
import type { Logger } from '../observe/logger.ts';
import { CURSOR_FILE, CursorFile } from './cursor.ts';
import { ioError, SpoolClosedError, SpoolError, type SpoolFullReason } from './errors.ts';
import { encodePayload, HEADER_BYTES } from './format.ts';
import { Ledger } from './ledger.ts';
import { lock } from './lock.ts';
import type { PidLock } from '../lockfile/pid-lock.ts';
import type { SpoolOptions } from './options.ts';
import { SpoolReader, type SpoolEntry } from './reader.ts';
import { recover } from './recover.ts';
import { RoomSignal } from './room.ts';
import { SegmentFiles } from './segments.ts';
import { SpoolWriter } from './writer.ts';

export type { SpoolEntry } from './reader.ts';

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
  /** Why the last append was refused for lack of room, while no append succeeded since. */
  full: SpoolFullReason | undefined;
}

/** Segments are no larger than this share of the filesystem, and no smaller than the smallest segment_bytes. */
const SEGMENTS_PER_FILESYSTEM = 8;
const MIN_SEGMENT_BYTES = 64 * 1024;

/** segment_bytes as used on this filesystem: a segment larger than the disk would free nothing until the whole spool is replayed. */
async function segmentBytesFor(dir: string, configured: number): Promise<number> {
  const fs = await statfs(dir).catch(() => undefined);
  if (!fs) return configured;
  return Math.min(configured, Math.max(MIN_SEGMENT_BYTES, Math.floor((fs.blocks * fs.bsize) / SEGMENTS_PER_FILESYSTEM)));
}

export class Spool {
  readonly dir: string;
  private readonly log: Logger;
  private readonly ledger: Ledger;
  private readonly dirLock: PidLock;
  private readonly segments: SegmentFiles;
  private readonly writer: SpoolWriter;
  private readonly reader: SpoolReader;
  private readonly room: RoomSignal;
  private tornBytesCut = 0;
  private closed = false;

  private constructor(dir: string, options: SpoolOptions, log: Logger, ledger: Ledger, dirLock: PidLock) {
    this.dir = dir;
    this.dirLock = dirLock;
    this.log = log;
    this.ledger = ledger;
    this.segments = new SegmentFiles(dir, options.fsync !== 'interval');
    this.room = new RoomSignal(dir);
    this.writer = new SpoolWriter(options, dir, ledger, this.segments, this.room, log);
    this.reader = new SpoolReader(ledger, log);
    this.segments.onDelete((segment) => this.reader.release(segment));
  }

  /**
   * Opens the spool in `options.dir` (created if missing): takes the lock,
   * loads the cursor, scans every segment (recover.ts). Segments with
   * nothing left to replay are deleted.
   */
  static async open(options: SpoolOptions, log: Logger): Promise<Spool> {
    if (!(options.maxBytes > 0 && options.segmentBytes > 0)) throw new SpoolError('spool maxBytes and segmentBytes must be positive');
    const dir = resolve(options.dir);
    await mkdir(dir, { recursive: true }).catch((err: unknown) => {
      throw ioError(err, `creating ${dir}`);
    });
    const dirLock = lock(dir);
    let cursorFile: CursorFile | undefined;
    let spool: Spool | undefined;
    try {
      const opened = await CursorFile.open(join(dir, CURSOR_FILE));
      cursorFile = opened.file;
      const spoolLog = log.child({ stage: 'spool' });
      const segmentBytes = await segmentBytesFor(dir, options.segmentBytes);
      if (segmentBytes < options.segmentBytes) spoolLog.info({ dir, segment_bytes: segmentBytes, configured: options.segmentBytes }, 'spool: smaller segments on this small filesystem, so that replay frees room a segment at a time');
      const ledger = new Ledger(opened.file, opened.cursor, options.fsync, spoolLog);
      spool = new Spool(dir, { ...options, segmentBytes }, spoolLog, ledger, dirLock);
      await spool.load(segmentBytes);
    } catch (err) {
      if (spool) await spool.writer.close().catch(() => undefined);
      await cursorFile?.close().catch(() => undefined);
      dirLock.release();
      throw err instanceof SpoolError ? err : ioError(err, `opening ${dir}`);
    }
    return spool;
  }

  private async load(segmentBytes: number): Promise<void> {
    const ledger = this.ledger;
    const found = await recover(this.dir, ledger.cursor, this.log);
    this.tornBytesCut = found.tornBytesCut;
    ledger.corruptSkipped = found.corruptSkipped;
    for (const entry of found.entries) ledger.push(entry);
    for (const segment of found.segments) {
      // Nothing valid in it (created just before a crash): its name may be needed again.
      if (segment.size === 0) await this.segments.delete(segment);
      else this.segments.adopt(segment);
    }
    ledger.nextSeq = Math.max(ledger.nextSeq, found.lastSeq + 1);
    // Cursor can lag the entries (e.g. segments deleted, then a crash before the cursor write): start at the first left.
    const first = ledger.oldest;
    if (first && first.seq > ledger.cursor) ledger.cursor = first.seq;
    // Keep appending to the newest segment while it has room.
    const newest = this.segments.newest;
    if (newest && newest.size < segmentBytes && found.entries.some((e) => e.segment === newest)) await this.segments.reopen(newest);
    await this.writer.collect();
    const s = this.stats();
    if (s.entries > 0 || s.corruptSkipped > 0 || s.tornBytesCut > 0) {
      this.log.info({ dir: this.dir, entries: s.entries, records: s.records, bytes: s.bytes, segments: s.segments, oldest_age_ms: s.oldestAgeMs, corrupt_skipped: s.corruptSkipped, torn_bytes_cut: s.tornBytesCut }, 'spool opened with entries to replay');
    }
  }

  /** True when every entry appended has been acked (or dropped). */
  get isEmpty(): boolean {
    return this.ledger.isEmpty;
  }

  /** Entries not handed out by next() yet. */
  get unread(): number {
    return this.ledger.unread;
  }

  stats(): SpoolStats {
    const oldest = this.ledger.oldest;
    const writer = this.writer;
    return {
      entries: this.ledger.entries,
      records: this.ledger.records,
      bytes: this.ledger.bytes,
      diskBytes: this.segments.diskBytes,
      segments: this.segments.list.length,
      oldestAgeMs: oldest ? Math.max(0, Date.now() - oldest.createdAt) : undefined,
      unread: this.ledger.unread,
      corruptSkipped: this.ledger.corruptSkipped,
      tornBytesCut: this.tornBytesCut,
      droppedOldest: writer.droppedOldest,
      droppedRecords: writer.droppedRecords,
      fsyncs: writer.fsyncs,
      fsyncErrors: writer.fsyncErrors,
      full: writer.full,
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
    const payloadCrc = crc32(frame.subarray(HEADER_BYTES));
    return new Promise<void>((resolve, reject) => {
      this.writer.append({ frame, payloadLength, payloadCrc, records, valueBytes, createdAt: Date.now(), resolve, reject });
    });
  }

  /**
   * Resolves when room may have been freed since the last refused append
   * (at once when that happened already): an ack drained a segment, oldest
   * entries were dropped, an append succeeded, the filesystem shows room
   * again after ENOSPC (whoever freed it), or the spool closed.
   */
  whenRoom(): Promise<void> {
    return this.room.wait();
  }

  /**
   * The oldest entry not handed out yet, read back from disk and checked
   * (an entry whose CRC no longer holds is skipped, counted and logged), or
   * undefined when there is none. Calls are served one at a time, in order;
   * several entries may be out (in flight) before the first is acked.
   */
  next(): Promise<SpoolEntry | undefined> {
    return this.reader.next();
  }

  /**
   * Marks an entry handed out by next() as delivered. Entries are acked in
   * the order next() gave them (acking one already dropped is a no-op).
   * Deletes segments left with nothing to replay, and persists the cursor
   * (synced per the fsync policy). When the cursor cannot be written the
   * ack still holds in memory and drained segments are still deleted (a
   * restart may then send a few entries again, never skip one); the error
   * is thrown after that.
   */
  async ack(entry: SpoolEntry): Promise<void> {
    if (this.closed) throw new SpoolClosedError('spool is closed');
    const segment = this.ledger.ack(entry.seq);
    if (!segment) return;
    let failed: unknown;
    await this.ledger.persist().catch((err: unknown) => (failed = err));
    if (this.ledger.oldest?.segment !== segment) await this.writer.requestCollect();
    if (failed) throw failed;
  }

  /**
   * Waits for queued appends, syncs segment and cursor (every policy), and
   * releases the directory. Entries handed out and not acked are replayed
   * after the next open.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writer.close();
    await this.reader.close();
    await this.ledger.close();
    this.dirLock.release();
    this.room.close();
  }
}

/**
 * The spool's ledger, as in Vector's disk buffer: which entries are not
 * acked yet (oldest first), which of them the reader handed out, and the
 * read cursor (the oldest seq not acked), persisted in the cursor file.
 * Pure bookkeeping plus the cursor writes; the writer and the reader act
 * on the files.
 */
import type { Logger } from '../observe/logger.ts';
import type { CursorFile } from './cursor.ts';
import { ioError, SpoolError } from './errors.ts';
import type { FsyncPolicy } from './options.ts';
import type { Segment } from './segments.ts';

export interface IndexEntry {
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

/** What dropping a segment's entries removed. */
export interface Dropped {
  entries: number;
  records: number;
  firstSeq: number | undefined;
  lastSeq: number | undefined;
}

export class Ledger {
  /** Entries not yet acked, oldest first, from `head`. */
  private pending: IndexEntry[] = [];
  private head = 0;
  /** Next entry for the reader, an index into pending (>= head). */
  private readPos = 0;
  /** Oldest seq not acked; persisted in the cursor file. */
  cursor: number;
  /** The seq the next append gets. */
  nextSeq: number;
  /** Records and bytes on disk of the entries not acked (skipped ones excluded). */
  records = 0;
  bytes = 0;
  corruptSkipped = 0;

  private readonly cursorFile: CursorFile;
  private readonly fsync: FsyncPolicy;
  private readonly log: Logger;
  /** With fsync: interval, written but not synced yet. */
  private cursorDirty = false;
  private cursorWrite: Promise<void> | undefined;
  private cursorAgain: Promise<void> | undefined;

  constructor(cursorFile: CursorFile, cursor: number, fsync: FsyncPolicy, log: Logger) {
    this.cursorFile = cursorFile;
    this.cursor = cursor;
    this.nextSeq = Math.max(cursor, 1);
    this.fsync = fsync;
    this.log = log;
  }

  push(entry: IndexEntry): void {
    this.pending.push(entry);
    this.records += entry.records;
    this.bytes += entry.frameBytes;
  }

  /** True when every entry appended has been acked (or dropped). */
  get isEmpty(): boolean {
    return this.head >= this.pending.length;
  }

  get entries(): number {
    return this.pending.length - this.head;
  }

  /** Entries not handed out yet. */
  get unread(): number {
    let n = 0;
    for (let i = Math.max(this.readPos, this.head); i < this.pending.length; i++) if (!this.pending[i]!.skipped) n++;
    return n;
  }

  /** The oldest entry not acked. */
  get oldest(): IndexEntry | undefined {
    return this.pending[this.head];
  }

  /** The next entry for the reader (not handed out, not skipped), without taking it. */
  nextUnread(): IndexEntry | undefined {
    if (this.readPos < this.head) this.readPos = this.head;
    while (this.readPos < this.pending.length) {
      const entry = this.pending[this.readPos]!;
      if (!entry.skipped && !entry.handedOut) return entry;
      this.readPos++;
    }
    return undefined;
  }

  /** The entry was dropped (drop_oldest) or acked since it was picked. */
  gone(entry: IndexEntry): boolean {
    return entry.seq < this.cursor;
  }

  handOut(entry: IndexEntry): void {
    entry.handedOut = true;
    this.passed(entry);
  }

  /** A corrupt entry found when read back: never handed out; the cursor moves past it once it is the oldest. Returns whether the cursor moved. */
  skip(entry: IndexEntry): boolean {
    entry.skipped = true;
    this.corruptSkipped++;
    this.records -= entry.records;
    this.bytes -= entry.frameBytes;
    this.passed(entry);
    return this.skipHeadSkipped();
  }

  private passed(entry: IndexEntry): void {
    if (this.pending[this.readPos] === entry) this.readPos++;
  }

  /**
   * Marks the entry handed out with `seq` as acked: it must be the oldest.
   * Returns its segment, or undefined when it was acked or dropped before.
   */
  ack(seq: number): Segment | undefined {
    if (seq < this.cursor) return undefined;
    const head = this.pending[this.head];
    if (!head || head.seq !== seq || !head.handedOut) {
      throw new SpoolError(`spool entries must be acked in order: expected seq ${head?.seq ?? 'none'} (handed out), got ${seq}`);
    }
    this.cursor = seq + 1;
    this.removeHead();
    this.skipHeadSkipped();
    return head.segment;
  }

  /** Removes the entries of `segment` (the oldest) not acked yet, moving the cursor past them. */
  drop(segment: Segment): Dropped {
    const dropped: Dropped = { entries: 0, records: 0, firstSeq: undefined, lastSeq: undefined };
    while (this.head < this.pending.length && this.pending[this.head]!.segment === segment) {
      const entry = this.pending[this.head]!;
      dropped.firstSeq ??= entry.seq;
      dropped.lastSeq = entry.seq;
      if (!entry.skipped) {
        dropped.entries++;
        dropped.records += entry.records;
      }
      this.removeHead();
    }
    if (dropped.lastSeq !== undefined) this.cursor = Math.max(this.cursor, dropped.lastSeq + 1);
    return dropped;
  }

  private removeHead(): void {
    const entry = this.pending[this.head]!;
    if (!entry.skipped) {
      this.records -= entry.records;
      this.bytes -= entry.frameBytes;
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

  /** Writes the cursor; concurrent calls share writes (each resolves after a write that started after it). */
  persist(): Promise<void> {
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
        return this.persist();
      });
    return this.cursorAgain;
  }

  /** persist(), a failure logged: for cursor moves whose caller cannot act on an error (the next write carries the move). */
  persistOrLog(): Promise<void> {
    return this.persist().catch((err: unknown) => this.log.error({ err }, 'spool: cannot write the cursor'));
  }

  private async writeCursor(): Promise<void> {
    try {
      await this.cursorFile.write(this.cursor);
      if (this.fsync === 'interval') this.cursorDirty = true;
      else await this.cursorFile.sync();
    } catch (err) {
      throw ioError(err, 'writing the spool cursor');
    }
  }

  /** With fsync: interval, the periodic sync of the cursor. */
  async syncIfDirty(): Promise<void> {
    if (!this.cursorDirty) return;
    this.cursorDirty = false;
    await this.cursorFile.sync().catch((err: unknown) => {
      this.cursorDirty = true;
      this.log.error({ err }, 'spool: fdatasync of the cursor failed');
    });
  }

  /** Waits for cursor writes under way, syncs and closes the file. */
  async close(): Promise<void> {
    await this.cursorWrite?.catch(() => undefined);
    await this.cursorAgain?.catch(() => undefined);
    await this.cursorFile.sync().catch(() => undefined);
    await this.cursorFile.close().catch(() => undefined);
  }
}

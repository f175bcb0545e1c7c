/**
 * Reads spooled entries back, oldest first, for replay: one entry at a
 * time (calls are served in order), each checked again (header and CRC);
 * a corrupt one is skipped, counted and logged, and the cursor moves past it.
 *
 * It keeps one read handle, on the segment it reads now. The handle is
 * closed before that segment is deleted (SegmentFiles.onDelete calls
 * release): an unlinked file still open keeps its disk space.
 */
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import type { OutMessage } from '../batch/types.ts';
import type { Logger } from '../observe/logger.ts';
import { ioError, SpoolClosedError } from './errors.ts';
import { decodePayload, HEADER_BYTES, payloadCrcOk, readHeader } from './format.ts';
import type { IndexEntry, Ledger } from './ledger.ts';
import type { Segment } from './segments.ts';

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

export class SpoolReader {
  private readonly ledger: Ledger;
  private readonly log: Logger;
  private reading: Promise<unknown> = Promise.resolve();
  private handle: FileHandle | undefined;
  private segment: Segment | undefined;
  private closed = false;

  constructor(ledger: Ledger, log: Logger) {
    this.ledger = ledger;
    this.log = log;
  }

  /** The oldest entry not handed out yet, or undefined when there is none. */
  next(): Promise<SpoolEntry | undefined> {
    const result = this.reading.then(() => this.readNext());
    this.reading = result.catch(() => undefined);
    return result;
  }

  private async readNext(): Promise<SpoolEntry | undefined> {
    if (this.closed) throw new SpoolClosedError('spool is closed');
    const ledger = this.ledger;
    while (true) {
      const entry = ledger.nextUnread();
      if (!entry) return undefined;
      let buf: Buffer;
      try {
        buf = await this.readFrame(entry);
      } catch (err) {
        if (ledger.gone(entry)) continue; // dropped meanwhile (drop_oldest)
        // Removed by someone else: its entries are lost like corrupt ones (retrying would stall replay for good).
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') buf = Buffer.alloc(0);
        else throw ioError(err, `reading ${entry.segment.path} at ${entry.offset}`);
      }
      if (ledger.gone(entry)) continue;
      const header = readHeader(buf, 0);
      let topics: Map<string, OutMessage[]> | undefined;
      let problem = buf.length === 0 ? 'segment file missing' : 'CRC mismatch';
      if (header && header.seq === entry.seq && header.payloadLength + HEADER_BYTES === buf.length && payloadCrcOk(buf, 0, header)) {
        try {
          topics = decodePayload(buf, HEADER_BYTES, buf.length);
        } catch (err) {
          problem = (err as Error).message;
        }
      }
      if (!topics) {
        this.log.error({ segment: entry.segment.path, offset: entry.offset, seq: entry.seq, records: entry.records, problem }, 'spool: corrupt entry skipped on replay; its records are lost');
        if (ledger.skip(entry)) await ledger.persistOrLog();
        continue;
      }
      ledger.handOut(entry);
      return { seq: entry.seq, topics, records: entry.records, bytes: entry.valueBytes, createdAt: entry.createdAt };
    }
  }

  private async readFrame(entry: IndexEntry): Promise<Buffer> {
    const handle = await this.handleFor(entry.segment);
    const buf = Buffer.allocUnsafe(entry.frameBytes);
    let done = 0;
    while (done < buf.length) {
      const { bytesRead } = await handle.read(buf, done, buf.length - done, entry.offset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done === buf.length ? buf : buf.subarray(0, done);
  }

  private async handleFor(segment: Segment): Promise<FileHandle> {
    if (this.segment === segment && this.handle) return this.handle;
    await this.closeHandle();
    const handle = await open(segment.path, 'r');
    if (segment.deleted || this.closed) {
      // Deleted while it was being opened: holding it would keep its space.
      await handle.close().catch(() => undefined);
      throw new Error(`segment ${segment.path} was deleted`);
    }
    this.handle = handle;
    this.segment = segment;
    return handle;
  }

  private async closeHandle(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    this.segment = undefined;
    // A read under way finishes first (FileHandle.close waits for it).
    if (handle) await handle.close().catch(() => undefined);
  }

  /** Closes the read handle when it is on `segment` (about to be deleted). */
  async release(segment: Segment): Promise<void> {
    if (this.segment === segment) await this.closeHandle();
  }

  /** Waits for a read under way and closes the handle. */
  async close(): Promise<void> {
    this.closed = true;
    await this.reading.catch(() => undefined);
    await this.closeHandle();
  }
}

import type { FileHandle } from 'node:fs/promises';
import type { OffsetTracker } from '../checkpoint/offset-tracker.ts';
import { SizeTimeline } from '../observe/size-timeline.ts';
import type { FileSource, LineSink } from './types.ts';

const LF = 0x0a;

/** For callers that check the content themselves (tests of the reading alone). */
const unchecked = async (): Promise<boolean> => true;
const CR = 0x0d;

export interface LineLimits {
  maxLineBytes: number;
  /** true: ship the first maxLineBytes of a longer line; false: skip it. */
  truncate: boolean;
}

/** eof: all read; full: the sink said stop; changed: the file no longer holds the content it had (truncated and rewritten). */
export type ReadOutcome = 'eof' | 'full' | 'changed';

export interface LongLineCounter {
  longLine(file: FileSource, truncated: boolean): void;
}

/**
 * One followed file: its descriptor (while open: idle files may be closed
 * to bound descriptors, and reopened by identity when they grow), the
 * offset of the next line to ship, and a partial last line that waits for
 * its newline.
 */
export class TailedFile implements FileSource {
  readonly key: string;
  readonly id: string;
  path: string;
  source!: Readonly<Record<string, string>>;
  sourceJson!: string;
  readonly tracker: OffsetTracker;
  handle: FileHandle | undefined;
  /** File offset after the last line handed to the sink: where reading resumes. */
  position: number;
  /** Bytes of a partial line starting at `position` (only between reads). */
  private partial: Buffer | undefined;
  /** Inside a line longer than the limit: its kept prefix (truncate) or an empty marker (skip). */
  private longLine: Buffer | undefined;
  /** File offset of the next byte to read. */
  private nextRead: number;
  /** The path now names another file, or none: read to the end, then release. */
  detached = false;
  /** No longer followed: late acks must not resurrect its checkpoint. */
  released = false;
  lastGrowthAt = Date.now();
  /** When the path stopped naming this file (rotate_wait_ms counts from the later of this and the last growth). */
  detachedAt = 0;
  /** The file's size when last checked (for the lag metrics). */
  size = 0;
  /** When its sizes were first seen (for logship_file_lag_seconds). */
  readonly sizes = new SizeTimeline();
  /** Set when a read is asked for; a request that comes in during a read is not lost. */
  wanted = false;
  /** When the poll looks at it next, and how long it waits after that: short while it changes, longer while quiet. */
  nextCheckAt = 0;
  checkIntervalMs = 0;
  /** Size and mtime at the last check: unchanged, its first line cannot have changed either. */
  checkedSize = -1;
  checkedMtimeMs = -1;
  private reading = false;
  private closeAfterRead = false;

  constructor(key: string, id: string, path: string, handle: FileHandle, position: number, tracker: OffsetTracker, source: Readonly<Record<string, string>>) {
    this.key = key;
    this.id = id;
    this.path = path;
    this.handle = handle;
    this.position = position;
    this.nextRead = position;
    this.tracker = tracker;
    this.setSource(source);
  }

  /** Where the file is described as being (after a rename): the object and its JSON, once. */
  setSource(source: Readonly<Record<string, string>>): void {
    this.source = source;
    this.sourceJson = JSON.stringify(source);
  }

  /** The next byte to read (past `position` by a partial line waiting for its newline). */
  get readOffset(): number {
    return this.nextRead;
  }

  /** Whether a partial last line waits for its newline. */
  get hasPartial(): boolean {
    return this.partial !== undefined;
  }

  /**
   * Reads appended bytes into `buf` (shared across files: reads are
   * serialised by the tailer) and hands every complete line to the sink.
   * `sameContent` is asked after each chunk is read and before any of its
   * lines is handed over: a file truncated and rewritten under us is never
   * shipped as this file's content. The file must be open.
   */
  async read(buf: Buffer, sink: LineSink, limits: LineLimits, counter: LongLineCounter, sameContent = unchecked): Promise<ReadOutcome> {
    this.reading = true;
    try {
      return await this.readLines(this.handle!, buf, sink, limits, counter, sameContent);
    } finally {
      this.reading = false;
      if (this.closeAfterRead) await this.closeHandle();
    }
  }

  private async readLines(
    handle: FileHandle,
    buf: Buffer,
    sink: LineSink,
    limits: LineLimits,
    counter: LongLineCounter,
    sameContent: () => Promise<boolean>,
  ): Promise<ReadOutcome> {
    let carry = 0;
    if (this.partial) {
      carry = this.partial.copy(buf, 0);
      this.partial = undefined;
    }
    while (true) {
      if (carry === buf.length) {
        // No newline in a full buffer: the line is over the limit (buf > maxLineBytes).
        this.beginLongLine(buf, limits);
        carry = 0;
      }
      const { bytesRead } = await handle.read(buf, carry, buf.length - carry, this.nextRead);
      if (bytesRead === 0 || !(await sameContent())) {
        if (carry > 0) this.partial = Buffer.from(buf.subarray(0, carry));
        return bytesRead === 0 ? 'eof' : 'changed';
      }
      this.lastGrowthAt = Date.now();
      const bufOffset = this.nextRead - carry; // file offset of buf[0]
      this.nextRead += bytesRead;
      const length = carry + bytesRead;
      let start = 0;
      let newline = buf.indexOf(LF, carry);
      while (newline !== -1 && newline < length) {
        const next = bufOffset + newline + 1;
        let accepted = true;
        if (this.longLine !== undefined) {
          accepted = this.endLongLine(next, limits, sink, counter);
        } else {
          let end = newline;
          if (end > start && buf[end - 1] === CR) end--;
          if (end - start > limits.maxLineBytes) {
            counter.longLine(this, limits.truncate);
            if (limits.truncate) accepted = sink.line(this, buf, start, start + limits.maxLineBytes, this.position, next, true);
          } else {
            accepted = sink.line(this, buf, start, end, this.position, next, false);
          }
        }
        this.position = next;
        start = newline + 1;
        if (!accepted) {
          // Full: forget what is buffered past this line; the file keeps it.
          this.nextRead = next;
          return 'full';
        }
        newline = buf.indexOf(LF, start);
      }
      if (this.longLine !== undefined) {
        carry = 0; // still inside the over-long line: drop its middle
      } else {
        carry = length - start;
        buf.copyWithin(0, start, length);
      }
    }
  }

  private beginLongLine(buf: Buffer, limits: LineLimits): void {
    if (this.longLine === undefined) {
      this.longLine = limits.truncate ? Buffer.from(buf.subarray(0, limits.maxLineBytes)) : Buffer.alloc(0);
    }
  }

  /** The newline of an over-long line arrived: ship its kept prefix (truncate) or nothing (skip). */
  private endLongLine(next: number, limits: LineLimits, sink: LineSink, counter: LongLineCounter): boolean {
    const prefix = this.longLine!;
    this.longLine = undefined;
    counter.longLine(this, limits.truncate);
    if (!limits.truncate) return true;
    return sink.line(this, prefix, 0, prefix.length, this.position, next, true);
  }

  /**
   * Ships a partial last line as if its newline had come (after a quiet
   * time, or at shutdown, by setting). Bytes appended to it later arrive
   * as a line of their own.
   */
  flushPartial(sink: LineSink, limits: LineLimits): boolean {
    const partial = this.partial;
    if (!partial) return true;
    this.partial = undefined;
    const next = this.position + partial.length;
    const end = Math.min(partial.length, limits.maxLineBytes);
    const accepted = sink.line(this, partial, 0, end, this.position, next, end < partial.length);
    this.position = next;
    return accepted;
  }

  /** Closes the descriptor (it is reopened by identity to read again); waits for a read in progress. */
  async closeHandle(): Promise<void> {
    if (this.reading) {
      this.closeAfterRead = true;
      return;
    }
    this.closeAfterRead = false;
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close().catch(() => undefined);
  }

  /** Attaches a reopened descriptor of the same file. */
  reopen(handle: FileHandle): void {
    this.handle = handle;
  }
}

import type { InputCounters } from '../observe/stats.ts';
import type { FileSource, LineSink } from '../tail/types.ts';

/** This many lines failing to parse from the first one read: the file is not in the input's format. */
export const FIRST_LINES = 10;

/**
 * Warns once per file when none of its first lines parses: a glob that
 * also matches nginx's error.log, or the wrong format. Without it, the
 * only sign is a dead-letter topic filling up. Wraps the encoder and reads
 * the parse_errors counter around each of a file's first lines; once a
 * file is decided, a line costs one comparison.
 */
export class FirstLinesWatch implements LineSink {
  private readonly inner: LineSink;
  private readonly counters: InputCounters;
  private readonly warn: (file: FileSource, lines: number) => void;
  private readonly failed = new WeakMap<FileSource, number>();
  private readonly decided = new WeakSet<FileSource>();
  /** The last decided file: lines come in runs per file. */
  private last: FileSource | undefined;
  readonly flush?: (file: FileSource) => boolean;

  constructor(inner: LineSink, counters: InputCounters, warn: (file: FileSource, lines: number) => void) {
    this.inner = inner;
    this.counters = counters;
    this.warn = warn;
    if (inner.flush) this.flush = (file) => inner.flush!(file);
  }

  line(file: FileSource, buf: Buffer, start: number, end: number, lineOffset: number, nextOffset: number, truncated: boolean): boolean {
    if (file === this.last) return this.inner.line(file, buf, start, end, lineOffset, nextOffset, truncated);
    if (this.decided.has(file)) {
      this.last = file;
      return this.inner.line(file, buf, start, end, lineOffset, nextOffset, truncated);
    }
    const before = this.counters.parse_errors;
    const accepted = this.inner.line(file, buf, start, end, lineOffset, nextOffset, truncated);
    if (this.counters.parse_errors === before) {
      this.decide(file);
      return accepted;
    }
    const failed = (this.failed.get(file) ?? 0) + 1;
    this.failed.set(file, failed);
    if (failed >= FIRST_LINES) {
      this.decide(file);
      this.warn(file, failed);
    }
    return accepted;
  }

  private decide(file: FileSource): void {
    this.decided.add(file);
    this.failed.delete(file);
    this.last = file;
  }
}

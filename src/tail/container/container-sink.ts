import type { FileSource, LineSink } from '../types.ts';
import { detectFormat, unwrap, Unwrapped, type ContainerFormat, type ContainerMode } from './unwrap.ts';

/** Rare events, for a metric and a log line each (not called for good lines). */
export interface ContainerEvents {
  /** A physical line is not a valid wrapper line; it was passed on raw. */
  malformed(file: FileSource, reason: string, lineOffset: number): void;
  /** A joined message reached `maxBytes`; the rest of it is dropped, the message flagged truncated. */
  longMessage(file: FileSource, lineOffset: number): void;
}

export interface ContainerSinkOptions {
  mode: ContainerMode;
  /** Longest message (joined from parts) passed on, in bytes: e.g. the input's max_line_bytes. */
  maxBytes: number;
  events?: ContainerEvents;
}

/** A message being joined from partial lines of one stream. */
class Join {
  /** File offset of the first part: the logical line's offset (its record id). */
  readonly first: number;
  buf: Buffer;
  len = 0;
  truncated = false;
  /** Reached maxBytes (reported once). */
  capped = false;
  constructor(first: number, buf: Buffer) {
    this.first = first;
    this.buf = buf;
  }
}

class FileState {
  format: ContainerFormat | undefined;
  /** nextOffset of the last physical line seen: where the next one should start. */
  expect = -1;
  stdout: Join | undefined;
  stderr: Join | undefined;
  constructor(format: ContainerFormat | undefined) {
    this.format = format;
  }
}

const EMPTY = Buffer.alloc(0);
const FIRST_JOIN_BYTES = 32 * 1024;

/**
 * A LineSink in front of the real one: unwraps container runtime lines (CRI
 * or docker json-file, or `auto`: whichever the first line of each file
 * shows, kept for that file) and passes on one logical line per message,
 * partial lines joined.
 *
 * Offsets, so that checkpoints and record ids stay right:
 * - a joined message is passed on once, with `lineOffset` = offset of its
 *   first part (stable record id) and `nextOffset` = offset after its last;
 *   the parts before are only buffered (answered `true`), never reported,
 *   so a checkpoint cannot land between parts: after a restart, reading
 *   begins again at the first part;
 * - stdout and stderr lines are interleaved in one file and a message is
 *   joined per stream. While a message of one stream is being joined, every
 *   line passed on for the file reports `nextOffset` no further than that
 *   message's first part (the checkpoint waits for it). Such a line thus has
 *   `nextOffset < lineOffset`; after a crash it is read and sent again with
 *   the same id. nextOffsets passed on for a file never go backwards.
 *
 * `buf` passed on is only valid during the call, as from the tailer: it is
 * the tailer's buffer (CRI, docker without escapes: no copy), this sink's
 * scratch buffer (docker with escapes), or the join buffer (joined message).
 *
 * Malformed lines (not CRI / not docker, or undetectable in `auto`) are
 * passed on raw, unchanged, with `events.malformed(reason)`: the parser will
 * not match them and its on_error policy (dead letter by default) keeps
 * them; nothing is dropped silently. In `auto`, a file whose first lines
 * are neither format stays undecided until a line is.
 *
 * Memory: at most `maxBytes` per file and stream being joined; parts beyond
 * are dropped and the message is flagged `truncated`. A gap in offsets (the
 * tailer skipped an over-long line) flags pending messages truncated; an
 * offset going back (the file was truncated and is read again from 0)
 * discards them.
 */
export class ContainerLineSink implements LineSink {
  private readonly inner: LineSink;
  private readonly fixed: ContainerFormat | undefined;
  private readonly maxBytes: number;
  private readonly events: ContainerEvents | undefined;
  private readonly files = new WeakMap<FileSource, FileState>();
  private readonly out = new Unwrapped();
  private lastFile: FileSource | undefined;
  private lastState: FileState | undefined;

  constructor(inner: LineSink, options: ContainerSinkOptions) {
    this.inner = inner;
    this.fixed = options.mode === 'auto' ? undefined : options.mode;
    this.maxBytes = options.maxBytes;
    this.events = options.events;
  }

  line(file: FileSource, buf: Buffer, start: number, end: number, lineOffset: number, nextOffset: number, truncated: boolean): boolean {
    const st = this.state(file);
    if (lineOffset !== st.expect && st.expect !== -1) this.discontinuity(st, lineOffset);
    st.expect = nextOffset;
    const out = this.out;
    let format = st.format;
    if (format === undefined) {
      format = detectFormat(buf, start, end, out);
      if (format === undefined) {
        return this.malformed(file, st, 'neither a CRI nor a docker json-file line (container: auto)', buf, start, end, lineOffset, nextOffset, truncated);
      }
      st.format = format;
    }
    if (!unwrap(format, buf, start, end, out, truncated)) {
      return this.malformed(file, st, out.error, buf, start, end, lineOffset, nextOffset, truncated);
    }
    const stderr = out.stream === 'stderr';
    let join = stderr ? st.stderr : st.stdout;
    if (out.partial) {
      if (join === undefined) {
        join = new Join(lineOffset, EMPTY);
        if (stderr) st.stderr = join;
        else st.stdout = join;
      }
      this.append(file, join, out);
      return true;
    }
    if (join === undefined) {
      // A whole line: passed on as it is, no copy.
      return this.inner.line(file, out.buf, out.start, out.end, lineOffset, held(st, nextOffset), out.cut);
    }
    this.append(file, join, out);
    if (stderr) st.stderr = undefined;
    else st.stdout = undefined;
    return this.inner.line(file, join.buf, 0, join.len, join.first, held(st, nextOffset), join.truncated);
  }

  /** Whether a message of `file` is waiting for its last part. */
  pending(file: FileSource): boolean {
    const st = this.files.get(file);
    return st !== undefined && (st.stdout !== undefined || st.stderr !== undefined);
  }

  /**
   * Passes on the messages of `file` still waiting for their last part, as
   * they are, for a file that will not grow any more (released after
   * rotation or deletion; a runtime writes a last line without newline as a
   * partial one when the container exits). Not at shutdown: the checkpoint
   * stays before them and the next run joins them whole. Returns the inner
   * sink's last answer (true when nothing was pending).
   */
  flush(file: FileSource): boolean {
    const st = this.files.get(file);
    if (st === undefined) return true;
    let accepted = true;
    while (st.stdout !== undefined || st.stderr !== undefined) {
      let join: Join;
      if (st.stderr === undefined || (st.stdout !== undefined && st.stdout.first < st.stderr.first)) {
        join = st.stdout!;
        st.stdout = undefined;
      } else {
        join = st.stderr;
        st.stderr = undefined;
      }
      accepted = this.inner.line(file, join.buf, 0, join.len, join.first, held(st, st.expect), join.truncated);
    }
    return accepted;
  }

  private state(file: FileSource): FileState {
    if (file === this.lastFile) return this.lastState!;
    let st = this.files.get(file);
    if (st === undefined) {
      st = new FileState(this.fixed);
      this.files.set(file, st);
    }
    this.lastFile = file;
    this.lastState = st;
    return st;
  }

  private discontinuity(st: FileState, lineOffset: number): void {
    if (lineOffset < st.expect) {
      // Read again from an earlier offset (truncation): the parts held belong to content that is gone.
      st.stdout = undefined;
      st.stderr = undefined;
    } else {
      // Bytes were skipped (an over-long line): a part may be missing.
      if (st.stdout) st.stdout.truncated = true;
      if (st.stderr) st.stderr.truncated = true;
    }
  }

  private malformed(
    file: FileSource,
    st: FileState,
    reason: string,
    buf: Buffer,
    start: number,
    end: number,
    lineOffset: number,
    nextOffset: number,
    truncated: boolean,
  ): boolean {
    this.events?.malformed(file, reason, lineOffset);
    return this.inner.line(file, buf, start, end, lineOffset, held(st, nextOffset), truncated);
  }

  /** Appends the unwrapped part to the join, up to maxBytes. */
  private append(file: FileSource, join: Join, out: Unwrapped): void {
    if (out.cut) join.truncated = true;
    let n = out.end - out.start;
    const room = this.maxBytes - join.len;
    if (n > room) {
      if (!join.capped) {
        join.capped = true;
        this.events?.longMessage(file, join.first);
      }
      join.truncated = true;
      n = room;
    }
    if (n === 0) return;
    const need = join.len + n;
    if (need > join.buf.length) {
      const grown = Buffer.allocUnsafe(Math.min(this.maxBytes, Math.max(need, 2 * join.buf.length, FIRST_JOIN_BYTES)));
      join.buf.copy(grown, 0, 0, join.len);
      join.buf = grown;
    }
    out.buf.copy(join.buf, join.len, out.start, out.start + n);
    join.len = need;
  }
}

/** nextOffset to report for `file`: no further than the first part of a message still being joined. */
function held(st: FileState, nextOffset: number): number {
  let h = nextOffset;
  if (st.stdout !== undefined && st.stdout.first < h) h = st.stdout.first;
  if (st.stderr !== undefined && st.stderr.first < h) h = st.stderr.first;
  return h;
}

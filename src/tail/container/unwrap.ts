/**
 * Unwrapping of one physical container log line, as the container runtime
 * wrote it, into the application's message.
 *
 * - Kubernetes CRI (containerd, CRI-O): `<RFC 3339 time> <stdout|stderr> <P|F>[:<more tags>] <message>`.
 *   `P` marks a partial line (the runtime splits long lines at 16 KiB, and
 *   writes an unterminated last line as `P` when the stream ends); the
 *   message goes on in the next line of the same stream, up to an `F` line.
 * - Docker `json-file`: `{"log":"<JSON string>","stream":"stdout","time":"…"}`.
 *   A `log` ending in `\n` is a whole line; without it, a partial line
 *   (docker splits at 16 KiB) continued by the next line of the same stream.
 *
 * Works on bytes, not strings: the tailer hands over `buf[start, end)` and
 * the parser wants bytes too, so the message is reported as a range of a
 * buffer. For CRI, and for docker lines with no JSON escape other than the
 * final `\n`, that is a range of the input buffer itself (no copy); a docker
 * line with escapes is decoded into a scratch buffer owned by the result
 * object (decoded JSON is never longer than its encoding). No allocation per
 * line: callers reuse one `Unwrapped` for every line.
 */

export type ContainerFormat = 'cri' | 'docker';
export type ContainerMode = ContainerFormat | 'auto';
export type StreamName = 'stdout' | 'stderr';

/** Result of unwrapping one line; reuse one instance for all lines (it owns the scratch buffer). */
export class Unwrapped {
  /** Holds the message: the input buffer, or `scratch` when JSON escapes had to be decoded. */
  buf: Buffer = EMPTY;
  start = 0;
  end = 0;
  stream: StreamName = 'stdout';
  /** The message goes on in the next line of the same stream (CRI `P`, docker `log` without `\n`). */
  partial = false;
  /** The input line was cut (over max_line_bytes) inside the wrapper: the message is a prefix. */
  cut = false;
  /** Why the line is not a valid wrapper line (when unwrap returned false). */
  error = '';
  private scratch: Buffer = EMPTY;

  /** Scratch space of at least `size` bytes (grows, never shrinks: bounded by the longest physical line). */
  scratchOf(size: number): Buffer {
    if (this.scratch.length < size) this.scratch = Buffer.allocUnsafe(Math.max(size, 2 * this.scratch.length, 1024));
    return this.scratch;
  }

  /** The message as a string (for tests and tools; the hot path uses the byte range). */
  text(): string {
    return this.buf.toString('utf8', this.start, this.end);
  }

  fail(reason: string): false {
    this.error = reason;
    return false;
  }
}

const EMPTY = Buffer.alloc(0);

const SPACE = 0x20;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const LF = 0x0a;
const CR = 0x0d;
const ZERO = 0x30;
const NINE = 0x39;

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= ZERO && c <= NINE;
}

const DASH = 0x2d;
/** Longest time accepted: 9-digit fraction and a loose numeric offset, with room to spare. */
const MAX_TIME_BYTES = 48;
const LETTER_T = 0x54;

/**
 * Whether `buf[start, end)` is an RFC 3339 time as runtimes write it:
 * `2006-01-02T15:04:05`, an optional fraction, then `Z` or a numeric offset.
 * The offset is checked loosely (`[+-]` then digits and colons): conmon
 * prints half-hour zones as `+05:1800`.
 */
function isCriTime(buf: Buffer, s: number, end: number): boolean {
  if (end - s < 20) return false;
  if (
    !isDigit(buf[s]) || !isDigit(buf[s + 1]) || !isDigit(buf[s + 2]) || !isDigit(buf[s + 3]) || buf[s + 4] !== DASH ||
    !isDigit(buf[s + 5]) || !isDigit(buf[s + 6]) || buf[s + 7] !== DASH || !isDigit(buf[s + 8]) || !isDigit(buf[s + 9]) ||
    buf[s + 10] !== LETTER_T || !isDigit(buf[s + 11]) || !isDigit(buf[s + 12]) || buf[s + 13] !== COLON ||
    !isDigit(buf[s + 14]) || !isDigit(buf[s + 15]) || buf[s + 16] !== COLON || !isDigit(buf[s + 17]) || !isDigit(buf[s + 18])
  ) {
    return false;
  }
  let i = s + 19;
  if (buf[i] === 0x2e) {
    i++;
    if (!isDigit(buf[i])) return false;
    while (i < end && isDigit(buf[i])) i++;
  }
  if (i >= end) return false;
  const zone = buf[i];
  if (zone === 0x5a) return i + 1 === end;
  if (zone !== 0x2b && zone !== DASH) return false;
  if (i + 1 === end) return false;
  for (i++; i < end; i++) {
    const c = buf[i];
    if (c !== COLON && !isDigit(c)) return false;
  }
  return true;
}

/** 'stdout' / 'stderr' at `at` (followed by `after`), or undefined. */
function streamAt(buf: Buffer, at: number, end: number): StreamName | undefined {
  if (at + 6 > end) return undefined;
  // "std" then "out" or "err"
  if (buf[at] !== 0x73 || buf[at + 1] !== 0x74 || buf[at + 2] !== 0x64) return undefined;
  const a = buf[at + 3], b = buf[at + 4], c = buf[at + 5];
  if (a === 0x6f && b === 0x75 && c === 0x74) return 'stdout';
  if (a === 0x65 && b === 0x72 && c === 0x72) return 'stderr';
  return undefined;
}

/**
 * Unwraps a CRI line `<time> <stream> <P|F>[:tags] <message>` (the message
 * may be empty; a missing space after the tag is taken as an empty message).
 * The message is always a range of `buf`. Returns false, with `out.error`,
 * for a line that is not CRI.
 */
export function unwrapCri(buf: Buffer, start: number, end: number, out: Unwrapped, cut = false): boolean {
  out.cut = cut;
  // A time is about 30-35 bytes: look no further than MAX_TIME_BYTES for the space after it.
  let sp = start;
  const limit = Math.min(end, start + MAX_TIME_BYTES + 1);
  while (sp < limit && buf[sp] !== SPACE) sp++;
  if (sp === limit) return out.fail(sp === end ? 'CRI line: no space after the time' : 'CRI line: the first field is not an RFC 3339 time');
  if (!isCriTime(buf, start, sp)) return out.fail('CRI line: the first field is not an RFC 3339 time');
  const stream = streamAt(buf, sp + 1, end);
  if (stream === undefined || (sp + 7 < end && buf[sp + 7] !== SPACE)) return out.fail('CRI line: the stream is not stdout or stderr');
  if (sp + 8 >= end) return out.fail('CRI line: no P or F tag');
  const tag = buf[sp + 8];
  if (tag !== 0x50 && tag !== 0x46) return out.fail('CRI line: the tag is not P or F');
  sp += 9; // just after the tag letter
  const next = sp < end ? buf[sp] : SPACE;
  if (next === COLON) {
    // More tags (reserved by the CRI spec): skip them.
    sp = buf.indexOf(SPACE, sp);
    if (sp === -1 || sp >= end) sp = end - 1;
  } else if (next !== SPACE) {
    return out.fail('CRI line: the tag is not P or F');
  }
  out.buf = buf;
  out.start = Math.min(sp + 1, end);
  out.end = end;
  out.stream = stream;
  out.partial = tag === 0x50;
  return true;
}

const DOCKER_PREFIX = Buffer.from('{"log":"');
const STREAM_STDERR = Buffer.from(',"stream":"stderr"');

/** Whether `buf[at, end)` starts with `pattern` (a loop: cheaper than a native call for a few bytes). */
function matchAt(buf: Buffer, at: number, end: number, pattern: Buffer): boolean {
  const n = pattern.length;
  if (end - at < n) return false;
  for (let i = 0; i < n; i++) if (buf[at + i] !== pattern[i]) return false;
  return true;
}

/** Whether `buf[start, end)` starts like a docker json-file line. */
export function looksDocker(buf: Buffer, start: number, end: number): boolean {
  return matchAt(buf, start, end, DOCKER_PREFIX);
}

/**
 * The format of a file, from one of its lines: CRI if the line has the CRI
 * shape, docker if it starts with `{"log":"`; undefined for neither.
 */
export function detectFormat(buf: Buffer, start: number, end: number, out: Unwrapped): ContainerFormat | undefined {
  if (looksDocker(buf, start, end)) return 'docker';
  if (unwrapCri(buf, start, end, out)) return 'cri';
  return undefined;
}

function hexValue(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= ZERO && c <= NINE) return c - ZERO;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

function hex4(buf: Buffer, at: number): number {
  const a = hexValue(buf[at]), b = hexValue(buf[at + 1]), c = hexValue(buf[at + 2]), d = hexValue(buf[at + 3]);
  if (a < 0 || b < 0 || c < 0 || d < 0) return -1;
  return (a << 12) | (b << 8) | (c << 4) | d;
}

function putUtf8(dst: Buffer, w: number, cp: number): number {
  if (cp < 0x80) {
    dst[w++] = cp;
  } else if (cp < 0x800) {
    dst[w++] = 0xc0 | (cp >> 6);
    dst[w++] = 0x80 | (cp & 0x3f);
  } else if (cp < 0x10000) {
    dst[w++] = 0xe0 | (cp >> 12);
    dst[w++] = 0x80 | ((cp >> 6) & 0x3f);
    dst[w++] = 0x80 | (cp & 0x3f);
  } else {
    dst[w++] = 0xf0 | (cp >> 18);
    dst[w++] = 0x80 | ((cp >> 12) & 0x3f);
    dst[w++] = 0x80 | ((cp >> 6) & 0x3f);
    dst[w++] = 0x80 | (cp & 0x3f);
  }
  return w;
}

/** Simple one-letter JSON escapes, by the letter's byte; 0 = not one. */
const SIMPLE_ESCAPE = new Uint8Array(128);
SIMPLE_ESCAPE[QUOTE] = QUOTE;
SIMPLE_ESCAPE[BACKSLASH] = BACKSLASH;
SIMPLE_ESCAPE[0x2f] = 0x2f;
SIMPLE_ESCAPE[0x62] = 0x08;
SIMPLE_ESCAPE[0x66] = 0x0c;
SIMPLE_ESCAPE[0x6e] = LF;
SIMPLE_ESCAPE[0x72] = CR;
SIMPLE_ESCAPE[0x74] = 0x09;

/**
 * Unwraps a docker json-file line. The `log` string is decoded (JSON
 * escapes, `\uXXXX` with surrogate pairs; a lone surrogate becomes U+FFFD);
 * a trailing `\n` (and a `\r` before it) is removed and marks a whole line,
 * its absence a partial one. The stream is read from the `"stream"` member
 * docker writes right after `log` (stdout when absent). The rest of the
 * object (time, attrs) is not validated beyond its closing `}`.
 *
 * `cut`: the tailer cut the physical line at max_line_bytes. The JSON is
 * then incomplete: what the prefix of `log` decodes to is taken as a whole,
 * final message (marked `cut`), since whether it ended with `\n` is unknown
 * and taking it as final never swallows the next line.
 */
export function unwrapDocker(buf: Buffer, start: number, end: number, out: Unwrapped, cut = false): boolean {
  out.cut = cut;
  if (!looksDocker(buf, start, end)) return out.fail('docker json-file line: does not start with {"log":"');
  const from = start + DOCKER_PREFIX.length;
  // Short lines are the common case: plain loops beat native calls (indexOf, copy) per escape.
  let p = from;
  let c = 0;
  while (p < end) {
    c = buf[p]!;
    if (c === QUOTE || c === BACKSLASH) break;
    p++;
  }
  let closed: boolean;
  if (p < end && (c === QUOTE || (buf[p + 1] === 0x6e && p + 2 < end && buf[p + 2] === QUOTE))) {
    // No escape, or only the final `\n`: the message is a range of the input.
    out.buf = buf;
    out.start = from;
    out.partial = c === QUOTE;
    let msgEnd = p;
    if (!out.partial && msgEnd > from && buf[msgEnd - 1] === CR) msgEnd--;
    out.end = msgEnd;
    closed = true;
    p += c === QUOTE ? 0 : 2; // at the closing quote
  } else {
    const dst = out.scratchOf(end - from);
    let w = buf.copy(dst, 0, from, p);
    closed = false;
    while (p < end) {
      c = buf[p]!;
      if (c === QUOTE) {
        closed = true;
        break;
      }
      if (c !== BACKSLASH) {
        dst[w++] = c;
        p++;
        continue;
      }
      if (p + 1 >= end) break; // the line ends inside an escape
      const e = buf[p + 1]!;
      const simple = e < 128 ? SIMPLE_ESCAPE[e]! : 0;
      if (simple !== 0) {
        dst[w++] = simple;
        p += 2;
        continue;
      }
      if (e !== 0x75) return out.fail('docker json-file line: invalid escape in the log string');
      if (p + 6 > end) {
        if (cut) break;
        return out.fail('docker json-file line: invalid \\u escape in the log string');
      }
      let cp = hex4(buf, p + 2);
      if (cp < 0) return out.fail('docker json-file line: invalid \\u escape in the log string');
      p += 6;
      if (cp >= 0xd800 && cp <= 0xdbff) {
        const low = p + 6 <= end && buf[p] === BACKSLASH && buf[p + 1] === 0x75 ? hex4(buf, p + 2) : -1;
        if (low >= 0xdc00 && low <= 0xdfff) {
          cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          p += 6;
        } else {
          cp = 0xfffd;
        }
      } else if (cp >= 0xdc00 && cp <= 0xdfff) {
        cp = 0xfffd;
      }
      w = putUtf8(dst, w, cp);
    }
    if (!closed && !cut) return out.fail('docker json-file line: the log string is not terminated');
    out.buf = dst;
    out.start = 0;
    // A cut line: whether `log` ended with \n is unknown; take it as a whole message.
    out.partial = closed;
    if (closed && w > 0 && dst[w - 1] === LF) {
      out.partial = false;
      w--;
      if (w > 0 && dst[w - 1] === CR) w--;
    }
    out.end = w;
  }
  if (closed) {
    if (buf[end - 1] !== 0x7d && !cut) return out.fail('docker json-file line: the object does not end with }');
    out.stream = matchAt(buf, p + 1, end, STREAM_STDERR) ? 'stderr' : 'stdout';
  } else {
    out.stream = 'stdout';
  }
  return true;
}

/** Unwraps `line` in `format` (CRI or docker); returns false with `out.error` for a malformed line. */
export function unwrap(format: ContainerFormat, buf: Buffer, start: number, end: number, out: Unwrapped, cut = false): boolean {
  return format === 'cri' ? unwrapCri(buf, start, end, out, cut) : unwrapDocker(buf, start, end, out, cut);
}

export interface UnwrappedText {
  message: string;
  stream: StreamName;
  partial: boolean;
}

/**
 * Convenience for tools and tests (allocates): one line as a string, its
 * message as a string, or an Error with the reason.
 */
export function unwrapText(format: ContainerFormat, line: string): UnwrappedText | Error {
  const buf = Buffer.from(line);
  const out = new Unwrapped();
  if (!unwrap(format, buf, 0, buf.length, out)) return new Error(out.error);
  return { message: out.text(), stream: out.stream, partial: out.partial };
}

/**
 * Syslog over TCP (RFC 6587), both framings, told apart frame by frame as
 * rsyslog and syslog-ng do: a frame starting with a digit is octet-counted
 * (`LEN SP MSG`), one starting with anything else (`<`) ends at LF
 * (non-transparent framing).
 */

const SP = 0x20;
const LF = 0x0a;
/** An octet count has at most this many digits (a frame of up to 99,999,999 bytes). */
const MAX_COUNT_DIGITS = 8;

export interface Frame {
  buf: Buffer;
  start: number;
  end: number;
  /** Offset of the frame's first byte in the connection's byte stream: with the connection, its record id. */
  offset: number;
  /** Longer than the limit: cut to it. */
  truncated: boolean;
}

/**
 * Splits one connection's bytes into frames. A frame longer than
 * `maxBytes` is cut to its first `maxBytes` bytes (the rest skipped), so a
 * runaway sender cannot make it hold more.
 */
export class FrameSplitter {
  private readonly maxBytes: number;
  /** Bytes of the stream consumed before `pending`. */
  private consumed = 0;
  private pending: Buffer = Buffer.alloc(0);
  /** Inside a frame over the limit: its kept part, and what is left to skip (octet counting) or skip to LF. */
  private over: { head: Buffer; offset: number; skip: number | 'to-lf' } | undefined;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  /** Bytes received and not yet part of a whole frame (held until the rest arrives). */
  get buffered(): number {
    return this.pending.length;
  }

  /**
   * Hands every whole frame in `chunk` (with what was held) to `onFrame`;
   * returns a reason when the stream is not syslog framing (the connection
   * should be closed).
   */
  push(chunk: Buffer, onFrame: (frame: Frame) => void): string | undefined {
    const buf = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    let p = 0;
    while (p < buf.length) {
      if (this.over) {
        const { skip } = this.over;
        if (skip === 'to-lf') {
          const lf = buf.indexOf(LF, p);
          if (lf === -1) {
            p = buf.length;
            break;
          }
          p = lf + 1;
        } else {
          const n = Math.min(skip, buf.length - p);
          p += n;
          this.over.skip = skip - n;
          if (this.over.skip > 0) break;
        }
        const head = this.over.head;
        onFrame({ buf: head, start: 0, end: head.length, offset: this.over.offset, truncated: true });
        this.over = undefined;
        continue;
      }
      const offset = this.consumed + p;
      const c = buf[p]!;
      if (c >= 0x30 && c <= 0x39) {
        let q = p;
        let count = 0;
        while (q < buf.length && q - p < MAX_COUNT_DIGITS && buf[q]! >= 0x30 && buf[q]! <= 0x39) count = count * 10 + buf[q++]! - 0x30;
        if (q === buf.length) break; // the count is not whole yet
        if (buf[q] !== SP) return `octet count not followed by a space at stream offset ${this.consumed + q}`;
        const msgStart = q + 1;
        if (count > this.maxBytes) {
          const have = Math.min(buf.length - msgStart, this.maxBytes);
          if (have < this.maxBytes) break; // wait for the part kept
          this.over = { head: Buffer.from(buf.subarray(msgStart, msgStart + this.maxBytes)), offset, skip: count - this.maxBytes };
          p = msgStart + this.maxBytes;
          continue;
        }
        if (buf.length - msgStart < count) break;
        onFrame({ buf, start: msgStart, end: msgStart + count, offset, truncated: false });
        p = msgStart + count;
      } else {
        const lf = buf.indexOf(LF, p);
        if (lf === -1) {
          if (buf.length - p > this.maxBytes) {
            this.over = { head: Buffer.from(buf.subarray(p, p + this.maxBytes)), offset, skip: 'to-lf' };
            p = buf.length;
          }
          break;
        }
        if (lf - p > this.maxBytes) onFrame({ buf, start: p, end: p + this.maxBytes, offset, truncated: true });
        else if (lf > p) onFrame({ buf, start: p, end: lf, offset, truncated: false });
        p = lf + 1;
      }
    }
    this.consumed += p;
    // Held: the start of a frame not whole yet (at most maxBytes and a count), copied so the chunk can go.
    this.pending = p < buf.length ? Buffer.from(buf.subarray(p)) : Buffer.alloc(0);
    return undefined;
  }
}

import type { OutMessage } from './types.ts';

/**
 * One topic's records of a batch, held as a Kafka record batch (message
 * format v2) carries them: each record whole (length, attributes, timestamp
 * delta 0, offset delta = its index here, key, value, headers), back to
 * back. Sent as they are, they are the records section of a partition's
 * batch: the kafkajs patch's records.js copies them in one piece, and
 * rewrites only the prefix of each record when they land at other offsets
 * (after another batch's records in the same request).
 *
 * Why: a batch of strings and message objects lives until Kafka acks it,
 * so V8 copies it through the young generation and keeps it in the old
 * one (~16 bytes of heap per byte in flight, measured). As bytes, a
 * record's strings die as soon as the line is encoded, and a batch costs
 * what it weighs, outside the heap.
 *
 * Record i is buf[i === 0 ? 0 : ends[i - 1], ends[i]).
 */
export class EncodedRecords {
  buf: Buffer;
  /** Bytes used. */
  length = 0;
  count = 0;
  ends: Int32Array;
  /** The records' keys for the partitioner, when any has one (undefined when none has). */
  keys: (string | null)[] | undefined;
  /** Size guessed for the length varint of the record being written (see begin()). */
  private lengthSize = 1;
  private readonly pool: ArenaPool | undefined;

  /** Writes into a buffer of `pool` (given back by release()), or a small one of its own that grows. */
  constructor(pool?: ArenaPool) {
    this.pool = pool;
    this.buf = pool?.acquire() ?? Buffer.allocUnsafeSlow(INITIAL_CAPACITY);
    this.ends = new Int32Array(64);
  }

  /** The records are delivered (or spooled): the buffer goes back to its pool. Nothing may read them after. */
  release(): void {
    this.pool?.give(this.buf);
    this.length = this.count = 0;
  }

  /**
   * A record from the hot path. The value is `value`, or with `tail` the
   * JSON object `value` with `tail` in place of its closing brace; `headers`
   * are the file's (the id's line offset written here), or none.
   */
  addLine(key: string | null, value: string, tail: Uint8Array | undefined, headers: FileHeaders | undefined, lineOffset: number): void {
    const tailSize = tail === undefined ? 0 : tail.length;
    // Everything but the strings' UTF-8, which takes at most 3 bytes per UTF-16 unit.
    const framing = tailSize + (key === null ? 1 : 5) + PREFIX_ROOM + (headers === undefined ? 1 : headers.size + 16);
    if (this.length + framing + 3 * (value.length + (key === null ? 0 : key.length)) > this.buf.length) {
      // Near the end of the buffer: what this record really takes decides.
      this.reserve(framing + Buffer.byteLength(value) + (key === null ? 0 : Buffer.byteLength(key)));
    }
    const buf = this.buf;
    let at = this.begin(value.length + tailSize + (key === null ? 0 : key.length) + (headers === undefined ? 0 : headers.size + 20));
    at = key === null ? writeNull(buf, at) : writeString(buf, at, key);
    at = tail === undefined ? writeString(buf, at, value) : writeObjectWithTail(buf, at, value, tail);
    if (headers === undefined) buf[at++] = 0; // no headers
    else {
      buf.set(headers.before, at);
      at += headers.before.length;
      const digits = decimalDigits(lineOffset);
      at = writeVarInt(buf, at, headers.idPrefix.length + digits);
      buf.set(headers.idPrefix, at);
      at += headers.idPrefix.length;
      writeDecimal(buf, at, lineOffset, digits);
      at += digits;
      buf.set(headers.after, at);
      at += headers.after.length;
    }
    this.close(at, key);
  }

  /** Any message (spool replay, tests): the slower, general path. */
  addMessage(message: OutMessage): void {
    const entries = Object.entries(message.headers);
    let room = 3 * message.value.length + PREFIX_ROOM + (message.key === null ? 0 : 3 * message.key.length);
    for (const [name, value] of entries) room += 3 * (name.length + value.length) + 10;
    this.reserve(room);
    const buf = this.buf;
    let at = this.begin(room / 3);
    at = message.key === null ? writeNull(buf, at) : writeString(buf, at, message.key);
    at = writeString(buf, at, message.value);
    at = writeVarInt(buf, at, entries.length);
    for (const [name, value] of entries) at = writeString(buf, writeString(buf, at, name), value);
    this.close(at, message.key);
  }

  /**
   * Writes a record's prefix; returns where its key goes. The length
   * varint's size is guessed from `estimate` (the body's size if its
   * strings are ASCII), and close() moves the body in the rare case the
   * guess was wrong.
   */
  private begin(estimate: number): number {
    const buf = this.buf;
    const lengthSize = varIntSize(estimate + 2 + varIntSize(this.count));
    this.lengthSize = lengthSize;
    let at = this.length + lengthSize;
    buf[at++] = 0; // attributes
    buf[at++] = 0; // timestamp delta: every record of a batch has the batch's time
    return writeVarInt(buf, at, this.count); // offset delta
  }

  private close(at: number, key: string | null): void {
    const start = this.length;
    const bodyStart = start + this.lengthSize;
    const body = at - bodyStart;
    const lengthSize = varIntSize(body);
    if (lengthSize !== this.lengthSize) {
      this.buf.copyWithin(start + lengthSize, bodyStart, at);
      at += lengthSize - this.lengthSize;
    }
    writeVarInt(this.buf, start, body);
    if (this.count === this.ends.length) {
      const ends = new Int32Array(this.ends.length * 2);
      ends.set(this.ends);
      this.ends = ends;
    }
    if (key !== null && this.keys === undefined) this.keys = new Array<string | null>(this.count).fill(null);
    if (this.keys !== undefined) this.keys.push(key);
    this.ends[this.count++] = at;
    this.length = at;
  }

  /** Room for a record of at most `bytes`. */
  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buf.length) return;
    const grown = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.length + bytes));
    this.buf.copy(grown, 0, 0, this.length);
    this.buf = grown;
  }

  /** The records as messages again: for the spool and ndjson. */
  toMessages(): OutMessage[] {
    const out: OutMessage[] = [];
    this.walk(this.buf, (buf, keyAt, keySize, valueAt, valueSize, headers) => {
      const key = keySize < 0 ? null : buf.toString('utf8', keyAt, keyAt + keySize);
      out.push({ key, value: valueSize < 0 ? '' : buf.toString('utf8', valueAt, valueAt + valueSize), headers });
    });
    return out;
  }

  /**
   * Each record's value as bytes, with its headers: for outputs that send
   * bytes (no decoding to a string and encoding back). The values are
   * views of one copy of the records, made here: `buf` goes back to its
   * pool at release(), while a client may still hold what it was given.
   */
  eachValue(onRecord: (value: Buffer, headers: Record<string, string>) => void): void {
    this.walk(Buffer.from(this.buf.subarray(0, this.length)), (buf, _keyAt, _keySize, valueAt, valueSize, headers) =>
      onRecord(buf.subarray(valueAt, valueAt + Math.max(0, valueSize)), headers),
    );
  }

  /** Reads each record of `buf` (this batch's records, or a copy of them): where its key and value are (size -1: null), and its headers. */
  private walk(buf: Buffer, visit: (buf: Buffer, keyAt: number, keySize: number, valueAt: number, valueSize: number, headers: Record<string, string>) => void): void {
    const cursor = { at: 0 };
    for (let i = 0; i < this.count; i++) {
      cursor.at = i === 0 ? 0 : this.ends[i - 1]!;
      readVarInt(buf, cursor); // length
      cursor.at += 2; // attributes, timestamp delta (0)
      readVarInt(buf, cursor); // offset delta
      const keySize = readVarInt(buf, cursor);
      const keyAt = cursor.at;
      cursor.at += Math.max(0, keySize);
      const valueSize = readVarInt(buf, cursor);
      const valueAt = cursor.at;
      cursor.at += Math.max(0, valueSize);
      const headers: Record<string, string> = {};
      for (let n = readVarInt(buf, cursor); n > 0; n--) {
        const name = readString(buf, cursor) ?? '';
        headers[name] = readString(buf, cursor) ?? '';
      }
      visit(buf, keyAt, keySize, valueAt, valueSize, headers);
    }
  }

  static of(messages: Iterable<OutMessage>): EncodedRecords {
    const records = new EncodedRecords();
    for (const message of messages) records.addMessage(message);
    return records;
  }
}

/**
 * A file's record headers, encoded once: `before` is the header count and
 * the id header's name, `idPrefix` the id's value up to the line offset
 * (`<file id>:`), `after` the headers that follow it (host, path).
 */
export interface FileHeaders {
  readonly before: Uint8Array;
  readonly idPrefix: Uint8Array;
  readonly after: Uint8Array;
  /** before + idPrefix + after, bytes. */
  readonly size: number;
}

/** Encodes `[idName, idPrefix]` then `rest` (name, value pairs) as FileHeaders. */
export function fileHeaders(idName: string, idPrefix: string, rest: readonly (readonly [string, string])[]): FileHeaders {
  const scratch = Buffer.allocUnsafe(16 + 3 * (idName.length + idPrefix.length + rest.reduce((n, [a, b]) => n + a.length + b.length + 10, 0)));
  let at = writeVarInt(scratch, 0, 1 + rest.length);
  at = writeString(scratch, at, idName);
  const before = Uint8Array.prototype.slice.call(scratch, 0, at);
  const prefix = Buffer.from(idPrefix, 'utf8');
  at = 0;
  for (const [name, value] of rest) at = writeString(scratch, writeString(scratch, at, name), value);
  const after = Uint8Array.prototype.slice.call(scratch, 0, at);
  return { before, idPrefix: new Uint8Array(prefix), after, size: before.length + prefix.length + after.length };
}

const INITIAL_CAPACITY = 16 * 1024;
// A record's prefix (length and offset delta varints, attributes, timestamp delta) and the value's length varint.
const PREFIX_ROOM = 5 + 2 + 5 + 5;

/**
 * Buffers for the records of batches, kept for the next batches rather
 * than left to V8 and malloc: a batch's buffer is the size of a full batch,
 * and a new megabyte per batch is what makes the RSS of a busy process
 * creep up (fragmented, returned late). Holds at most `keep` buffers.
 */
export class ArenaPool {
  private readonly free: Buffer[] = [];
  readonly capacity: number;
  private readonly keep: number;

  constructor(capacity: number, keep: number) {
    this.capacity = capacity;
    this.keep = keep;
  }

  acquire(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.capacity);
  }

  /** Lets every buffer kept go (the agent is idle: IdleMemory). */
  drain(): void {
    this.free.length = 0;
  }

  /** A buffer back; one grown past the capacity (a batch of very long lines) is left to the GC. */
  give(buf: Buffer): void {
    if (buf.length === this.capacity && this.free.length < this.keep) this.free.push(buf);
  }
}

// Buffer#write checks its arguments and looks the encoding up on every call; the bare UTF-8 writer does not.
const utf8Write = (Buffer.prototype as unknown as { utf8Write(text: string, offset: number, length: number): number }).utf8Write;

function varIntSize(value: number): number {
  let zigzag = ((value << 1) ^ (value >> 31)) >>> 0;
  let bytes = 1;
  while (zigzag >= 0x80) {
    bytes++;
    zigzag >>>= 7;
  }
  return bytes;
}

function writeVarInt(buf: Uint8Array, at: number, value: number): number {
  let zigzag = ((value << 1) ^ (value >> 31)) >>> 0;
  while (zigzag >= 0x80) {
    buf[at++] = (zigzag & 0x7f) | 0x80;
    zigzag >>>= 7;
  }
  buf[at++] = zigzag;
  return at;
}

function writeNull(buf: Uint8Array, at: number): number {
  buf[at] = 1; // zigzag(-1)
  return at + 1;
}

/**
 * A length-prefixed UTF-8 string; the caller made room (3 bytes per UTF-16
 * unit + 5). The length's varint size is guessed from the UTF-16 length
 * (exact for ASCII) and the bytes moved in the rare case it was wrong.
 */
function writeString(buf: Buffer, at: number, text: string): number {
  const guess = varIntSize(text.length);
  const size = text.length <= 32 ? writeShort(buf, at + guess, text) : utf8Write.call(buf, text, at + guess, buf.length - at - guess);
  return sized(buf, at, guess, size);
}

/**
 * A JSON object as a length-prefixed value, with `tail` (`,"more":…}`)
 * written in place of its closing brace: the record's JSON and its source
 * without splicing strings (a copy per record).
 */
function writeObjectWithTail(buf: Buffer, at: number, json: string, tail: Uint8Array): number {
  const guess = varIntSize(json.length - 1 + tail.length);
  const written = utf8Write.call(buf, json, at + guess, buf.length - at - guess);
  buf.set(tail, at + guess + written - 1);
  return sized(buf, at, guess, written - 1 + tail.length);
}

/** Writes the length varint of `size` bytes written at `at + guess`, moving them if the guess was wrong. */
function sized(buf: Buffer, at: number, guess: number, size: number): number {
  const exact = varIntSize(size);
  if (exact !== guess) buf.copyWithin(at + exact, at + guess, at + guess + size);
  return writeVarInt(buf, at, size) + size;
}

// Short ASCII strings (header names, keys) are copied by hand: cheaper than a call into C++.
function writeShort(buf: Buffer, at: number, text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) return utf8Write.call(buf, text, at, buf.length - at);
    buf[at + i] = c;
  }
  return text.length;
}

function decimalDigits(n: number): number {
  let digits = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    digits++;
  }
  return digits;
}

function writeDecimal(buf: Uint8Array, at: number, n: number, digits: number): void {
  for (let i = at + digits - 1; i >= at; i--) {
    const q = Math.floor(n / 10);
    buf[i] = 0x30 + (n - q * 10);
    n = q;
  }
}

function readVarInt(buf: Uint8Array, cursor: { at: number }): number {
  let zigzag = 0;
  let shift = 0;
  let byte;
  do {
    byte = buf[cursor.at++]!;
    zigzag |= (byte & 0x7f) << shift;
    shift += 7;
  } while (byte & 0x80);
  return (zigzag >>> 1) ^ -(zigzag & 1);
}

function readString(buf: Buffer, cursor: { at: number }): string | null {
  const size = readVarInt(buf, cursor);
  if (size < 0) return null;
  const text = buf.toString('utf8', cursor.at, cursor.at + size);
  cursor.at += size;
  return text;
}

/** A batch's records as messages by topic: what the spool keeps. */
export function messagesByTopic(topics: ReadonlyMap<string, EncodedRecords>): Map<string, OutMessage[]> {
  return new Map([...topics].map(([topic, records]) => [topic, records.toMessages()]));
}

/** Messages by topic (a spool entry) as a batch's records. */
export function recordsByTopic(topics: ReadonlyMap<string, readonly OutMessage[]>): Map<string, EncodedRecords> {
  return new Map([...topics].map(([topic, messages]) => [topic, EncodedRecords.of(messages)]));
}

/**
 * On-disk format of spool segments: framing, payload encoding, scanning.
 *
 * A segment is a plain concatenation of frames. A frame is a 40-byte header
 * followed by the payload (all integers little-endian):
 *
 *   offset size
 *      0    4   magic "LSP1" (names the format and its version)
 *      4    4   CRC-32 of header bytes 8..40 (zlib.crc32, the IEEE polynomial)
 *      8    4   payload length in bytes
 *     12    4   CRC-32 of the payload
 *     16    8   seq: the entry's number, increasing over the spool's life (uint64, < 2^53)
 *     24    8   createdAt: ms since the epoch (float64)
 *     32    4   records in the batch
 *     36    4   value size of the batch (sum of value string lengths, like Batch.bytes)
 *     40    n   payload
 *
 * The header has its own CRC so that a corrupt frame is skipped by its
 * (trusted) length, and a scan can resynchronise after a damaged header by
 * looking for the next magic whose header CRC holds.
 *
 * Payload (a batch, everything needed to re-send it):
 *
 *   varint topicCount
 *   per topic:   str topic, varint messageCount
 *   per message: str|NULL|SAME key, str value, varint headerCount,
 *                per header: str|SAME name, str|SAME value
 *
 * A str is varint(byteLength + 2) then UTF-8 bytes; varint 0 is NULL (a
 * null key), varint 1 is SAME: the same string as the previous message's in
 * that slot (its key, its i-th header name, its i-th header value). Header
 * names and most header values (host, path) repeat from one message to the
 * next, so a record costs about its value plus its record id plus ~10 bytes.
 */
import { crc32 } from 'node:zlib';
import type { OutMessage } from '../batch/types.ts';

export const HEADER_BYTES = 40;
/** "LSP1" read as a little-endian uint32. */
export const MAGIC = 0x3150534c;
const NULL_MARK = 0;
const SAME_MARK = 1;

export interface FrameHeader {
  payloadLength: number;
  payloadCrc: number;
  seq: number;
  createdAt: number;
  records: number;
  valueBytes: number;
}

/** Fills the header in `frame[0..40)` for the payload already in `frame[40..)`. */
export function writeHeader(frame: Buffer, header: FrameHeader): void {
  frame.writeUInt32LE(MAGIC, 0);
  frame.writeUInt32LE(header.payloadLength, 8);
  frame.writeUInt32LE(header.payloadCrc >>> 0, 12);
  frame.writeUInt32LE(header.seq % 0x1_0000_0000, 16);
  frame.writeUInt32LE(Math.floor(header.seq / 0x1_0000_0000), 20);
  frame.writeDoubleLE(header.createdAt, 24);
  frame.writeUInt32LE(header.records, 32);
  frame.writeUInt32LE(header.valueBytes, 36);
  frame.writeUInt32LE(crc32(frame.subarray(8, HEADER_BYTES)), 4);
}

/** The header at `offset`, or undefined when there is no whole header there or its magic or CRC is wrong. */
export function readHeader(buf: Buffer, offset: number): FrameHeader | undefined {
  if (offset + HEADER_BYTES > buf.length) return undefined;
  if (buf.readUInt32LE(offset) !== MAGIC) return undefined;
  if (buf.readUInt32LE(offset + 4) !== crc32(buf.subarray(offset + 8, offset + HEADER_BYTES))) return undefined;
  return {
    payloadLength: buf.readUInt32LE(offset + 8),
    payloadCrc: buf.readUInt32LE(offset + 12),
    seq: buf.readUInt32LE(offset + 16) + buf.readUInt32LE(offset + 20) * 0x1_0000_0000,
    createdAt: buf.readDoubleLE(offset + 24),
    records: buf.readUInt32LE(offset + 32),
    valueBytes: buf.readUInt32LE(offset + 36),
  };
}

/** A growable output buffer; strings are written in one pass (no byteLength pre-pass for ASCII). */
class Writer {
  buf: Buffer;
  pos: number;

  constructor(capacity: number, start: number) {
    this.buf = Buffer.allocUnsafe(capacity);
    this.pos = start;
  }

  ensure(extra: number): void {
    const need = this.pos + extra;
    if (need <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }

  varint(value: number): void {
    this.ensure(5);
    let v = value;
    while (v >= 0x80) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[this.pos++] = v;
  }

  str(value: string): void {
    // A string of n UTF-16 units is at most 3n UTF-8 bytes; its length prefix is at most 5 bytes.
    this.ensure(value.length * 3 + 5);
    const bytes = value.length < 0x7e / 3 ? -1 : Buffer.byteLength(value, 'utf8');
    if (bytes < 0) {
      // Short string: its length (+2) fits one varint byte; write the bytes, then the prefix.
      const n = this.buf.write(value, this.pos + 1, 'utf8');
      this.buf[this.pos] = n + 2;
      this.pos += n + 1;
      return;
    }
    this.varint(bytes + 2);
    this.pos += this.buf.write(value, this.pos, 'utf8');
  }
}

export interface EncodedPayload {
  /** HEADER_BYTES of room for the header, then the payload. */
  frame: Buffer;
  payloadLength: number;
  valueBytes: number;
}

/** Encodes a batch as a frame with its header left blank (see writeHeader). */
export function encodePayload(topics: ReadonlyMap<string, readonly OutMessage[]>): EncodedPayload {
  let estimate = HEADER_BYTES + 16;
  for (const [topic, messages] of topics) {
    estimate += topic.length + 10;
    for (const m of messages) estimate += m.value.length + 48;
  }
  const w = new Writer(estimate, HEADER_BYTES);
  let valueBytes = 0;
  let prevKey: string | null | undefined;
  let prevNames: string[] = [];
  let prevValues: string[] = [];
  w.varint(topics.size);
  for (const [topic, messages] of topics) {
    w.str(topic);
    w.varint(messages.length);
    for (const m of messages) {
      if (m.key === null) w.varint(NULL_MARK);
      else if (m.key === prevKey) w.varint(SAME_MARK);
      else w.str(m.key);
      prevKey = m.key;
      w.str(m.value);
      valueBytes += m.value.length;
      const names = Object.keys(m.headers);
      w.varint(names.length);
      const values: string[] = new Array<string>(names.length);
      for (let i = 0; i < names.length; i++) {
        const name = names[i]!;
        const value = m.headers[name]!;
        values[i] = value;
        if (prevNames[i] === name) w.varint(SAME_MARK);
        else w.str(name);
        if (prevValues[i] === value) w.varint(SAME_MARK);
        else w.str(value);
      }
      prevNames = names;
      prevValues = values;
    }
  }
  return { frame: w.buf.subarray(0, w.pos), payloadLength: w.pos - HEADER_BYTES, valueBytes };
}

/** Thrown by decodePayload on a payload that does not parse (which its CRC should have caught). */
export class PayloadError extends Error {}

/** Decodes `buf[start..end)`, a payload written by encodePayload. */
export function decodePayload(buf: Buffer, start: number, end: number): Map<string, OutMessage[]> {
  let pos = start;
  const varint = (): number => {
    let result = 0;
    let shift = 0;
    while (true) {
      if (pos >= end) throw new PayloadError('payload ends inside a number');
      const byte = buf[pos++]!;
      result += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return result;
      shift += 7;
      if (shift > 35) throw new PayloadError('number too long');
    }
  };
  const bytes = (mark: number): string => {
    const n = mark - 2;
    if (pos + n > end) throw new PayloadError('payload ends inside a string');
    const s = buf.toString('utf8', pos, pos + n);
    pos += n;
    return s;
  };
  const str = (): string => {
    const mark = varint();
    if (mark < 2) throw new PayloadError('unexpected marker');
    return bytes(mark);
  };
  const topics = new Map<string, OutMessage[]>();
  let prevKey: string | null = null;
  let prevNames: string[] = [];
  let prevValues: string[] = [];
  const topicCount = varint();
  for (let t = 0; t < topicCount; t++) {
    const topic = str();
    const count = varint();
    const messages: OutMessage[] = [];
    for (let i = 0; i < count; i++) {
      const keyMark = varint();
      const key: string | null = keyMark === NULL_MARK ? null : keyMark === SAME_MARK ? prevKey : bytes(keyMark);
      prevKey = key;
      const value = str();
      const headerCount = varint();
      const headers: Record<string, string> = {};
      const names: string[] = new Array<string>(headerCount);
      const values: string[] = new Array<string>(headerCount);
      for (let h = 0; h < headerCount; h++) {
        const nameMark = varint();
        const name = nameMark === SAME_MARK ? prevNames[h] : nameMark === NULL_MARK ? undefined : bytes(nameMark);
        const valueMark = varint();
        const hv = valueMark === SAME_MARK ? prevValues[h] : valueMark === NULL_MARK ? undefined : bytes(valueMark);
        if (name === undefined || hv === undefined) throw new PayloadError('bad header reference');
        names[h] = name;
        values[h] = hv;
        headers[name] = hv;
      }
      prevNames = names;
      prevValues = values;
      messages.push({ key, value, headers });
    }
    const list = topics.get(topic);
    if (list) list.push(...messages);
    else topics.set(topic, messages);
  }
  if (pos !== end) throw new PayloadError(`${end - pos} bytes left over`);
  return topics;
}

export function payloadCrcOk(buf: Buffer, offset: number, header: FrameHeader): boolean {
  const start = offset + HEADER_BYTES;
  return crc32(buf.subarray(start, start + header.payloadLength)) === header.payloadCrc;
}

/** One thing found by scanSegment, in file order. */
export type ScanItem =
  | { kind: 'entry'; offset: number; length: number; header: FrameHeader; crcOk: boolean | undefined }
  /** Bytes that are no frame: a damaged header, or an incomplete frame at the end. */
  | { kind: 'garbage'; offset: number; length: number; reason: string };

/** Offset of the next plausible frame at or after `from`: magic and header CRC hold and the frame fits. */
function resync(buf: Buffer, from: number): number | undefined {
  const magic = Buffer.from('LSP1', 'latin1');
  let pos = from;
  while (true) {
    const at = buf.indexOf(magic, pos);
    if (at < 0) return undefined;
    const header = readHeader(buf, at);
    if (header && at + HEADER_BYTES + header.payloadLength <= buf.length) return at;
    pos = at + 1;
  }
}

/**
 * Walks the frames of a segment read whole. The payload CRC is checked for
 * entries with seq >= checkFromSeq (crcOk undefined for the others).
 */
export function scanSegment(buf: Buffer, checkFromSeq = 0): ScanItem[] {
  const items: ScanItem[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const header = readHeader(buf, pos);
    if (header && pos + HEADER_BYTES + header.payloadLength <= buf.length) {
      const crcOk = header.seq >= checkFromSeq ? payloadCrcOk(buf, pos, header) : undefined;
      items.push({ kind: 'entry', offset: pos, length: HEADER_BYTES + header.payloadLength, header, crcOk });
      pos += HEADER_BYTES + header.payloadLength;
      continue;
    }
    const next = header ? undefined : resync(buf, pos + 1);
    const reason = header
      ? `frame of ${HEADER_BYTES + header.payloadLength} bytes cut short at ${buf.length - pos}`
      : pos + HEADER_BYTES > buf.length
        ? `${buf.length - pos} bytes, less than a frame header`
        : 'no valid frame header';
    const end = next ?? buf.length;
    items.push({ kind: 'garbage', offset: pos, length: end - pos, reason });
    pos = end;
  }
  return items;
}

/**
 * Where the valid content of a segment ends, when its tail is a torn write:
 * trailing garbage, or (in the newest segment, written last) a last frame
 * whose payload CRC fails with nothing valid after it. Undefined otherwise.
 */
export function tornTailAt(items: readonly ScanItem[], newest: boolean): number | undefined {
  const last = items.at(-1);
  if (!last) return undefined;
  if (last.kind === 'garbage') return last.offset;
  if (newest && last.crcOk === false) return last.offset;
  return undefined;
}

export const SEGMENT_SUFFIX = '.seg';

/** Segment file name: the seq of its first entry, zero-padded so names sort in order. */
export function segmentName(base: number): string {
  return `${String(base).padStart(20, '0')}${SEGMENT_SUFFIX}`;
}

/** The base seq of a segment file name, or undefined for other files. */
export function parseSegmentName(name: string): number | undefined {
  const m = /^(\d{20})\.seg$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

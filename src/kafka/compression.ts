/**
 * Compression codecs for kafkajs, which ships only gzip. All pure JS or
 * Node's own zlib (zstd is built into Node 24), so nothing is compiled
 * against the wrong Node headers.
 */
import { promisify } from 'node:util';
import { zstdCompress, zstdDecompress } from 'node:zlib';
import kafkajs, { type CompressionTypes as KafkajsCompressionTypes } from 'kafkajs';
import * as lz4 from 'lz4js';
import { hash as xxh32 } from 'lz4js/xxh32.js';
import * as snappy from 'snappyjs';

export type Compression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

// kafkajs is CommonJS and builds these exports at run time, where Node's named ESM imports cannot see
// them: its default export (module.exports) has them. A static import, so that bundlers see it too.
const { CompressionCodecs, CompressionTypes } = kafkajs;

const zstdCompressAsync = promisify(zstdCompress);
const zstdDecompressAsync = promisify(zstdDecompress);

/** The xerial framing the Java client writes around snappy blocks (read side only: Kafka accepts raw snappy). */
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);

function unsnappy(buffer: Buffer): Buffer {
  if (!buffer.subarray(0, 8).equals(XERIAL_MAGIC)) return Buffer.from(snappy.uncompress(buffer));
  const parts: Buffer[] = [];
  for (let at = 16; at < buffer.length; ) {
    const size = buffer.readUInt32BE(at);
    parts.push(Buffer.from(snappy.uncompress(buffer.subarray(at + 4, at + 4 + size))));
    at += 4 + size;
  }
  return Buffer.concat(parts);
}

const LZ4_BLOCK_BYTES = 4 << 20;

/**
 * An LZ4 frame as Kafka reads it: version 01 with independent blocks of at
 * most 4 MiB, no checksums. Each block is compressed with a fresh hash
 * table, so no block refers back into another (lz4js' own frame writer
 * does not promise that, and the broker refused its frames).
 */
function lz4Frame(src: Buffer): Buffer {
  const header = Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x60, 0x70, 0]);
  header[6] = (xxh32(0, header, 4, 2) >> 8) & 0xff;
  const parts: Buffer[] = [header];
  for (let at = 0; at < src.length; at += LZ4_BLOCK_BYTES) {
    const length = Math.min(LZ4_BLOCK_BYTES, src.length - at);
    const out = Buffer.allocUnsafe(lz4.compressBound(length));
    const size = lz4.compressBlock(src, out, at, length, new Uint32Array(1 << 16));
    const sizeField = Buffer.allocUnsafe(4);
    if (size === 0 || size >= length) {
      sizeField.writeUInt32LE((0x80000000 | length) >>> 0); // stored uncompressed
      parts.push(sizeField, src.subarray(at, at + length));
    } else {
      sizeField.writeUInt32LE(size);
      parts.push(sizeField, out.subarray(0, size));
    }
  }
  parts.push(Buffer.alloc(4)); // end mark
  return Buffer.concat(parts);
}

interface Encoder {
  buffer: Buffer;
}

const codecs = {
  [CompressionTypes.Snappy]: () => ({
    compress: async (encoder: Encoder) => Buffer.from(snappy.compress(encoder.buffer)),
    decompress: async (buffer: Buffer) => unsnappy(buffer),
  }),
  [CompressionTypes.LZ4]: () => ({
    compress: async (encoder: Encoder) => lz4Frame(encoder.buffer),
    decompress: async (buffer: Buffer) => Buffer.from(lz4.decompress(buffer)),
  }),
  [CompressionTypes.ZSTD]: () => ({
    compress: (encoder: Encoder) => zstdCompressAsync(encoder.buffer),
    decompress: (buffer: Buffer) => zstdDecompressAsync(buffer),
  }),
};

let registered = false;

/** Registers the codecs with kafkajs (once) and maps the setting to kafkajs' type. */
export function compressionType(setting: Compression): KafkajsCompressionTypes {
  if (!registered) {
    Object.assign(CompressionCodecs, codecs);
    registered = true;
  }
  switch (setting) {
    case 'gzip': return CompressionTypes.GZIP;
    case 'snappy': return CompressionTypes.Snappy;
    case 'lz4': return CompressionTypes.LZ4;
    case 'zstd': return CompressionTypes.ZSTD;
    default: return CompressionTypes.None;
  }
}

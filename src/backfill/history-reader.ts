import { createHash } from 'node:crypto';
import { createReadStream, type ReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { createGunzip, createZstdDecompress } from 'node:zlib';
import { fingerprintOf } from '../tail/fingerprint.ts';
import type { Compression, HistoryFile } from './history-files.ts';

/** The most of a first line hashed into a file's content key. */
const HEAD_BYTES = 64 * 1024;
const LF = 0x0a;

export interface OpenedHistory {
  /** The file's lines, decompressed. */
  lines: Readable;
  /** The file as read from disk: its bytesRead is the progress in on-disk bytes. */
  raw: ReadStream;
}

/** The file's content, decompressed when it is compressed. */
export function openHistory(path: string, compression: Compression | undefined): OpenedHistory {
  // Compressed: small reads, paced by the decompressor, so bytesRead follows the lines shipped (progress, ETA).
  const raw = createReadStream(path, { highWaterMark: compression === undefined ? 256 * 1024 : 16 * 1024 });
  if (compression === undefined) return { lines: raw, raw };
  // Larger output chunks than zlib's 16 KiB: fewer lines cut across chunks.
  const decompress = compression === 'gzip' ? createGunzip({ chunkSize: 64 * 1024 }) : createZstdDecompress({ chunkSize: 64 * 1024 });
  // A read error of the file ends the decompressed stream with that error.
  raw.on('error', (err) => decompress.destroy(err));
  return { lines: raw.pipe(decompress), raw };
}

export interface ContentIdentity {
  /**
   * SHA-256 of the first line (at most 64 KiB): the same for a file and
   * for its compressed form, so backfill's checkpoint follows a file that
   * logrotate compressed (a new file, a new inode) since the last run.
   */
  contentKey: string;
  /** The live agent's fingerprint of the same first line (tail/fingerprint.ts): finds its checkpoints. */
  fingerprint: string;
}

/** The identity of a file's content, from its first decompressed bytes; undefined for an empty file. */
export async function contentIdentity(file: HistoryFile, fingerprintBytes: number): Promise<ContentIdentity | undefined> {
  const head = await readHead(file, Math.max(HEAD_BYTES, fingerprintBytes));
  if (head.length === 0) return undefined;
  const newline = head.indexOf(LF);
  const firstLine = newline === -1 ? head : head.subarray(0, newline);
  // A file whose first line is longer than the live agent hashes, or with no newline at all: the agent's rule, then the bytes there are.
  const fingerprint = fingerprintOf(head, fingerprintBytes) ?? fingerprintOf(Buffer.concat([head, Buffer.from([LF])]), fingerprintBytes)!;
  return { contentKey: createHash('sha256').update(firstLine).digest('hex').slice(0, 32), fingerprint };
}

async function readHead(file: HistoryFile, maxBytes: number): Promise<Buffer> {
  const { lines, raw } = openHistory(file.path, file.compression);
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of lines as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= maxBytes || chunk.includes(LF)) break;
    }
  } finally {
    raw.destroy();
    lines.destroy();
  }
  return Buffer.concat(chunks).subarray(0, maxBytes);
}

import type { FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';

const LF = 0x0a;

/**
 * A file's fingerprint: CRC-32 of its first line, at most `maxBytes` of it.
 * With device and inode it tells a file from a new one that reuses the
 * inode (logrotate's delete + create), and it changes when a file is
 * truncated and written anew (copytruncate); a copytruncate copy shares it
 * with its original. It exists as soon as the first line is complete, which
 * is also the first moment there is anything to ship: a file is never read
 * later because of it. Undefined while neither a newline nor `maxBytes`
 * bytes are there.
 */
export async function readFingerprint(handle: FileHandle, maxBytes: number): Promise<string | undefined> {
  return fingerprintOf(await readHead(handle, maxBytes), maxBytes);
}

/** The first `maxBytes` bytes of a file (fewer if it is shorter). */
export async function readHead(handle: FileHandle, maxBytes: number): Promise<Buffer> {
  // A buffer per call: reads of several files interleave at the await. Only at open and check, not per line.
  const head = Buffer.allocUnsafe(maxBytes);
  const { bytesRead } = await handle.read(head, 0, maxBytes, 0);
  return head.subarray(0, bytesRead);
}

/** The fingerprint of a file whose first bytes are `head`. */
export function fingerprintOf(head: Buffer, maxBytes: number): string | undefined {
  const newline = head.indexOf(LF);
  const end = newline !== -1 && newline < maxBytes ? newline : head.length >= maxBytes ? maxBytes : -1;
  if (end === -1) return undefined;
  return crc32(head.subarray(0, end)).toString(16).padStart(8, '0');
}

const MAGIC: readonly [string, readonly number[]][] = [
  ['gzip', [0x1f, 0x8b]],
  ['bzip2', [0x42, 0x5a, 0x68]],
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
  ['lz4', [0x04, 0x22, 0x4d, 0x18]],
  ['zip', [0x50, 0x4b, 0x03, 0x04]],
];

/**
 * The compression a file's first bytes announce, if any: logrotate's
 * `compress` leaves access.log.2.gz beside the logs, and a glob such as
 * `access.log*` matches it. Its bytes are not log lines.
 */
export function compressionOf(head: Buffer): string | undefined {
  for (const [name, magic] of MAGIC) {
    if (head.length >= magic.length && magic.every((byte, i) => head[i] === byte)) return name;
  }
  return undefined;
}

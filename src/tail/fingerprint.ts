import type { FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';

const LF = 0x0a;

/**
 * A file's fingerprint: CRC-32 of its first line, at most `maxBytes` of it.
 * With device and inode it tells a file from a new one that reuses the
 * inode (logrotate's delete + create), and it changes when a file is
 * truncated and written anew (copytruncate). It exists as soon as the first
 * line is complete, which is also the first moment there is anything to
 * ship: a file is never read later because of it. Undefined while neither
 * a newline nor `maxBytes` bytes are there.
 */
export async function readFingerprint(handle: FileHandle, maxBytes: number): Promise<string | undefined> {
  // A buffer per call: reads of several files interleave at the await. Only at open and poll, not per line.
  const head = Buffer.allocUnsafe(maxBytes);
  const { bytesRead } = await handle.read(head, 0, maxBytes, 0);
  return fingerprintOf(head.subarray(0, bytesRead), maxBytes);
}

/** The fingerprint of a file whose first bytes are `head`. */
export function fingerprintOf(head: Buffer, maxBytes: number): string | undefined {
  const newline = head.indexOf(LF);
  const end = newline !== -1 && newline < maxBytes ? newline : head.length >= maxBytes ? maxBytes : -1;
  if (end === -1) return undefined;
  return crc32(head.subarray(0, end)).toString(16).padStart(8, '0');
}

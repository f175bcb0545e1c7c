import type { FileHandle } from 'node:fs/promises';

const LF = 0x0a;

/** How much of two files' beginnings are compared to tell a copy from a file that merely starts with the same line. */
export const COPY_PREFIX_BYTES = 4096;

/** Whether a line starts at `offset` of an open file: it is 0, or the byte before it is a newline. */
export async function lineStartsAt(handle: FileHandle, offset: number): Promise<boolean> {
  if (offset === 0) return true;
  const one = Buffer.alloc(1);
  const { bytesRead } = await handle.read(one, 0, 1, offset - 1);
  return bytesRead === 1 && one[0] === LF;
}

/**
 * Whether two open files start with the same bytes, as far as both go
 * (up to COPY_PREFIX_BYTES): a copy (logrotate's, even one still being
 * written) starts with its original's bytes; another log that happens to
 * start with the same first line parts ways at its second.
 */
export async function samePrefix(a: FileHandle, b: FileHandle): Promise<boolean> {
  const [x, y] = await Promise.all([readUpTo(a), readUpTo(b)]);
  const n = Math.min(x.length, y.length);
  return n > 0 && x.subarray(0, n).equals(y.subarray(0, n));
}

async function readUpTo(handle: FileHandle): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(COPY_PREFIX_BYTES);
  const { bytesRead } = await handle.read(buf, 0, COPY_PREFIX_BYTES, 0);
  return buf.subarray(0, bytesRead);
}

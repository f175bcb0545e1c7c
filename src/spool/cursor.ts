/**
 * The spool's read cursor: the seq of the oldest entry not yet acked. Every
 * entry below it has been delivered (or dropped) and is never replayed.
 *
 * File `cursor`, 64 bytes: two 32-byte slots, written alternately in place
 * (one pwrite, then fdatasync as the fsync policy says). A slot is
 *   magic "LSPC" (4) | CRC-32 of bytes 8..32 (4) | seq (8, uint64 LE) | zero (16)
 * On load the valid slot with the highest seq wins. A write torn by a crash
 * damages only the slot being written, so the other slot (the previous
 * cursor) is still there: at worst one entry is sent again, never skipped.
 * This costs one small write and one fdatasync per ack, where a
 * write-temp-and-rename would cost a file creation and two fsyncs.
 */
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { crc32 } from 'node:zlib';

export const CURSOR_FILE = 'cursor';
const SLOT = 32;
const MAGIC = 0x4350534c; // "LSPC"

function readSlot(buf: Buffer, offset: number): number | undefined {
  if (buf.length < offset + SLOT) return undefined;
  if (buf.readUInt32LE(offset) !== MAGIC) return undefined;
  if (buf.readUInt32LE(offset + 4) !== crc32(buf.subarray(offset + 8, offset + SLOT))) return undefined;
  return buf.readUInt32LE(offset + 8) + buf.readUInt32LE(offset + 12) * 0x1_0000_0000;
}

/** The cursor stored in `buf` (the file's content), 0 when neither slot is valid. */
export function parseCursor(buf: Buffer): number {
  const a = readSlot(buf, 0);
  const b = readSlot(buf, SLOT);
  return Math.max(a ?? 0, b ?? 0);
}

export class CursorFile {
  private readonly handle: FileHandle;
  private slot = 0;
  private readonly buf = Buffer.alloc(SLOT);

  private constructor(handle: FileHandle) {
    this.handle = handle;
  }

  /** Opens (creating if needed) the cursor file; returns it and the stored cursor. */
  static async open(path: string): Promise<{ file: CursorFile; cursor: number }> {
    const handle = await open(path, 'a+', 0o640).then(async (h) => {
      // 'a+' creates without truncating; reopen r+ so that writes land at their offsets.
      await h.close();
      return open(path, 'r+');
    });
    try {
      const content = Buffer.alloc(2 * SLOT);
      const { bytesRead } = await handle.read(content, 0, content.length, 0);
      const data = content.subarray(0, bytesRead);
      const cursor = parseCursor(data);
      const file = new CursorFile(handle);
      // Write the next update over the older (or invalid) slot.
      const a = readSlot(data, 0);
      const b = readSlot(data, SLOT);
      file.slot = a !== undefined && (b === undefined || a >= b) ? 1 : 0;
      if (bytesRead < 2 * SLOT) {
        // Allocate both slots now, so that later writes never need new disk blocks (no ENOSPC on ack).
        await handle.write(Buffer.alloc(2 * SLOT - bytesRead), 0, 2 * SLOT - bytesRead, bytesRead);
        await handle.datasync();
      }
      return { file, cursor };
    } catch (err) {
      await handle.close().catch(() => undefined);
      throw err;
    }
  }

  async write(seq: number): Promise<void> {
    const buf = this.buf;
    buf.fill(0);
    buf.writeUInt32LE(MAGIC, 0);
    buf.writeUInt32LE(seq % 0x1_0000_0000, 8);
    buf.writeUInt32LE(Math.floor(seq / 0x1_0000_0000), 12);
    buf.writeUInt32LE(crc32(buf.subarray(8, SLOT)), 4);
    await this.handle.write(buf, 0, SLOT, this.slot * SLOT);
    this.slot ^= 1;
  }

  sync(): Promise<void> {
    return this.handle.datasync();
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

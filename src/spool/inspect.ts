/**
 * Read-only look at a spool directory (for `logship spool stats|verify`):
 * safe while the agent runs, changes nothing (no lock, no cut-off, no
 * deletion). Every frame's header and payload CRC are checked.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CURSOR_FILE, parseCursor } from './cursor.ts';
import { parseSegmentName, scanSegment, tornTailAt } from './format.ts';

export interface CorruptSpot {
  offset: number;
  bytes: number;
  /** The entry's seq when its header is intact. */
  seq?: number;
  reason: string;
}

export interface SegmentReport {
  file: string;
  bytes: number;
  /** Valid entries (acked ones included). */
  entries: number;
  /** Valid entries at or after the cursor: what a replay would send. */
  pending: number;
  pendingRecords: number;
  corrupt: CorruptSpot[];
  /** A torn write at the end (a crash mid-append, or an append under way): cut off on the next open, never replayed. */
  tornTail?: { offset: number; bytes: number };
}

export interface VerifyReport {
  dir: string;
  /** Oldest seq not acked. */
  cursor: number;
  segments: SegmentReport[];
  entries: number;
  records: number;
  /** Bytes of the pending entries. */
  bytes: number;
  diskBytes: number;
  oldestCreatedAt: number | undefined;
  newestCreatedAt: number | undefined;
  corruptEntries: number;
  tornTails: number;
  /** No corrupt entries (a torn tail is not corruption: the next open cuts it off). */
  ok: boolean;
}

/** Thrown when `dir` is not there or not a directory. */
export class NoSpoolError extends Error {
  override name = 'NoSpoolError';
}

export async function inspectSpool(dir: string): Promise<VerifyReport> {
  const root = resolve(dir);
  const info = await stat(root).catch(() => undefined);
  if (!info?.isDirectory()) throw new NoSpoolError(`no spool directory at ${root}`);
  const cursor = parseCursor(await readFile(join(root, CURSOR_FILE)).catch(() => Buffer.alloc(0)));
  const names = (await readdir(root))
    .map((name) => ({ name, base: parseSegmentName(name) }))
    .filter((s): s is { name: string; base: number } => s.base !== undefined)
    .sort((a, b) => a.base - b.base);
  const report: VerifyReport = {
    dir: root,
    cursor,
    segments: [],
    entries: 0,
    records: 0,
    bytes: 0,
    diskBytes: 0,
    oldestCreatedAt: undefined,
    newestCreatedAt: undefined,
    corruptEntries: 0,
    tornTails: 0,
    ok: true,
  };
  for (const [i, { name }] of names.entries()) {
    let buf: Buffer;
    try {
      buf = await readFile(join(root, name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // deleted meanwhile (drained)
      throw err;
    }
    const items = scanSegment(buf, 0);
    const tornAt = tornTailAt(items, i === names.length - 1);
    const seg: SegmentReport = { file: name, bytes: buf.length, entries: 0, pending: 0, pendingRecords: 0, corrupt: [] };
    for (const item of items) {
      if (tornAt !== undefined && item.offset >= tornAt) {
        seg.tornTail = { offset: tornAt, bytes: buf.length - tornAt };
        break;
      }
      if (item.kind === 'garbage') {
        seg.corrupt.push({ offset: item.offset, bytes: item.length, reason: item.reason });
        continue;
      }
      if (!item.crcOk) {
        seg.corrupt.push({ offset: item.offset, bytes: item.length, seq: item.header.seq, reason: 'payload CRC mismatch' });
        continue;
      }
      seg.entries++;
      if (item.header.seq >= cursor) {
        seg.pending++;
        seg.pendingRecords += item.header.records;
        report.bytes += item.length;
        report.oldestCreatedAt ??= item.header.createdAt;
        report.newestCreatedAt = item.header.createdAt;
      }
    }
    report.segments.push(seg);
    report.entries += seg.pending;
    report.records += seg.pendingRecords;
    report.diskBytes += buf.length;
    report.corruptEntries += seg.corrupt.length;
    if (seg.tornTail) report.tornTails++;
  }
  report.ok = report.corruptEntries === 0;
  return report;
}

/** Reads every entry and checks every CRC; the report lists problems per segment. */
export function verifySpool(dir: string): Promise<VerifyReport> {
  return inspectSpool(dir);
}

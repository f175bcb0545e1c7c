/**
 * The scan on open: every segment file read whole, the CRC of every entry
 * not acked yet checked. A torn write at the end of a segment is cut off
 * (and synced); a corrupt entry elsewhere is skipped, counted and logged
 * with its segment and offset. Returns the segments (empty ones included:
 * the caller deletes them) and the entries left to replay, oldest first.
 */
import { open, readdir, readFile, truncate } from 'node:fs/promises';
import type { Logger } from '../observe/logger.ts';
import { parseSegmentName, scanSegment, tornTailAt } from './format.ts';
import type { IndexEntry } from './ledger.ts';
import { segmentAt, type Segment } from './segments.ts';

export interface Recovered {
  segments: Segment[];
  entries: IndexEntry[];
  /** The highest seq seen (acked ones included), 0 when none. */
  lastSeq: number;
  corruptSkipped: number;
  tornBytesCut: number;
}

export async function recover(dir: string, cursor: number, log: Logger): Promise<Recovered> {
  const names = (await readdir(dir))
    .map((name) => ({ name, base: parseSegmentName(name) }))
    .filter((s): s is { name: string; base: number } => s.base !== undefined)
    .sort((a, b) => a.base - b.base);
  const out: Recovered = { segments: [], entries: [], lastSeq: 0, corruptSkipped: 0, tornBytesCut: 0 };
  for (const [i, { name, base }] of names.entries()) {
    const segment = segmentAt(dir, base, 0);
    const buf = await readFile(segment.path);
    const items = scanSegment(buf, cursor);
    const tornAt = tornTailAt(items, i === names.length - 1);
    segment.size = tornAt ?? buf.length;
    for (const item of items) {
      if (tornAt !== undefined && item.offset >= tornAt) break;
      if (item.kind === 'garbage') {
        out.corruptSkipped++;
        log.error({ segment: name, offset: item.offset, bytes: item.length, reason: item.reason }, 'spool: corrupt bytes skipped (entries in them are lost)');
        continue;
      }
      const { header } = item;
      if (header.seq < cursor) {
        out.lastSeq = Math.max(out.lastSeq, header.seq);
        continue;
      }
      if (header.seq <= out.lastSeq) {
        out.corruptSkipped++;
        log.error({ segment: name, offset: item.offset, seq: header.seq }, 'spool: entry out of sequence skipped');
        continue;
      }
      out.lastSeq = header.seq;
      if (!item.crcOk) {
        out.corruptSkipped++;
        log.error({ segment: name, offset: item.offset, seq: header.seq, records: header.records }, 'spool: corrupt entry skipped (CRC mismatch); its records are lost');
        continue;
      }
      out.entries.push({
        seq: header.seq,
        segment,
        offset: item.offset,
        frameBytes: item.length,
        records: header.records,
        valueBytes: header.valueBytes,
        createdAt: header.createdAt,
        handedOut: false,
        skipped: false,
      });
    }
    if (tornAt !== undefined) {
      out.tornBytesCut += buf.length - tornAt;
      log.warn({ segment: name, offset: tornAt, bytes: buf.length - tornAt }, 'spool: torn write at the end of a segment cut off (a crash during an append)');
      await truncate(segment.path, tornAt);
      const handle = await open(segment.path, 'r+');
      await handle.datasync().finally(() => handle.close());
    }
    out.segments.push(segment);
  }
  return out;
}

import { glob, open, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { compressionOf } from '../tail/fingerprint.ts';

/** Compressions backfill reads (node:zlib); others are reported per file. */
export type Compression = 'gzip' | 'zstd';

export interface HistoryFile {
  path: string;
  /** Bytes on disk (compressed bytes for a compressed file). */
  size: number;
  mtimeMs: number;
  dev: number;
  ino: number;
  compression: Compression | undefined;
  /** A compression backfill cannot read (bzip2, xz...): the file is reported, not shipped. */
  unsupported: string | undefined;
}

const MAGIC_BYTES = 8;

/** `access.log.3.gz` → base `access.log`, rotation 3; `access.log-20261130.gz` has no rotation number. */
function rotationOf(path: string): { base: string; rotation: number | undefined } {
  const name = basename(path).replace(/\.(gz|zst|zstd|bz2|xz|lz4|zip)$/, '');
  const m = /^(.*)\.(\d+)$/.exec(name);
  return m ? { base: m[1]!, rotation: Number(m[2]) } : { base: name, rotation: undefined };
}

/**
 * The files the patterns match, oldest first: within one log's rotations
 * (`access.log.14.gz` … `access.log.1`) by rotation number, highest first,
 * as logrotate numbers them; between logs, and for date-suffixed names, by
 * modification time (logrotate keeps it when it compresses). `sinceMs`:
 * files last written before it hold nothing newer and are left out.
 */
export async function historyFiles(patterns: readonly string[], sinceMs: number | undefined): Promise<HistoryFile[]> {
  const paths = new Set<string>();
  for await (const path of glob(patterns)) paths.add(resolve(path));
  const files: HistoryFile[] = [];
  for (const path of paths) {
    const stats = await stat(path);
    if (!stats.isFile()) continue;
    if (sinceMs !== undefined && stats.mtimeMs < sinceMs) continue;
    const handle = await open(path, 'r');
    let head: Buffer;
    try {
      const buf = Buffer.alloc(MAGIC_BYTES);
      const { bytesRead } = await handle.read(buf, 0, MAGIC_BYTES, 0);
      head = buf.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
    const compression = compressionOf(head);
    const readable = compression === undefined || compression === 'gzip' || compression === 'zstd';
    files.push({
      path,
      size: stats.size,
      mtimeMs: stats.mtimeMs,
      dev: stats.dev,
      ino: stats.ino,
      compression: readable ? (compression as Compression | undefined) : undefined,
      unsupported: readable ? undefined : compression,
    });
  }
  return oldestFirst(files);
}

export function oldestFirst(files: HistoryFile[]): HistoryFile[] {
  const groups = new Map<string, HistoryFile[]>();
  for (const file of files) {
    const { base } = rotationOf(file.path);
    const key = `${resolve(file.path, '..')}/${base}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = []));
    group.push(file);
  }
  const ordered = [...groups.values()].map((group) =>
    group.sort((a, b) => {
      const ra = rotationOf(a.path).rotation;
      const rb = rotationOf(b.path).rotation;
      if (ra !== undefined && rb !== undefined && ra !== rb) return rb - ra;
      // The live log (no number) is newer than its rotations.
      if (ra !== undefined && rb === undefined) return -1;
      if (ra === undefined && rb !== undefined) return 1;
      return a.mtimeMs - b.mtimeMs;
    }),
  );
  ordered.sort((a, b) => Math.min(...a.map((f) => f.mtimeMs)) - Math.min(...b.map((f) => f.mtimeMs)));
  return ordered.flat();
}

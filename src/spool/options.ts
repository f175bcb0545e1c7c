import type { SpoolConfig } from '../config/types.ts';

export type FsyncPolicy = 'always' | 'batch' | 'interval';
export type WhenFull = 'block' | 'drop_oldest';

export interface SpoolOptions {
  dir: string;
  /** Upper bound of all segment files together, in bytes. */
  maxBytes: number;
  /** A new segment starts when the current one would grow past this. */
  segmentBytes: number;
  fsync: FsyncPolicy;
  /** With fsync: interval, how often written data is flushed to disk. */
  fsyncIntervalMs: number;
  whenFull: WhenFull;
}

/** Defaults for the `spool` settings (bytes, ms). */
export const SPOOL_DEFAULTS = {
  maxBytes: 1024 * 1024 * 1024,
  segmentBytes: 64 * 1024 * 1024,
  fsync: 'batch',
  fsyncIntervalMs: 1000,
  whenFull: 'block',
} as const satisfies Omit<SpoolOptions, 'dir'>;

/** The spool's options from its configuration section (`dir` overridden by a command-line flag). */
export function spoolOptions(config: SpoolConfig, dir?: string): SpoolOptions {
  return {
    dir: dir ?? config.dir,
    maxBytes: config.max_bytes,
    segmentBytes: config.segment_bytes,
    fsync: config.fsync,
    fsyncIntervalMs: config.fsync_interval_ms,
    whenFull: config.when_full,
  };
}

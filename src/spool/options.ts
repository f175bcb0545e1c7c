import type { SpoolConfig } from '../config/types.ts';
import type { SpoolOptions } from './spool.ts';

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

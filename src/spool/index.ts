export { Spool, SPOOL_DEFAULTS } from './spool.ts';
export { spoolOptions } from './options.ts';
export type { FsyncPolicy, SpoolEntry, SpoolOptions, SpoolStats, WhenFull } from './spool.ts';
export { SpoolClosedError, SpoolError, SpoolFullError, SpoolIOError, SpoolLockedError } from './errors.ts';
export type { SpoolFullReason } from './errors.ts';
export { inspectSpool, NoSpoolError, verifySpool } from './inspect.ts';
export type { CorruptSpot, SegmentReport, VerifyReport } from './inspect.ts';

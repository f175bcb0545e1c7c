export { Spool } from './spool.ts';
export type { SpoolEntry, SpoolStats } from './spool.ts';
export { SPOOL_DEFAULTS, spoolOptions } from './options.ts';
export type { FsyncPolicy, SpoolOptions, WhenFull } from './options.ts';
export { SpoolClosedError, SpoolError, SpoolFullError, SpoolIOError, SpoolLockedError } from './errors.ts';
export type { SpoolFullReason } from './errors.ts';
export { inspectSpool, NoSpoolError, verifySpool } from './inspect.ts';
export type { CorruptSpot, SegmentReport, VerifyReport } from './inspect.ts';

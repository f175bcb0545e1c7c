/**
 * `<dir>/lock`: the process that has the spool open, so that a second
 * agent (or `logship spool replay`) refuses it while the first runs
 * (lockfile/pid-lock.ts: a lock left by a crash is taken over).
 */
import { join } from 'node:path';
import { LockHeldError, PidLock } from '../lockfile/pid-lock.ts';
import { ioError, SpoolLockedError } from './errors.ts';

const LOCK_FILE = 'lock';

/** Takes `<dir>/lock` for this process; refuses when another live process holds it. */
export function lock(dir: string): PidLock {
  const path = join(dir, LOCK_FILE);
  try {
    return PidLock.take(path, 'spool').lock;
  } catch (err) {
    if (err instanceof LockHeldError) throw new SpoolLockedError(dir, err.holder.pid);
    throw ioError(err, `taking ${path}`);
  }
}

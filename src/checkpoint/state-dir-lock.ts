/**
 * `<state_dir>/agent.lock`: which process owns the state dir's checkpoints.
 * `run` holds it while it runs; a second agent on the same state_dir, and
 * `logship checkpoints forget|set`, are refused while it does.
 */
import { join } from 'node:path';
import { LockHeldError, PidLock, type LockHolder } from '../lockfile/pid-lock.ts';

export const STATE_LOCK_FILE = 'agent.lock';

export class StateDirLockedError extends Error {
  override name = 'StateDirLockedError';
  readonly holder: LockHolder;
  constructor(stateDir: string, holder: LockHolder) {
    super(
      `state_dir ${stateDir} is in use by another logship (pid ${holder.pid}${holder.command ? `, ${holder.command}` : ''}${holder.host ? ` on ${holder.host}` : ''}): ` +
        'stop it first, or give this one another state_dir',
    );
    this.holder = holder;
  }
}

/** Takes the lock of `stateDir` (which must exist); throws StateDirLockedError while a live process holds it. */
export function lockStateDir(stateDir: string, command: string): { lock: PidLock; tookOver?: LockHolder } {
  try {
    return PidLock.take(join(stateDir, STATE_LOCK_FILE), command);
  } catch (err) {
    if (err instanceof LockHeldError) throw new StateDirLockedError(stateDir, err.holder);
    throw err;
  }
}

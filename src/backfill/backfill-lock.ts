import { join } from 'node:path';
import { LockHeldError, PidLock } from '../lockfile/pid-lock.ts';

const LOCK_FILE = 'backfill.lock';

/**
 * `<state_dir>/backfill.lock`: one backfill at a time per state_dir (two
 * would read the same files from the same checkpoints and ship them twice).
 * The live agent does not take it: backfill runs beside it by design. A
 * lock left by a process that is gone (SIGKILL) is taken over.
 */
export async function lockBackfill(stateDir: string): Promise<() => Promise<void>> {
  const path = join(stateDir, LOCK_FILE);
  try {
    const { lock } = PidLock.take(path, 'backfill');
    return async () => lock.release();
  } catch (err) {
    if (err instanceof LockHeldError) {
      throw new Error(`another backfill (process ${err.holder.pid}) is running with state_dir ${stateDir}; wait for it, or stop it (it goes on where it stopped when run again)`);
    }
    throw new Error(`cannot create ${path}: ${(err as Error).message}`, { cause: err });
  }
}

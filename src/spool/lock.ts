/**
 * `<dir>/lock`: the pid of the process that has the spool open, so that a
 * second agent (or `logship spool replay`) refuses it while the first runs.
 */
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ioError, SpoolLockedError } from './errors.ts';

const LOCK_FILE = 'lock';

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes `<dir>/lock` for this process; refuses when another live process holds it. */
export async function lock(dir: string): Promise<void> {
  const path = join(dir, LOCK_FILE);
  try {
    await writeFile(path, `${process.pid}\n`, { flag: 'wx', mode: 0o640 });
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError(err, `creating ${path}`);
  }
  const pid = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
  if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && pidAlive(pid)) throw new SpoolLockedError(dir, pid);
  // Left by a process that is gone (crash, SIGKILL): take it over.
  await writeFile(path, `${process.pid}\n`, { mode: 0o640 }).catch((err: unknown) => {
    throw ioError(err, `writing ${path}`);
  });
}

export async function unlock(dir: string): Promise<void> {
  await unlink(join(dir, LOCK_FILE)).catch(() => undefined);
}

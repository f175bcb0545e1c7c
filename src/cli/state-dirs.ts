import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Config } from '../config/types.ts';

/**
 * Throws unless `dir` is a writable directory, or could be created: its
 * nearest existing ancestor is a writable directory. Creates nothing: a
 * `check` run as root must not leave root-owned directories where the
 * agent's own user needs to write (the pipeline creates them when it
 * starts, as that user).
 */
function assertWritableOrCreatable(dir: string): void {
  for (let path = resolve(dir); ; path = dirname(path)) {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(path).isDirectory();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && dirname(path) !== path) continue;
      throw err;
    }
    if (!isDirectory) throw Object.assign(new Error(`${path} is not a directory`), { code: 'ENOTDIR' });
    accessSync(path, constants.W_OK);
    return;
  }
}

/**
 * The directories the agent writes (state_dir, and spool.dir when the spool
 * is on), checked writable or creatable as `run` will need them: a problem
 * per setting that fails, naming it; none when all is well.
 */
export function stateDirProblems(config: Config): { setting: string; dir: string; problem: string | undefined }[] {
  const check = (setting: string, dir: string) => {
    try {
      assertWritableOrCreatable(dir);
      return { setting, dir, problem: undefined };
    } catch (err) {
      const { code, message } = err as NodeJS.ErrnoException;
      return { setting, dir, problem: `cannot be created or written (${code ?? message}): fix its permissions or pick another ${setting}` };
    }
  };
  const state = check('state_dir', config.state_dir);
  // A spool inside a state_dir that fails fails the same way: said once.
  const inside = config.spool.dir.startsWith(`${config.state_dir}/`);
  return config.spool.enabled && !(inside && state.problem) ? [state, check('spool.dir', config.spool.dir)] : [state];
}

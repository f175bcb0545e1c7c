import { accessSync, constants, mkdirSync } from 'node:fs';
import type { Config } from '../config/types.ts';

/**
 * The directories the agent writes (state_dir, and spool.dir when the spool
 * is on), each created if missing and checked writable, as `run` would need
 * them: a problem per setting that fails, naming it; none when all is well.
 */
export function stateDirProblems(config: Config): { setting: string; dir: string; problem: string | undefined }[] {
  const check = (setting: string, dir: string) => {
    try {
      mkdirSync(dir, { recursive: true });
      accessSync(dir, constants.W_OK);
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

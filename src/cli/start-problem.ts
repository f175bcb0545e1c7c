import { ConfigError } from '../config/load.ts';
import type { Config } from '../config/types.ts';
import { SpoolIOError } from '../spool/index.ts';

/** Errors of the file system that only a change (permissions, another path) fixes. */
const FIXED_BY_A_CHANGE = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'EEXIST', 'ELOOP', 'ENAMETOOLONG']);

const LISTEN_REASONS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'the address is in use by another program: pick another port, or stop that program',
  EACCES: 'not permitted (ports below 1024 need privileges): pick a port above 1023',
  EADDRNOTAVAIL: 'no such address on this host: use one of its addresses, 127.0.0.1 or 0.0.0.0',
  ENOTFOUND: 'the host name does not resolve: use an address, 127.0.0.1 or 0.0.0.0',
};

/**
 * An error from starting the agent (the Pipeline's constructor or start())
 * as the configuration problem it is, naming the setting: state_dir or
 * spool.dir that cannot be written, a metrics.listen that cannot be bound.
 * Undefined for failures a retry may fix.
 */
export function startProblem(err: unknown, config: Config): ConfigError | undefined {
  if (err instanceof ConfigError) return err;
  const e = err as Partial<NodeJS.ErrnoException> | undefined;
  if ((e?.syscall === 'listen' || e?.syscall === 'bind' || e?.syscall === 'getaddrinfo') && e.code && LISTEN_REASONS[e.code]) {
    return new ConfigError('metrics.listen', [`metrics.listen ${config.metrics.listen}: ${LISTEN_REASONS[e.code]} (${e.code})`]);
  }
  const code = err instanceof SpoolIOError ? err.code : e?.code;
  if (!code || !FIXED_BY_A_CHANGE.has(code)) return undefined;
  const under = (dir: string) => typeof e?.path === 'string' && (e.path === dir || e.path.startsWith(`${dir}/`));
  const setting = err instanceof SpoolIOError || under(config.spool.dir) ? { name: 'spool.dir', dir: config.spool.dir } : under(config.state_dir) ? { name: 'state_dir', dir: config.state_dir } : undefined;
  if (!setting) return undefined;
  return new ConfigError(setting.name, [`${setting.name} ${setting.dir}: ${(err as Error).message}: fix its permissions or pick another ${setting.name}`]);
}

import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/**
 * The agent's own log: pino JSON on stdout, one line per event that matters,
 * never one per record. On stderr with `toStderr` (`run --dry-run`, whose
 * stdout carries the messages).
 */
export function createLogger(level: LevelWithSilent = 'info', toStderr = false): Logger {
  const options = { name: 'logship', level, base: { pid: process.pid } };
  return toStderr ? pino(options, pino.destination({ dest: 2, sync: true })) : pino(options);
}

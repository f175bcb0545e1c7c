import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/** The agent's own log: pino JSON on stdout, one line per event that matters, never one per record. */
export function createLogger(level: LevelWithSilent = 'info'): Logger {
  return pino({ name: 'logship', level, base: { pid: process.pid } });
}

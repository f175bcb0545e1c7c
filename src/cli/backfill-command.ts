import type { CommandModule } from 'yargs';
import { Backfill, type BackfillResult } from '../backfill/backfill.ts';
import { summary } from '../backfill/progress.ts';
import { ConfigError, loadConfig } from '../config/load.ts';
import { createLogger } from '../observe/logger.ts';
import { EXIT_CONFIG, EXIT_FAILURE, EXIT_OK } from './exit-codes.ts';
import { stateDirProblems } from './state-dirs.ts';

interface BackfillArgs {
  config: string;
  path: string[];
  since?: string;
  'max-rate'?: number;
  input?: string;
  'metrics-listen'?: string;
  'log-level'?: string;
}

function refuse(message: string): never {
  process.stderr.write(`logship: ${message}\n`);
  process.exit(EXIT_CONFIG);
}

export const backfillCommand: CommandModule<object, BackfillArgs> = {
  command: 'backfill',
  describe: 'Ship rotated history (plain, .gz, .zst) once, oldest first, skipping what the agent already shipped',
  builder: (y) =>
    y
      .option('config', { alias: 'c', type: 'string', demandOption: true, describe: "The agent's YAML configuration (Kafka, format, state_dir)" })
      .option('path', { type: 'string', array: true, demandOption: true, describe: "Files or globs of history, e.g. '/var/log/nginx/access.log.*' (quoted)" })
      .option('since', { type: 'string', describe: 'Leave out files last written before this date (ISO 8601, e.g. 2026-11-01)' })
      .option('max-rate', { type: 'number', describe: 'At most this many lines per second' })
      .option('input', { type: 'string', describe: 'The input whose format and topic apply (default: the first)' })
      .option('metrics-listen', { type: 'string', describe: 'host:port for /metrics while it runs (beside the agent: another port)' })
      .option('log-level', { type: 'string', describe: 'fatal | error | warn | info | debug | trace | silent' }) as never,
  handler: async (argv) => {
    let sinceMs: number | undefined;
    if (argv.since !== undefined) {
      sinceMs = Date.parse(argv.since);
      if (Number.isNaN(sinceMs)) refuse(`--since ${argv.since}: not a date; give one like 2026-11-01 or 2026-11-01T06:00:00Z`);
    }
    if (argv['max-rate'] !== undefined && !(argv['max-rate'] > 0)) refuse(`--max-rate ${argv['max-rate']}: give a positive number of lines per second`);
    let backfill: Backfill;
    try {
      const config = loadConfig(argv.config, { log_level: argv['log-level'] });
      // Only state_dir: backfill has no spool (a batch Kafka does not take is retried, and the run waits).
      const state = stateDirProblems(config)[0]!;
      if (state.problem !== undefined) refuse(`state_dir ${state.dir}: ${state.problem}`);
      const log = createLogger(config.log_level);
      backfill = new Backfill(config, { paths: argv.path, sinceMs, maxRate: argv['max-rate'], input: argv.input, metricsListen: argv['metrics-listen'] }, log);
    } catch (err) {
      if (err instanceof ConfigError) refuse(err.message);
      throw err;
    }
    let interrupts = 0;
    const stop = (): void => {
      // A second Ctrl-C does not wait for the batches in flight: they go again next time, with the same ids.
      if (++interrupts > 1) process.exit(EXIT_FAILURE);
      process.stderr.write('\nbackfill: stopping after the batches in flight (Ctrl-C again to quit now)\n');
      backfill.stop();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    let result: BackfillResult;
    try {
      result = await backfill.run();
    } catch (err) {
      if (err instanceof ConfigError) refuse(err.message);
      // Another backfill holds state_dir, the paths cannot be read...: said plainly; a retry may do.
      process.stderr.write(`logship: backfill: ${(err as Error).message}\n`);
      process.exit(EXIT_FAILURE);
    }
    process.stderr.write(`${summary(result.figures, result.recordsSent, result.stopped)}\n`);
    process.exit(result.complete ? EXIT_OK : EXIT_FAILURE);
  },
};

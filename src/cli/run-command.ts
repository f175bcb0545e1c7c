import type { CommandModule } from 'yargs';
import { ConfigError, loadConfig } from '../config/load.ts';
import { createLogger } from '../observe/logger.ts';
import { notifySystemdReady } from '../observe/systemd-notify.ts';
import { Pipeline } from '../pipeline.ts';
import { configOptions } from './config-options.ts';
import { EXIT_CONFIG, EXIT_FAILURE, EXIT_OK } from './exit-codes.ts';

interface RunArgs {
  config?: string;
  path?: string[];
  format?: string;
  brokers?: string[];
  topic?: string;
  'state-dir'?: string;
  'log-level'?: string;
}

export const runCommand: CommandModule<object, RunArgs> = {
  command: 'run',
  describe: 'Follow the configured log files and ship their records to Kafka',
  builder: (y) =>
    configOptions(y)
      .option('state-dir', { type: 'string', describe: 'Directory for checkpoints' })
      .option('log-level', { type: 'string', describe: 'fatal | error | warn | info | debug | trace | silent' })
      .check((argv) => {
        if (!argv.config && !argv.path) throw new Error('give --config FILE, or --path with --format, --brokers and --topic');
        return true;
      }),
  handler: async (argv) => {
    const overrides = {
      paths: argv.path,
      format: argv.format,
      brokers: argv.brokers,
      topic: argv.topic,
      state_dir: argv['state-dir'],
      log_level: argv['log-level'],
    };
    let config;
    try {
      config = loadConfig(argv.config, overrides);
    } catch (err) {
      process.stderr.write(`logship: ${(err as Error).message}\n`);
      process.exit(err instanceof ConfigError ? EXIT_CONFIG : EXIT_FAILURE);
    }
    const log = createLogger(config.log_level);
    let pipeline: Pipeline;
    try {
      pipeline = new Pipeline(config, log);
    } catch (err) {
      log.fatal({ err }, 'cannot start');
      process.stderr.write(`logship: ${(err as Error).message}\n`);
      process.exit(err instanceof ConfigError ? EXIT_CONFIG : EXIT_FAILURE);
    }
    let stopping: Promise<void> | undefined;
    const stop = (signal: string) => {
      if (stopping) return;
      log.info({ signal }, 'stopping: shipping what is batched');
      stopping = pipeline.stop().then(
        () => process.exit(EXIT_OK),
        (err: unknown) => {
          log.fatal({ err }, 'stop failed');
          process.exit(EXIT_FAILURE);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    // SIGHUP: read the configuration again; a bad one is reported and the running one kept.
    let reloading = Promise.resolve();
    process.on('SIGHUP', () => {
      reloading = reloading.then(async () => {
        if (stopping) return;
        try {
          await pipeline.reload(loadConfig(argv.config, overrides));
        } catch (err) {
          log.error({ err: err instanceof ConfigError ? undefined : err, problems: (err as ConfigError).problems }, `configuration not reloaded, the running one is kept: ${(err as Error).message}`);
        }
      });
    });
    try {
      await pipeline.start();
      log.info({ inputs: config.inputs.map((i) => ({ name: i.name, paths: i.paths })), topic: config.kafka.topic }, 'logship running');
      notifySystemdReady(log);
    } catch (err) {
      log.fatal({ err }, 'cannot start');
      await pipeline.stop().catch(() => undefined);
      process.exit(EXIT_FAILURE);
    }
  },
};

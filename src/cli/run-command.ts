import type { CommandModule } from 'yargs';
import { ConfigError, loadConfig } from '../config/load.ts';
import type { Config } from '../config/types.ts';
import { createLogger, type Logger } from '../observe/logger.ts';
import { notifySystemdReady } from '../observe/systemd-notify.ts';
import { Pipeline } from '../pipeline.ts';
import { configOptions, overridesOf, type ConfigArgs } from './config-options.ts';
import { EXIT_CONFIG, EXIT_FAILURE, EXIT_OK } from './exit-codes.ts';
import { reportSilentBrokers } from './kafka-first-contact.ts';
import { startProblem } from './start-problem.ts';
import { stateDirProblems } from './state-dirs.ts';

/** A problem only a change fixes: said once, plainly (no stack: it is not a bug), exit 2. */
function refuse(err: ConfigError): never {
  process.stderr.write(`logship: ${err.message}\n`);
  process.exit(EXIT_CONFIG);
}

/** Starting failed: a configuration problem (exit 2) or one a retry may fix (exit 1, logged with its stack). */
function cannotStart(err: unknown, config: Config, log: Logger): never {
  const problem = startProblem(err, config);
  if (problem) refuse(problem);
  log.fatal({ err }, 'cannot start');
  process.exit(EXIT_FAILURE);
}

export const runCommand: CommandModule<object, ConfigArgs> = {
  command: 'run',
  describe: 'Follow the configured log files and ship their records to Kafka',
  builder: (y) =>
    configOptions(y).check((argv) => {
      if (!argv.config && !argv.path) throw new Error('give --config FILE, or --path with --format, --brokers and --topic');
      return true;
    }),
  handler: async (argv) => {
    const overrides = overridesOf(argv);
    let config: Config;
    try {
      config = loadConfig(argv.config, overrides);
    } catch (err) {
      if (err instanceof ConfigError) refuse(err);
      throw err;
    }
    const dirs = stateDirProblems(config).filter((d) => d.problem !== undefined);
    if (dirs.length > 0) refuse(new ConfigError(argv.config ?? 'command line', dirs.map((d) => `${d.setting} ${d.dir}: ${d.problem}`)));
    const log = createLogger(config.log_level);
    let pipeline: Pipeline;
    try {
      pipeline = new Pipeline(config, log);
    } catch (err) {
      cannotStart(err, config, log);
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
      await pipeline.stop().catch(() => undefined);
      cannotStart(err, config, log);
    }
    // Says within seconds what the producer would say only after request_timeout_ms: brokers that accept and never answer.
    void reportSilentBrokers(config.kafka, log);
  },
};

import { mkdirSync } from 'node:fs';
import type { CommandModule } from 'yargs';
import { CheckpointStore } from '../checkpoint/checkpoint-store.ts';
import { lockStateDir, StateDirLockedError } from '../checkpoint/state-dir-lock.ts';
import type { LockHolder, PidLock } from '../lockfile/pid-lock.ts';
import { ConfigError, loadConfig } from '../config/load.ts';
import type { Config } from '../config/types.ts';
import { createLogger, type Logger } from '../observe/logger.ts';
import { notifySystemdReady } from '../observe/systemd-notify.ts';
import { Pipeline } from '../pipeline.ts';
import { ConsoleProducer } from '../output/console-producer.ts';
import { configOptions, overridesOf, type ConfigArgs } from './config-options.ts';
import { dryRunConfig, dryRunOptions, dryRunOverrides, onStdoutClosed, type DryRunArgs } from './dry-run.ts';
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

/** Takes state_dir for this agent: a second agent on it is refused (exit 2) rather than shipping every line twice. */
function takeStateDir(config: Config): { lock: PidLock; tookOver?: LockHolder } {
  try {
    mkdirSync(config.state_dir, { recursive: true });
    return lockStateDir(config.state_dir, 'run');
  } catch (err) {
    if (err instanceof StateDirLockedError) {
      process.stderr.write(`logship: ${err.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    const problem = startProblem(err, config);
    if (problem) refuse(problem);
    throw err;
  }
}

export const runCommand: CommandModule<object, ConfigArgs & DryRunArgs> = {
  command: 'run',
  describe: 'Follow the configured log files and ship their records to Kafka',
  builder: (y) =>
    dryRunOptions(configOptions(y)).check((argv) => {
      if (!argv.config && !argv.path) throw new Error('give --config FILE, or --path with --format, --brokers and --topic');
      return true;
    }),
  handler: async (argv) => {
    const dryRun = argv['dry-run'] === true;
    const overrides = dryRun ? dryRunOverrides(overridesOf(argv), argv.config !== undefined) : overridesOf(argv);
    let config: Config;
    try {
      config = loadConfig(argv.config, overrides);
    } catch (err) {
      if (err instanceof ConfigError) refuse(err);
      throw err;
    }
    if (dryRun) config = dryRunConfig(config, argv.once === true);
    else {
      const dirs = stateDirProblems(config).filter((d) => d.problem !== undefined);
      if (dirs.length > 0) refuse(new ConfigError(argv.config ?? 'command line', dirs.map((d) => `${d.setting} ${d.dir}: ${d.problem}`)));
    }
    const locked = dryRun ? undefined : takeStateDir(config);
    process.once('exit', () => locked?.lock.release());
    const log = createLogger(config.log_level, dryRun);
    if (locked?.tookOver) {
      const { pid, host } = locked.tookOver;
      log.warn({ state_dir: config.state_dir, previous_pid: pid, previous_host: host }, 'took over the state_dir lock of an agent that is gone (crashed or killed)');
    }
    let pipeline: Pipeline;
    try {
      // A dry run prints instead of sending, and its checkpoints live in memory: state_dir is neither read nor written.
      pipeline = dryRun ? new Pipeline(config, log, new ConsoleProducer(config.kafka), new CheckpointStore(undefined, log)) : new Pipeline(config, log);
    } catch (err) {
      cannotStart(err, config, log);
    }
    if (dryRun) onStdoutClosed(() => process.exit(EXIT_OK));
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
      log.info({ inputs: config.inputs.map((i) => ({ name: i.name, paths: i.paths })), topic: config.kafka.topic, dry_run: dryRun || undefined }, 'logship running');
      notifySystemdReady(log);
    } catch (err) {
      await pipeline.stop().catch(() => undefined);
      cannotStart(err, config, log);
    }
    if (dryRun) {
      if (argv.once) {
        await pipeline.readToEnd();
        stop('end of files (--once)');
      }
      return;
    }
    // Says within seconds what the producer would say only after request_timeout_ms: brokers that accept and never answer.
    if (config.output.type === 'kafka') void reportSilentBrokers(config.kafka, log);
  },
};

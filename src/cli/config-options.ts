import type { Argv } from 'yargs';
import type { ConfigOverrides } from '../config/load.ts';

/** The options `run` and `check` share: a config file, or an input and Kafka given on the command line, and what overrides it. */
export function configOptions<T>(y: Argv<T>) {
  return y
    .option('config', { alias: 'c', type: 'string', describe: 'YAML configuration file' })
    .option('path', { type: 'string', array: true, describe: 'File or glob to follow (replaces the inputs of --config)' })
    .option('exclude', { type: 'string', array: true, implies: 'path', describe: 'Glob of files --path matches that are not followed (e.g. /var/log/nginx/error.log)' })
    .option('format', { type: 'string', describe: 'Preset name or log_format string' })
    .option('brokers', { type: 'string', array: true, describe: 'Kafka bootstrap brokers, host:port (comma-separated or repeated)' })
    .option('topic', { type: 'string', describe: 'Kafka topic for records' })
    .option('state-dir', { type: 'string', describe: 'Directory for checkpoints' })
    .option('log-level', { type: 'string', describe: 'fatal | error | warn | info | debug | trace | silent' })
    .option('metrics-listen', { type: 'string', describe: 'host:port for /metrics, /healthz and /readyz (metrics.listen)' })
    .coerce('brokers', (values: string[]) => values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean));
}

export interface ConfigArgs {
  config?: string;
  path?: string[];
  exclude?: string[];
  format?: string;
  brokers?: string[];
  topic?: string;
  'state-dir'?: string;
  'log-level'?: string;
  'metrics-listen'?: string;
}

/** The settings the flags give, over the file's. */
export function overridesOf(argv: ConfigArgs): ConfigOverrides {
  return { paths: argv.path, exclude: argv.exclude, format: argv.format, brokers: argv.brokers, topic: argv.topic, state_dir: argv['state-dir'], log_level: argv['log-level'], metrics_listen: argv['metrics-listen'] };
}

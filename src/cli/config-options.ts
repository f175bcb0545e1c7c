import type { Argv } from 'yargs';

/** The options `run` and `check` share: a config file, or an input and Kafka given on the command line. */
export function configOptions<T>(y: Argv<T>) {
  return y
    .option('config', { alias: 'c', type: 'string', describe: 'YAML configuration file' })
    .option('path', { type: 'string', array: true, describe: 'File or glob to follow (replaces the inputs of --config)' })
    .option('format', { type: 'string', describe: 'Preset name or log_format string' })
    .option('brokers', { type: 'string', array: true, describe: 'Kafka bootstrap brokers, host:port (comma-separated or repeated)' })
    .option('topic', { type: 'string', describe: 'Kafka topic for records' })
    .coerce('brokers', (values: string[]) => values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean));
}

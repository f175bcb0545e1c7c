/**
 * `run --dry-run`: parse and encode exactly as `run` would, and print the
 * messages (output/console-producer.ts) instead of sending them. Made to
 * try a configuration on a laptop: no broker, no state_dir, no port.
 *
 * Every file is read from its beginning, whatever start_at and the
 * checkpoints say: someone trying a format wants to see their file's lines,
 * and the checkpoints (of the agent that runs there, maybe with another
 * configuration, in a state_dir a laptop user often cannot read) would
 * show nothing of a file already shipped. Nothing is written: checkpoints
 * are kept in memory, the spool and the metrics endpoint are off.
 */
import type { Argv } from 'yargs';
import type { ConfigOverrides } from '../config/load.ts';
import type { Config } from '../config/types.ts';

export interface DryRunArgs {
  'dry-run'?: boolean;
  once?: boolean;
}

/** Never contacted: fills kafka.brokers for a dry run given by flags alone, where --brokers would be required. */
const NO_BROKER = 'dry-run.invalid:9092';

export function dryRunOptions<T>(y: Argv<T>) {
  return y
    .option('dry-run', { type: 'boolean', describe: 'Print the messages (topic, key, headers, value; JSON lines on stdout) instead of sending them; reads every file from its beginning, writes no checkpoint' })
    .option('once', { type: 'boolean', implies: 'dry-run', describe: 'With --dry-run: exit once the files are read to their end' });
}

/** A dry run given by flags alone needs no --brokers. */
export function dryRunOverrides(overrides: ConfigOverrides, fromFile: boolean): ConfigOverrides {
  return fromFile || overrides.brokers?.length ? overrides : { ...overrides, brokers: [NO_BROKER] };
}

/** The configuration as a dry run uses it: from the beginning of every file, nothing listening, nothing spooled; with `once`, partial last lines printed at the end. */
export function dryRunConfig(config: Config, once: boolean): Config {
  return {
    ...config,
    inputs: config.inputs.map((input) => ({ ...input, start_at: 'beginning', flush_partial_on_stop: once || input.flush_partial_on_stop })),
    metrics: { ...config.metrics, enabled: false },
    spool: { ...config.spool, enabled: false },
  };
}

/** Output piped into `head` or a pager that quit: the dry run ends quietly, as a filter does. */
export function onStdoutClosed(done: () => void): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') done();
    else throw err;
  });
}

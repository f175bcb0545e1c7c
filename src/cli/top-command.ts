/**
 * `logship top`: a running agent's flow, read from its /metrics every
 * --interval: per input lines/s in and records/s acked, parse errors,
 * dead letters and lag; per file its lag; spool, in-flight batches and the
 * output's state. Redrawn in place on a terminal; one line per interval
 * when stdout is not one (a pipe, a log).
 */
import { setInterval as every } from 'node:timers/promises';
import logUpdate from 'log-update';
import type { CommandModule } from 'yargs';
import { ConfigError } from '../config/load.ts';
import { parseSamples } from '../top/prometheus-text.ts';
import { renderLine, renderTables } from '../top/render.ts';
import { getText } from '../top/scrape.ts';
import { snapshotOf, type AgentSnapshot } from '../top/snapshot.ts';
import { topView } from '../top/view-model.ts';
import { agentUrl, type AgentAddressArgs } from './agent-url.ts';
import { EXIT_CONFIG, EXIT_FAILURE, EXIT_OK } from './exit-codes.ts';

interface TopArgs extends AgentAddressArgs {
  interval: number;
}

/** A scrape slower than this is reported as no answer (and the next one tried). */
const MAX_SCRAPE_MS = 5000;

export const topCommand: CommandModule<object, TopArgs> = {
  command: 'top',
  describe: "A running agent's flow, live: rates, errors, lag, spool and output per input and file",
  builder: (y) =>
    y
      .option('config', { alias: 'c', type: 'string', describe: 'YAML configuration file (the one the agent runs with): its metrics.listen' })
      .option('url', { type: 'string', describe: "The agent's address, http://host:port, instead of the configuration" })
      .option('interval', { type: 'number', default: 2, describe: 'Seconds between two scrapes (rates are over this time)' })
      .check((argv) => {
        if (!argv.config && !argv.url) throw new Error('give --config FILE (or --url http://host:port)');
        if (!(argv.interval >= 0.1)) throw new Error(`--interval ${argv.interval}: give seconds, 0.1 or more`);
        return true;
      }),
  handler: async (argv) => {
    let url: URL;
    try {
      url = agentUrl(argv, '/metrics');
    } catch (err) {
      process.stderr.write(`logship top: ${(err as Error).message}\n`);
      process.exit(err instanceof ConfigError ? EXIT_CONFIG : EXIT_FAILURE);
    }
    const terminal = process.stdout.isTTY === true;
    process.stdout.on('error', (err: NodeJS.ErrnoException) => process.exit(err.code === 'EPIPE' ? EXIT_OK : EXIT_FAILURE));
    if (terminal) {
      process.once('SIGINT', () => {
        logUpdate.done();
        process.exit(EXIT_OK);
      });
    }
    const intervalMs = argv.interval * 1000;
    let previous: AgentSnapshot | undefined;
    // The first scrape at once, then one per interval whatever a scrape takes (at most the interval).
    const ticks = every(intervalMs);
    do {
      const at = new Date();
      let out: string;
      try {
        const snapshot = snapshotOf(parseSamples(await getText(url, Math.min(intervalMs, MAX_SCRAPE_MS))), at.getTime());
        const view = topView(snapshot, previous);
        previous = snapshot;
        out = terminal
          ? renderTables(view, `logship top  ${url.href}  every ${argv.interval}s  ${at.toISOString().slice(11, 19)} UTC  (Ctrl-C quits)`, { columns: process.stdout.columns, rows: process.stdout.rows })
          : renderLine(view, at);
      } catch (err) {
        out = `${terminal ? `logship top  ${url.href}\n` : `${at.toISOString()} `}no answer: ${(err as Error).message}`;
      }
      if (terminal) logUpdate(out);
      else process.stdout.write(`${out}\n`);
    } while (!(await ticks.next()).done);
  },
};

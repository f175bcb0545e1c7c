/**
 * `logship spool stats|verify|replay`: look into, check and drain the
 * on-disk spool.
 *
 *   stats   entries, records, bytes, segments, age of the oldest entry
 *           (read-only, safe while the agent runs); --json for machines.
 *   verify  reads every entry and checks every CRC (read-only). Exit 0 when
 *           clean, 1 when corrupt entries were found, 2 on usage errors. A
 *           torn tail (a crash mid-append, or an append under way) is
 *           reported but is not corruption: the next open cuts it off.
 *   replay  sends every spooled entry to Kafka now, oldest first, acking
 *           each (the cursor moves, drained segments are deleted), with a
 *           progress line. Refuses while the agent holds the spool. Exit 0
 *           when drained, 1 when Kafka failed (what is left stays spooled).
 */
import cliProgress from 'cli-progress';
import Table from 'cli-table3';
import ms from 'ms';
import type { Argv, CommandModule } from 'yargs';
import type { Batch } from '../batch/types.ts';
import { recordsByTopic } from '../batch/encoded-records.ts';
import { ConfigError, loadConfig } from '../config/load.ts';
import type { Config } from '../config/types.ts';
import { formatSize } from '../config/units.ts';
import { describeKafkaError } from '../kafka/describe-error.ts';
import { createProducer } from '../output/create-producer.ts';
import { createLogger } from '../observe/logger.ts';
import { inspectSpool, NoSpoolError, Spool, SpoolError, spoolOptions } from '../spool/index.ts';
import type { SpoolEntry, VerifyReport } from '../spool/index.ts';
import { EXIT_CONFIG, EXIT_FAILURE, EXIT_OK } from './exit-codes.ts';

interface DirArgs {
  dir: string;
  json?: boolean;
}

interface ReplayArgs {
  config: string;
  dir?: string;
  'log-level'?: string;
}

/** One produce request carries entries up to this many value bytes (or one larger entry). */
const REQUEST_BYTES = 1024 * 1024;
const REQUEST_ENTRIES = 32;

const num = (n: number): string => n.toLocaleString('en-US');

async function inspectOrExit(dir: string): Promise<VerifyReport> {
  try {
    return await inspectSpool(dir);
  } catch (err) {
    process.stderr.write(`logship: ${(err as Error).message}\n`);
    process.exit(err instanceof NoSpoolError ? EXIT_CONFIG : EXIT_FAILURE);
  }
}

function statsJson(report: VerifyReport, now: number) {
  return {
    dir: report.dir,
    entries: report.entries,
    records: report.records,
    bytes: report.bytes,
    disk_bytes: report.diskBytes,
    segments: report.segments.length,
    cursor: report.cursor,
    oldest_created_at: report.oldestCreatedAt === undefined ? null : new Date(report.oldestCreatedAt).toISOString(),
    oldest_age_ms: report.oldestCreatedAt === undefined ? null : Math.max(0, now - report.oldestCreatedAt),
    corrupt_entries: report.corruptEntries,
    torn_tails: report.tornTails,
  };
}

const statsCommand: CommandModule<object, DirArgs> = {
  command: 'stats',
  describe: 'Entries, records, bytes and oldest entry age in a spool directory (read-only)',
  builder: (y) =>
    y
      .option('dir', { type: 'string', demandOption: true, describe: 'Spool directory (spool.dir)' })
      .option('json', { type: 'boolean', default: false, describe: 'One JSON object on stdout' }),
  handler: async (argv) => {
    const report = await inspectOrExit(argv.dir);
    const now = Date.now();
    if (argv.json) {
      process.stdout.write(`${JSON.stringify(statsJson(report, now))}\n`);
      return;
    }
    const age = report.oldestCreatedAt === undefined ? '-' : `${ms(now - report.oldestCreatedAt)} (${new Date(report.oldestCreatedAt).toISOString()})`;
    process.stdout.write(
      [
        `spool     ${report.dir}`,
        `entries   ${num(report.entries)} (${num(report.records)} records) to replay`,
        `bytes     ${formatSize(report.bytes)} to replay; ${formatSize(report.diskBytes)} on disk in ${report.segments.length} segment${report.segments.length === 1 ? '' : 's'}`,
        `oldest    ${age}`,
        ...(report.corruptEntries > 0 ? [`corrupt   ${report.corruptEntries} (run: logship spool verify --dir ${argv.dir})`] : []),
      ].join('\n') + '\n',
    );
  },
};

const verifyCommand: CommandModule<object, DirArgs> = {
  command: 'verify',
  describe: 'Check the CRC of every spooled entry; exit 1 when corrupt entries are found',
  builder: (y) =>
    y
      .option('dir', { type: 'string', demandOption: true, describe: 'Spool directory (spool.dir)' })
      .option('json', { type: 'boolean', default: false, describe: 'The full report as JSON on stdout' }),
  handler: async (argv) => {
    const report = await inspectOrExit(argv.dir);
    if (argv.json) {
      process.stdout.write(`${JSON.stringify(report)}\n`);
    } else {
      const table = new Table({ head: ['segment', 'size', 'entries', 'to replay', 'state'], colAligns: ['left', 'right', 'right', 'right', 'left'], style: { head: [], border: [] } });
      const details: string[] = [];
      for (const seg of report.segments) {
        table.push([seg.file, formatSize(seg.bytes), num(seg.entries), num(seg.pending), seg.corrupt.length > 0 ? `${seg.corrupt.length} CORRUPT` : 'ok']);
        for (const c of seg.corrupt) details.push(`${seg.file}: corrupt at offset ${c.offset}: ${c.bytes} bytes${c.seq === undefined ? '' : `, entry seq ${c.seq}`}: ${c.reason}`);
        if (seg.tornTail) details.push(`${seg.file}: torn write at offset ${seg.tornTail.offset} (${seg.tornTail.bytes} bytes): cut off when the spool is next opened, never replayed`);
      }
      const out = report.segments.length > 0 ? [table.toString(), ...details] : [];
      const entries = report.segments.reduce((n, s) => n + s.entries, 0);
      out.push(
        report.ok
          ? `ok: ${num(entries)} entries in ${report.segments.length} segments, every CRC matches`
          : `CORRUPT: ${report.corruptEntries} corrupt entr${report.corruptEntries === 1 ? 'y' : 'ies'} in ${report.segments.filter((s) => s.corrupt.length > 0).length} segment(s); the agent skips them (their records are lost) and replays the rest`,
      );
      process.stdout.write(out.join('\n') + '\n');
    }
    process.exitCode = report.ok ? EXIT_OK : EXIT_FAILURE;
  },
};


/**
 * Replay's progress on stderr: a bar (cli-progress) on a terminal, a plain
 * line every few seconds otherwise (journald, a pipe).
 */
class Progress {
  private readonly started = Date.now();
  private lastLine = 0;
  entries = 0;
  records = 0;
  bytes = 0;
  private readonly totalEntries: number;
  private readonly totalRecords: number;
  private readonly bar: cliProgress.SingleBar | undefined;

  constructor(totalEntries: number, totalRecords: number) {
    this.totalEntries = totalEntries;
    this.totalRecords = totalRecords;
    if (process.stderr.isTTY) {
      this.bar = new cliProgress.SingleBar(
        { stream: process.stderr, format: '[{bar}] {percentage}% | {entries} entries | {value}/{total} records | {rate} records/s | {throughput}/s', hideCursor: true, fps: 10 },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(Math.max(1, totalRecords), 0, this.payload());
    }
  }

  private payload() {
    const secs = Math.max(0.001, (Date.now() - this.started) / 1000);
    return { entries: `${num(this.entries)}/${num(this.totalEntries)}`, rate: num(Math.round(this.records / secs)), throughput: formatSize(Math.round(this.bytes / secs)) };
  }

  line(): string {
    const pct = this.totalRecords > 0 ? Math.min(100, Math.floor((this.records / this.totalRecords) * 100)) : 100;
    const { entries, rate, throughput } = this.payload();
    return `${pct}%  ${entries} entries  ${num(this.records)}/${num(this.totalRecords)} records  ${rate} records/s  ${throughput}/s`;
  }

  update(force = false): void {
    if (this.bar) {
      this.bar.update(this.records, this.payload());
      return;
    }
    const now = Date.now();
    if (force || now - this.lastLine >= 5000) {
      process.stderr.write(`${this.line()}\n`);
      this.lastLine = now;
    }
  }

  done(): void {
    this.update(true);
    this.bar?.stop();
  }
}

const replayCommand: CommandModule<object, ReplayArgs> = {
  command: 'replay',
  describe: 'Send every spooled entry to Kafka now, oldest first (stop the agent first)',
  builder: (y) =>
    y
      .option('config', { alias: 'c', type: 'string', demandOption: true, describe: 'YAML configuration file (for kafka, state_dir, spool)' })
      .option('dir', { type: 'string', describe: 'Spool directory (default: spool.dir, else <state_dir>/spool)' })
      .option('log-level', { type: 'string', describe: 'fatal | error | warn | info | debug | trace | silent' }),
  handler: async (argv) => {
    let config: Config;
    try {
      config = loadConfig(argv.config, { log_level: argv['log-level'] });
    } catch (err) {
      process.stderr.write(`logship: ${(err as Error).message}\n`);
      process.exit(err instanceof ConfigError ? EXIT_CONFIG : EXIT_FAILURE);
    }
    const log = createLogger(config.log_level);
    const options = spoolOptions(config.spool, argv.dir);
    const before = await inspectSpool(options.dir).catch(() => undefined);
    if (!before) {
      process.stderr.write(`logship: no spool directory at ${options.dir}\n`);
      process.exit(EXIT_CONFIG);
    }
    let spool: Spool;
    try {
      spool = await Spool.open(options, log);
    } catch (err) {
      process.stderr.write(`logship: ${(err as Error).message}\n`);
      process.exit(EXIT_FAILURE);
    }
    const total = spool.stats();
    if (total.entries === 0) {
      await spool.close();
      process.stderr.write(`spool ${options.dir} is empty: nothing to replay\n`);
      process.exit(EXIT_OK);
    }
    process.stderr.write(`replaying ${num(total.entries)} entries (${num(total.records)} records) from ${options.dir} to ${config.kafka.brokers.join(',')}\n`);
    const producer = createProducer(config, log);
    const progress = new Progress(total.entries, total.records);
    let interrupted = false;
    const onSignal = () => {
      interrupted = true;
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    let failure: string | undefined;
    let held: SpoolEntry | undefined;
    try {
      while (!interrupted) {
        const entries: SpoolEntry[] = [];
        let bytes = 0;
        if (held) {
          entries.push(held);
          bytes = held.bytes;
          held = undefined;
        }
        while (entries.length < REQUEST_ENTRIES) {
          const entry = await spool.next();
          if (!entry) break;
          if (entries.length > 0 && bytes + entry.bytes > REQUEST_BYTES) {
            held = entry;
            break;
          }
          entries.push(entry);
          bytes += entry.bytes;
        }
        if (entries.length === 0) break;
        const batches: Batch[] = entries.map((e) => ({ seq: e.seq, topics: recordsByTopic(e.topics), records: e.records, bytes: e.bytes, marks: [] }));
        try {
          await producer.send(batches);
        } catch (err) {
          const topics = [...new Set(entries.flatMap((e) => [...e.topics.keys()]))];
          failure = (producer.describeError?.(err, topics) ?? describeKafkaError(err, { brokers: config.kafka.brokers, topics })).message;
          log.debug({ err }, 'replay send failed');
          break;
        }
        // Acked together: each ack takes its place in order at once, and their cursor writes share fdatasyncs.
        await Promise.all(entries.map((e) => spool.ack(e)));
        for (const e of entries) {
          progress.entries++;
          progress.records += e.records;
          progress.bytes += e.bytes;
        }
        progress.update();
      }
      progress.done();
    } catch (err) {
      failure = err instanceof SpoolError ? err.message : `replay failed: ${(err as Error).message}`;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await producer.close().catch(() => undefined);
    }
    const left = spool.stats();
    await spool.close();
    if (failure || interrupted) {
      process.stderr.write(
        `logship: ${failure ?? 'interrupted'}; ${num(progress.entries)} entries sent, ${num(left.entries)} (${num(left.records)} records) left in the spool, nothing lost\n`,
      );
      process.exit(EXIT_FAILURE);
    }
    process.stderr.write(`replayed ${num(progress.entries)} entries (${num(progress.records)} records); the spool is empty\n`);
    process.exit(EXIT_OK);
  },
};

export const spoolCommand: CommandModule = {
  command: 'spool',
  describe: 'Inspect, verify or drain the on-disk spool',
  builder: (y: Argv) => y.command(statsCommand).command(verifyCommand).command(replayCommand).demandCommand(1, 'give a spool command: stats, verify or replay'),
  handler: () => undefined,
};

import type { Server } from 'node:http';
import { CheckpointStore } from '../checkpoint/checkpoint-store.ts';
import { OffsetTracker } from '../checkpoint/offset-tracker.ts';
import { ConfigError } from '../config/load.ts';
import type { Config, InputConfig } from '../config/types.ts';
import { sourceOf } from '../encode/record-json.ts';
import type { BatchProducer } from '../kafka/batch-producer.ts';
import { KafkajsProducer } from '../kafka/kafkajs-producer.ts';
import { readiness } from '../observe/readiness.ts';
import { startHttpServer } from '../observe/http-server.ts';
import type { Logger } from '../observe/logger.ts';
import { Stats } from '../observe/stats.ts';
import type { FileSource } from '../tail/types.ts';
import { lockBackfill } from './backfill-lock.ts';
import { backfillMetrics } from './backfill-metrics.ts';
import { planFile, readAgentCheckpoints } from './file-plan.ts';
import { historyFiles, type HistoryFile } from './history-files.ts';
import { contentIdentity, openHistory } from './history-reader.ts';
import { pumpLines } from './line-pump.ts';
import { newFigures, startProgress, type BackfillFigures } from './progress.ts';
import { RateLimit } from './rate-limit.ts';
import { Shipper } from './shipper.ts';

/** Backfill's checkpoints, beside the agent's in state_dir: by content key (history-reader.ts). */
export const BACKFILL_CHECKPOINTS = 'backfill-checkpoints.json';

const PROGRESS_EVERY_MS = 200;

export interface BackfillOptions {
  /** Files or globs of rotated history (`/var/log/nginx/access.log.*`). */
  paths: string[];
  /** Leave out files last written before this (ms since the epoch). */
  sinceMs?: number;
  /** Lines per second, at most. */
  maxRate?: number;
  /** The input whose format, topic and options apply; default: the first. */
  input?: string;
  /** host:port for /metrics, /healthz, /readyz while it runs. */
  metricsListen?: string;
}

export interface BackfillResult {
  /** Every file shipped (or skipped) to its end and every record acknowledged. */
  complete: boolean;
  /** Stopped by stop() (Ctrl-C, SIGTERM) before the end. */
  stopped: boolean;
  figures: BackfillFigures;
  recordsSent: number;
}

/** The input a backfill uses (its format, topic, line limits): named, or the first file input. */
export function backfillInput(config: Config, name: string | undefined): InputConfig {
  const files = config.inputs.filter((i) => i.type !== 'syslog');
  const input = name === undefined ? files[0] : files.find((i) => i.name === name);
  if (!input) {
    const known = files.map((i) => `"${i.name}"`).join(', ') || 'none';
    throw new ConfigError('--input', [name === undefined ? 'the configuration has no file input to take the format from' : `no file input named "${name}"; file inputs: ${known}`]);
  }
  return input;
}

/**
 * `logship backfill`: ships rotated history, oldest file first, once.
 * Each file's progress is checkpointed by content as Kafka acknowledges
 * its lines, so a run stopped (Ctrl-C) or killed goes on where it stopped;
 * file-plan.ts decides what the live agent already shipped.
 */
export class Backfill {
  readonly figures = newFigures();
  readonly stats = new Stats();
  private readonly config: Config;
  private readonly options: BackfillOptions;
  private readonly input: InputConfig;
  private readonly log: Logger;
  private readonly producer: BatchProducer;
  private stopping = false;
  /** A line per file, unless a progress bar is drawn on the terminal (the lines would break it). */
  private readonly fileLogLevel = process.stderr.isTTY ? 'debug' : 'info';
  /** Trackers of files with batches not yet acknowledged; `settled` resolves when none is left. */
  private readonly unacked = new Set<OffsetTracker>();
  private settledWaiter: (() => void) | undefined;

  constructor(config: Config, options: BackfillOptions, log: Logger, producer: BatchProducer = new KafkajsProducer(config.kafka, log)) {
    this.config = config;
    this.options = options;
    this.input = backfillInput(config, options.input);
    this.log = log;
    this.producer = producer;
  }

  /** Ctrl-C: stop after the current line; what was handed over is still delivered and checkpointed. */
  stop(): void {
    this.stopping = true;
    this.settledWaiter?.();
  }

  async run(): Promise<BackfillResult> {
    const { config, options, input, figures, log } = this;
    const rate = options.maxRate === undefined ? undefined : new RateLimit(options.maxRate);
    const files = await historyFiles(options.paths, options.sinceMs);
    figures.files = files.length;
    figures.bytesTotal = files.reduce((n, f) => n + f.size, 0);
    log.info({ files: files.length, bytes: figures.bytesTotal, input: input.name, paths: options.paths }, 'backfill: history files found, oldest first');
    const checkpoints = new CheckpointStore(config.state_dir, log, BACKFILL_CHECKPOINTS); // creates state_dir
    const unlock = await lockBackfill(config.state_dir);
    checkpoints.startAutoSave(1000);
    const shipper = new Shipper(config, input, this.stats, checkpoints, this.producer, log);
    let server: Server | undefined;
    if (options.metricsListen !== undefined) {
      server = await startHttpServer(options.metricsListen, backfillMetrics(figures, this.stats), { readiness: () => readiness({ state: 'running', failing: shipper.failing, spoolAccepting: false }) }, log);
    }
    shipper.connect();
    const progress = await startProgress(figures);
    const ticker = setInterval(() => progress.update(), PROGRESS_EVERY_MS);
    ticker.unref();
    try {
      for (const file of files) {
        if (this.stopping) break;
        figures.current = file.path;
        await this.shipFile(file, checkpoints, shipper, rate);
      }
      shipper.batcher.flush();
      await this.settled();
    } finally {
      clearInterval(ticker);
      const delivered = await shipper.finish(config.shutdown_timeout_ms);
      await checkpoints.close();
      progress.stop();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      await unlock();
      if (!delivered) log.warn('shutdown timeout: some batches were not acked; their lines go again on the next run (same record ids)');
    }
    const complete = !this.stopping && figures.fileErrors === 0 && this.unacked.size === 0;
    const result = { complete, stopped: this.stopping, figures, recordsSent: this.stats.counters.records_sent };
    log.info({ complete, ...figures, records_sent: result.recordsSent, counters: this.stats.counters }, complete ? 'backfill finished' : 'backfill stopped before the end');
    return result;
  }

  private async shipFile(file: HistoryFile, checkpoints: CheckpointStore, shipper: Shipper, rate: RateLimit | undefined): Promise<void> {
    const { figures, input, log } = this;
    const bytesBefore = figures.bytesDone;
    try {
      if (file.unsupported !== undefined) throw new Error(`${file.unsupported}-compressed files are not read (gzip and zstd are); decompress it first`);
      const identity = await contentIdentity(file, input.fingerprint_bytes);
      const plan = identity === undefined ? ({ action: 'skip', why: 'empty' } as const) : planFile(file, identity, checkpoints.get(identity.contentKey), await readAgentCheckpoints(this.config.state_dir));
      if (plan.action === 'skip' || identity === undefined) {
        figures.filesSkipped++;
        figures.bytesDone = bytesBefore + file.size;
        log[this.fileLogLevel]({ path: file.path, why: plan.action === 'skip' ? plan.why : '' }, 'backfill: file skipped');
        return;
      }
      log[this.fileLogLevel]({ path: file.path, id: plan.id, from: plan.from, why: plan.why }, 'backfill: shipping file');
      const key = identity.contentKey;
      const entry = { path: file.path, input: input.name, id: plan.id };
      // Set once the file is read: its end (undefined after an error or a stop), and whether reading is over.
      let total: number | undefined;
      let readingOver = false;
      const tracker = new OffsetTracker(plan.from, (t) => {
        const done = total !== undefined && t.committed >= total;
        checkpoints.set(key, { ...entry, offset: t.committed, ...(done ? { size: total } : {}) });
        if (readingOver && t.pending === 0) this.acked(t);
      });
      // The ids are chosen before a line goes: a later run keeps them even if the agent's checkpoint is gone by then.
      checkpoints.set(key, { ...entry, offset: plan.from });
      const source = sourceOf(this.config.host, file.path, input.name);
      const fileSource: FileSource = { key, id: plan.id, path: file.path, tracker, source, sourceJson: JSON.stringify(source) };
      const { lines, raw } = openHistory(file.path, file.compression);
      const sink = shipper.sink;
      this.unacked.add(tracker);
      try {
        total = await pumpLines(
          lines,
          plan.from,
          { maxLineBytes: input.max_line_bytes, truncate: input.on_long_line === 'truncate', finalPartial: file.compression !== undefined },
          {
            line: (buf, start, endOfLine, lineOffset, nextOffset, truncated) => {
              figures.lines++;
              figures.bytesDone = bytesBefore + raw.bytesRead;
              if (truncated) this.stats.input(input.name).lines_truncated++;
              return sink.line(fileSource, buf, start, endOfLine, lineOffset, nextOffset, truncated);
            },
            skipped: (nextOffset) => {
              this.stats.input(input.name).lines_too_long_skipped++;
              shipper.batcher.skip(tracker, nextOffset, this.stats.input(input.name));
            },
            room: () => shipper.room(),
            stopped: () => this.stopping,
          },
          rate,
        );
        if (this.stopping) total = undefined;
      } finally {
        readingOver = true;
        // The file's last lines get their tickets: pending then counts every batch holding its lines.
        shipper.batcher.flush();
        if (tracker.pending === 0) {
          // Nothing in flight for this file: its checkpoint says where reading ended now.
          if (total !== undefined) checkpoints.set(key, { ...entry, offset: Math.max(tracker.committed, total), size: total });
          this.acked(tracker);
        }
      }
      figures.bytesDone = bytesBefore + file.size;
      if (!this.stopping) figures.filesDone++;
    } catch (err) {
      figures.fileErrors++;
      figures.bytesDone = bytesBefore + file.size;
      log.error({ err, path: file.path }, `backfill: ${file.path} failed: ${(err as Error).message}; what was read of it is shipped, the next run goes on from there`);
    }
  }

  private acked(tracker: OffsetTracker): void {
    this.unacked.delete(tracker);
    if (this.unacked.size === 0) this.settledWaiter?.();
  }

  /** Resolves when every line handed over is acknowledged and checkpointed, or at stop(). */
  private settled(): Promise<void> {
    if (this.unacked.size === 0 || this.stopping) return Promise.resolve();
    return new Promise((resolve) => (this.settledWaiter = resolve));
  }
}

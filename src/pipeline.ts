/**
 * The whole product on one screen:
 *
 *   files ─► Tailer ─► LineEncoder (parse + encode) ─► Batcher ─► Delivery ─► Kafka
 *              ▲                                                     │ acked
 *              └──── resume ◄── (slots free) ◄───────────────────────┤
 *                  CheckpointStore ◄── OffsetTracker (per file) ◄────┘
 */
import { Batcher } from './batch/batcher.ts';
import { CheckpointStore } from './checkpoint/checkpoint-store.ts';
import { ConfigError } from './config/load.ts';
import type { Config, InputConfig } from './config/types.ts';
import { LineEncoder } from './encode/line-encoder.ts';
import { sourceJson } from './encode/record-json.ts';
import type { BatchProducer } from './kafka/batch-producer.ts';
import { Delivery } from './kafka/delivery.ts';
import { KafkajsProducer } from './kafka/kafkajs-producer.ts';
import type { Logger } from './observe/logger.ts';
import { Stats } from './observe/stats.ts';
import { compileLogFormat, resolveFormat, type LineParser } from './parse/index.ts';
import { pruneGoneFiles } from './tail/checkpoint-gc.ts';
import { ContainerLineSink, k8sMetadataFromPath } from './tail/container/index.ts';
import { Tailer } from './tail/tailer.ts';
import type { LineSink } from './tail/types.ts';

/** Retry delay for a checkpoint save that failed (saves themselves follow acks at once). */
const CHECKPOINT_RETRY_MS = 1000;

/** Compiles an input's log format; a bad one is a configuration error naming the input. */
function inputParser(input: InputConfig, index: number): LineParser {
  try {
    return compileLogFormat(resolveFormat({ format: input.format, nginxConf: input.nginx_conf, name: input.format_name }));
  } catch (err) {
    throw new ConfigError(`inputs[${index}] (${input.name})`, [(err as Error).message]);
  }
}

/** Unwraps container runtime lines before the encoder; bad wrapper lines are counted and logged once per file. */
function containerSink(encoder: LineSink, input: InputConfig, stats: Stats, log: Logger): LineSink {
  const warned = new WeakSet<object>();
  return new ContainerLineSink(encoder, {
    mode: input.container as 'cri' | 'docker' | 'auto',
    maxBytes: input.max_line_bytes,
    events: {
      malformed: (file, reason, lineOffset) => {
        stats.inc('container_malformed_lines');
        if (warned.has(file)) return;
        warned.add(file);
        log.warn({ path: file.path, offset: lineOffset, reason }, 'not a container runtime line; passed on raw (further ones in this file are only counted)');
      },
      longMessage: () => stats.inc('container_long_messages'),
    },
  });
}

export class Pipeline {
  readonly stats = new Stats();
  private readonly config: Config;
  private readonly log: Logger;
  private readonly producer: BatchProducer;
  private readonly checkpoints: CheckpointStore;
  private readonly batcher: Batcher;
  private readonly delivery: Delivery;
  private readonly tailers: Tailer[];
  private gcTimer: NodeJS.Timeout | undefined;

  constructor(config: Config, log: Logger, producer: BatchProducer = new KafkajsProducer(config.kafka, log)) {
    this.config = config;
    this.log = log;
    this.producer = producer;
    this.checkpoints = new CheckpointStore(config.state_dir, log);
    this.delivery = new Delivery(
      producer,
      { maxInFlight: config.kafka.max_in_flight, maxRequestBytes: config.batch.max_bytes },
      this.stats,
      log,
      () => this.resume(),
    );
    this.batcher = new Batcher(
      { maxRecords: config.batch.max_records, maxBytes: config.batch.max_bytes, lingerMs: config.batch.linger_ms },
      (batch) => this.delivery.submit(batch),
    );
    // Parsers compile before anything starts: a bad format stops the agent here, not at the first line.
    this.tailers = config.inputs.map((input, index) => {
      const encoder: LineSink = new LineEncoder(
        inputParser(input, index),
        { topic: input.topic ?? config.kafka.topic, deadLetterTopic: config.kafka.dead_letter_topic, onError: input.on_error },
        this.batcher,
        () => this.delivery.full,
        this.stats,
      );
      const container = input.container !== 'none';
      return new Tailer(input, {
        sink: container ? containerSink(encoder, input, this.stats, log) : encoder,
        checkpoints: this.checkpoints,
        stats: this.stats,
        log,
        sourceJson: (path) => sourceJson(config.host, path, input.name, container ? k8sMetadataFromPath(path) : undefined),
      });
    });
  }

  async start(): Promise<void> {
    await this.producer.connect();
    this.log.info({ brokers: this.config.kafka.brokers }, 'connected to Kafka');
    this.checkpoints.startAutoSave(CHECKPOINT_RETRY_MS);
    for (const tailer of this.tailers) await tailer.start();
    this.gcTimer = setInterval(() => void this.pruneCheckpoints(), 60_000);
    this.gcTimer.unref();
  }

  private resume(): void {
    for (const tailer of this.tailers) tailer.resume();
  }

  private async pruneCheckpoints(): Promise<void> {
    const pruned = await pruneGoneFiles(this.checkpoints, (key) => this.tailers.some((t) => t.isFollowing(key)));
    if (pruned > 0) this.log.info({ pruned }, 'forgot checkpoints of files that are gone');
  }

  /** Stops reading, ships what is batched, saves checkpoints. Returns whether everything read was acked. */
  async stop(): Promise<boolean> {
    clearInterval(this.gcTimer);
    await Promise.all(this.tailers.map((t) => t.stop()));
    this.batcher.flush();
    const delivered = await this.delivery.drain(this.config.shutdown_timeout_ms);
    if (!delivered) this.log.warn('shutdown timeout: some batches were not acked; their lines will be read again on the next start');
    await this.checkpoints.close();
    await this.producer.close().catch((err: unknown) => this.log.warn({ err }, 'closing the Kafka producer failed'));
    this.log.info({ counters: this.stats.counters }, 'stopped');
    return delivered;
  }
}

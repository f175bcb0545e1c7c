import { Batcher } from '../batch/batcher.ts';
import type { CheckpointStore } from '../checkpoint/checkpoint-store.ts';
import type { Config, InputConfig } from '../config/types.ts';
import { LineEncoder } from '../encode/line-encoder.ts';
import type { BatchProducer } from '../kafka/batch-producer.ts';
import type { KafkaErrorKind } from '../kafka/describe-error.ts';
import { Delivery } from '../kafka/delivery.ts';
import type { Logger } from '../observe/logger.ts';
import type { Stats } from '../observe/stats.ts';
import { inputRouting } from '../pipeline.ts';
import type { LineSink } from '../tail/types.ts';

/**
 * The agent's own stages after the tailer — parser and encoder
 * (LineEncoder), Batcher, Delivery to Kafka — for one input, fed by
 * backfill instead of the tailer. Checkpoints go to backfill's own store,
 * and a batch counts as in flight until they are on disk, as in the agent.
 */
export class Shipper {
  readonly sink: LineSink;
  readonly batcher: Batcher;
  private readonly delivery: Delivery;
  private readonly producer: BatchProducer;
  private readonly log: Logger;
  private readonly config: Config;
  private roomWaiters: (() => void)[] = [];

  constructor(config: Config, input: InputConfig, stats: Stats, checkpoints: CheckpointStore, producer: BatchProducer, log: Logger) {
    this.config = config;
    this.producer = producer;
    this.log = log;
    const { parser, routing } = inputRouting(input, config.inputs.indexOf(input), config);
    this.delivery = new Delivery(
      producer,
      {
        maxInFlight: config.kafka.max_in_flight,
        maxRecords: config.batch.max_records,
        maxRequestBytes: config.batch.max_bytes,
        initialBackoffMs: config.kafka.retry_backoff_ms,
        maxBackoffMs: config.kafka.retry_backoff_max_ms,
        brokers: config.kafka.brokers,
        whenDurable: () => checkpoints.whenSaved(),
        onFree: () => this.batcher.sendable(),
      },
      stats,
      log,
      () => this.wakeRoom(),
    );
    this.batcher = new Batcher(
      { maxRecords: config.batch.max_records, maxBytes: config.batch.max_bytes, lingerMs: config.batch.linger_ms, arenas: config.kafka.max_in_flight + 1 },
      (batch) => this.delivery.submit(batch),
      () => this.delivery.idle,
    );
    this.sink = new LineEncoder(parser, routing, this.batcher, () => this.delivery.full, stats.input(input.name));
  }

  connect(): void {
    const { brokers } = this.config.kafka;
    this.producer.connect().then(
      () => this.log.info({ brokers }, 'connected to Kafka'),
      (err: unknown) => this.log.error({ err, brokers }, 'cannot connect to Kafka yet; will keep trying as records come'),
    );
  }

  /** Resolves when batches were acknowledged and there is room for more lines. */
  room(): Promise<void> {
    if (!this.delivery.full) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  private wakeRoom(): void {
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const wake of waiters) wake();
  }

  /** How Kafka fails now, undefined while it works. */
  get failing(): { kind: KafkaErrorKind; message: string } | undefined {
    return this.delivery.failingHow;
  }

  /** Sends what is batched and waits up to `timeoutMs` for every batch to be acknowledged; whether all were. */
  async finish(timeoutMs: number): Promise<boolean> {
    this.batcher.flush();
    const delivered = await this.delivery.drain(timeoutMs);
    await this.producer.close().catch((err: unknown) => this.log.warn({ err }, 'closing the Kafka producer failed'));
    return delivered;
  }
}

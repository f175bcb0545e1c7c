import type { Batch } from '../batch/types.ts';
import type { Logger } from '../observe/logger.ts';
import type { Stats } from '../observe/stats.ts';
import type { BatchProducer } from './batch-producer.ts';
import { describeKafkaError } from './describe-error.ts';

/** While sending keeps failing the same way, the error is logged again at most this often. */
const REPEAT_LOG_MS = 60_000;

function topicsOf(batches: readonly Batch[]): string[] {
  return [...new Set(batches.flatMap((b) => [...b.topics.keys()]))];
}

export interface DeliveryOptions {
  /** Batches handed over and not yet acked; when reached, the pipeline is full. */
  maxInFlight: number;
  /** Batches waiting together are merged into one request up to this many value bytes. */
  maxRequestBytes: number;
  /** First retry delay after a failed send; doubles up to maxBackoffMs, with jitter. */
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** For error messages. */
  brokers: string[];
}

/**
 * Sends closed batches to Kafka in order, one produce request at a time:
 * kafkajs does not keep concurrent requests in order, and a file's lines
 * must land in the order they were written. Batches that close while a
 * request is out wait, and go out together in the next request (up to
 * maxRequestBytes), so a slow round trip grows requests instead of queues.
 *
 * A failed request is retried with backoff and keeps its batches, so a
 * broker outage fills the queue and the pipeline reports full: the tailer
 * stops reading and the log files are the buffer. A batch is settled (its
 * lines may be checkpointed) only when Kafka acknowledged it.
 */
export class Delivery {
  private readonly producer: BatchProducer;
  private readonly options: DeliveryOptions;
  private readonly stats: Stats;
  private readonly log: Logger;
  private readonly onDrain: () => void;
  /** Batches not yet acked, oldest first; the head ones may be in the current request. */
  private readonly queue: Batch[] = [];
  private sending = false;
  private closing = false;
  private failingNow = false;
  private lastError = '';
  private lastErrorAt = 0;
  private readonly waiters: (() => void)[] = [];

  constructor(producer: BatchProducer, options: DeliveryOptions, stats: Stats, log: Logger, onDrain: () => void) {
    this.producer = producer;
    this.options = options;
    this.stats = stats;
    this.log = log;
    this.onDrain = onDrain;
  }

  /** Kafka refuses or cannot be reached right now (a request is failing and being retried). */
  get failing(): boolean {
    return this.failingNow;
  }

  /** True when no more lines should be read until batches are acked. */
  get full(): boolean {
    return this.queue.length >= this.options.maxInFlight;
  }

  submit(batch: Batch): void {
    if (batch.records === 0) {
      // Only skipped lines: nothing to send; the ack tracker orders this after earlier batches.
      this.settle(batch);
      return;
    }
    this.queue.push(batch);
    this.stats.inFlight = this.queue.length;
    this.pump();
  }

  private pump(): void {
    if (this.sending || this.queue.length === 0) return;
    let count = 1;
    let bytes = this.queue[0]!.bytes;
    while (count < this.queue.length && bytes + this.queue[count]!.bytes <= this.options.maxRequestBytes) {
      bytes += this.queue[count]!.bytes;
      count++;
    }
    this.sending = true;
    void this.sendUntilAcked(this.queue.slice(0, count));
  }

  private async sendUntilAcked(batches: Batch[]): Promise<void> {
    let backoff = this.options.initialBackoffMs;
    let records = 0;
    for (const batch of batches) records += batch.records;
    while (true) {
      try {
        const started = performance.now();
        await this.producer.send(batches);
        this.stats.onSendDuration?.((performance.now() - started) / 1000);
        break;
      } catch (err) {
        this.stats.inc('batch_send_errors');
        const { kind, message } = describeKafkaError(err, { brokers: this.options.brokers, topics: topicsOf(batches) });
        this.stats.error(kind);
        const now = Date.now();
        if (message !== this.lastError || now - this.lastErrorAt >= REPEAT_LOG_MS) {
          this.log.error({ err, kind, batches: batches.length, records, retry_in_ms: Math.min(backoff, this.options.maxBackoffMs) }, `${message}; retrying (reading pauses while batches wait)`);
          this.lastError = message;
          this.lastErrorAt = now;
        }
        this.failingNow = true;
        if (this.closing) {
          // Shutting down with Kafka unreachable: stop; the checkpoint stays behind these lines.
          this.sending = false;
          this.wake();
          return;
        }
        const delay = Math.min(backoff, this.options.maxBackoffMs);
        await new Promise((resolve) => setTimeout(resolve, delay / 2 + Math.random() * (delay / 2)));
        backoff *= 2;
      }
    }
    if (this.failingNow) this.log.info({ records }, 'sending to Kafka works again');
    this.failingNow = false;
    this.lastError = '';
    this.stats.inc('batches_sent', batches.length);
    this.stats.inc('records_sent', records);
    this.queue.splice(0, batches.length);
    this.stats.inFlight = this.queue.length;
    for (const batch of batches) this.settle(batch);
    this.sending = false;
    this.pump();
    if (!this.full && !this.closing) this.onDrain();
    this.wake();
  }

  private settle(batch: Batch): void {
    for (const mark of batch.marks) mark.tracker.ack(mark.ticket);
  }

  private wake(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }

  /**
   * Waits until every submitted batch is acked, or `timeoutMs` passes.
   * Returns whether all were acked; lines of unacked batches are not
   * checkpointed, so they are read again on the next start.
   */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length > 0) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    this.closing = true;
    return this.queue.length === 0;
  }
}

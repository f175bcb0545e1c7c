import type { Batch } from '../batch/types.ts';
import type { Logger } from '../observe/logger.ts';
import type { Stats } from '../observe/stats.ts';
import { SpoolClosedError, SpoolFullError, type Spool, type SpoolEntry } from '../spool/index.ts';
import type { BatchProducer } from './batch-producer.ts';
import { describeKafkaError } from './describe-error.ts';

/** While sending keeps failing the same way, the error is logged again at most this often. */
const REPEAT_LOG_MS = 60_000;

function topicsOf(batches: readonly Batch[]): string[] {
  return [...new Set(batches.flatMap((b) => [...b.topics.keys()]))];
}

/** Half the delay plus a random half: retries of many agents do not beat in step. */
function sleepWithJitter(delayMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, delayMs / 2 + Math.random() * (delayMs / 2)));
}

export interface DeliveryOptions {
  /** Batches handed over and not yet acked (or spooled); when reached, the pipeline is full. */
  maxInFlight: number;
  /** Batches waiting together are merged into one request up to this many value bytes. */
  maxRequestBytes: number;
  /** First retry delay after a failed send; doubles up to maxBackoffMs, with jitter. */
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** For error messages. */
  brokers: string[];
  /**
   * Resolves when the checkpoints of everything settled so far are on disk.
   * A settled batch keeps its in-flight slot until then, so a crash repeats
   * at most max_in_flight batches, however slow the disk.
   */
  whenDurable: () => Promise<void>;
}

/**
 * Sends closed batches to Kafka in order, one produce request at a time:
 * kafkajs does not keep concurrent requests in order, and a file's lines
 * must land in the order they were written. Batches that close while a
 * request is out wait, and go out together in the next request (up to
 * maxRequestBytes), so a slow round trip grows requests instead of queues.
 *
 * Without a spool, a failed request is retried with backoff and keeps its
 * batches: the queue fills, the tailer stops reading, the log files are
 * the buffer. With a spool, a failed request's batches (and those waiting)
 * are written to disk, and so is every new batch while the spool holds
 * older ones (order kept), until replay has drained it. Either way a batch
 * is settled (its lines may be checkpointed) only once Kafka acknowledged
 * it or the spool holds it durably.
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
  private spool: Spool | undefined;
  /** New batches go through the spool while it holds older ones (unless order need not be kept). */
  private keepOrder = true;
  private spoolMode = false;
  /** Batches being written to the spool, in order; settled once durable. */
  private readonly spooling: Batch[] = [];
  private appending: Promise<void> = Promise.resolve();
  private replaying = false;
  private lastSpoolError = '';
  /** Settled batches whose checkpoints are not on disk yet: they still count as in flight. */
  private undurable = 0;

  constructor(producer: BatchProducer, options: DeliveryOptions, stats: Stats, log: Logger, onDrain: () => void) {
    this.producer = producer;
    this.options = options;
    this.stats = stats;
    this.log = log;
    this.onDrain = onDrain;
  }

  /** Hands failed batches to `spool` from now on; replays what it holds from an earlier run. */
  attachSpool(spool: Spool, keepOrder: boolean): void {
    this.spool = spool;
    this.keepOrder = keepOrder;
    if (!spool.isEmpty) {
      this.log.info({ entries: spool.stats().entries }, 'spool holds batches from before; replaying them first');
      this.spoolMode = true;
      this.replay();
    }
  }

  /** Kafka refuses or cannot be reached right now (a request is failing and being retried). */
  get failing(): boolean {
    return this.failingNow;
  }

  /** The spool takes batches now (so the pipeline can go on while Kafka fails). */
  get spoolAccepting(): boolean {
    return this.spool !== undefined && this.spooling.length < this.options.maxInFlight && this.lastSpoolError === '';
  }

  /** True when no more lines should be read until batches are acked or spooled. */
  get full(): boolean {
    return this.queue.length + this.undurable >= this.options.maxInFlight || this.spooling.length + this.undurable >= this.options.maxInFlight;
  }

  submit(batch: Batch): void {
    if (batch.records === 0) {
      // Only skipped lines: nothing to send; the ack tracker orders this after earlier batches.
      this.settle(batch);
      return;
    }
    if (this.spoolMode && this.keepOrder) {
      this.toSpool([batch]);
      return;
    }
    this.queue.push(batch);
    this.stats.inFlight = this.queue.length + this.spooling.length;
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
        await this.sendRequest(batches);
        break;
      } catch (err) {
        this.reportFailure(err, batches, records, backoff);
        if (this.spool) {
          // The spool takes them (and everything waiting behind them, in order); replay sends them later.
          const moved = this.queue.splice(0);
          this.sending = false;
          this.spoolMode = true;
          this.toSpool(moved);
          this.replay();
          return;
        }
        if (this.closing) {
          // Shutting down with Kafka unreachable: stop; the checkpoint stays behind these lines.
          this.sending = false;
          this.wake();
          return;
        }
        await sleepWithJitter(Math.min(backoff, this.options.maxBackoffMs));
        backoff *= 2;
      }
    }
    this.queue.splice(0, batches.length);
    this.stats.inFlight = this.queue.length + this.spooling.length;
    for (const batch of batches) this.settle(batch);
    this.sending = false;
    this.pump();
    if (!this.full && !this.closing) this.onDrain();
    this.wake();
  }

  /** One produce request; bookkeeping of success (timing, counters, recovery) here. */
  private async sendRequest(batches: readonly Batch[]): Promise<void> {
    const started = performance.now();
    await this.producer.send(batches);
    this.stats.onSendDuration?.((performance.now() - started) / 1000);
    let records = 0;
    for (const batch of batches) records += batch.records;
    if (this.failingNow) this.log.info({ records }, 'sending to Kafka works again');
    this.failingNow = false;
    this.lastError = '';
    this.stats.inc('batches_sent', batches.length);
    this.stats.inc('records_sent', records);
  }

  private reportFailure(err: unknown, batches: readonly Batch[], records: number, backoff: number): void {
    this.stats.inc('batch_send_errors');
    const { kind, message } = describeKafkaError(err, { brokers: this.options.brokers, topics: topicsOf(batches) });
    this.stats.error(kind);
    const now = Date.now();
    if (message !== this.lastError || now - this.lastErrorAt >= REPEAT_LOG_MS) {
      const then = this.spool ? 'spooling to disk until it works again' : 'retrying (reading pauses while batches wait)';
      this.log.error({ err, kind, batches: batches.length, records, retry_in_ms: Math.min(backoff, this.options.maxBackoffMs) }, `${message}; ${then}`);
      this.lastError = message;
      this.lastErrorAt = now;
    }
    this.failingNow = true;
  }

  /** Appends batches to the spool in order, one at a time; each is settled once durable. A full spool blocks (reading pauses). */
  private toSpool(batches: Batch[]): void {
    const spool = this.spool!;
    this.spooling.push(...batches);
    this.stats.inFlight = this.queue.length + this.spooling.length;
    this.appending = this.appending.then(async () => {
      for (const batch of batches) {
        let backoff = this.options.initialBackoffMs;
        while (true) {
          try {
            await spool.append(batch.topics, batch.records);
            break;
          } catch (err) {
            if (err instanceof SpoolClosedError) return; // stopping: these lines are not checkpointed, read again next start
            const text = err instanceof SpoolFullError ? `spool full (${err.reason}): reading pauses until replay frees room` : `writing to the spool failed: ${(err as Error).message}`;
            this.stats.error(err instanceof SpoolFullError ? 'spool_full' : 'spool_io');
            if (text !== this.lastSpoolError) this.log.error({ err }, text);
            this.lastSpoolError = text;
            await Promise.race([spool.whenRoom(), sleepWithJitter(Math.min(backoff, this.options.maxBackoffMs))]);
            backoff *= 2;
          }
        }
        if (this.lastSpoolError) this.log.info('the spool takes batches again');
        this.lastSpoolError = '';
        this.spooling.shift();
        this.stats.inc('batches_spooled');
        this.stats.inc('records_spooled', batch.records);
        this.settle(batch);
      }
      this.stats.inFlight = this.queue.length + this.spooling.length;
      if (!this.full && !this.closing) this.onDrain();
      this.wake();
    });
  }

  /** Sends what the spool holds, oldest first, one entry a request, until it is empty; then new batches go straight to Kafka again. */
  private replay(): void {
    if (this.replaying || !this.spool) return;
    this.replaying = true;
    const spool = this.spool;
    void (async () => {
      try {
        while (!this.closing) {
          const entry = await spool.next();
          if (!entry) {
            await this.appending; // batches on their way into the spool come next
            if (spool.isEmpty && this.spooling.length === 0) break;
            if (spool.unread === 0) await sleepWithJitter(40);
            continue;
          }
          if (!(await this.sendEntry(entry))) break;
          await spool.ack(entry);
          this.stats.inc('batches_replayed');
        }
        if (!this.closing && spool.isEmpty) {
          this.spoolMode = false;
          this.log.info('spool drained; sending straight to Kafka again');
          this.onDrain();
        }
      } catch (err) {
        if (!(err instanceof SpoolClosedError)) this.log.error({ err }, 'replaying the spool failed; it is retried at the next start');
      } finally {
        this.replaying = false;
        this.wake();
      }
    })();
  }

  /** Sends one spooled entry until Kafka takes it; false when stopping first. */
  private async sendEntry(entry: SpoolEntry): Promise<boolean> {
    const batch: Batch = { seq: -entry.seq, topics: entry.topics, records: entry.records, bytes: entry.bytes, marks: [] };
    let backoff = this.options.initialBackoffMs;
    while (!this.closing) {
      try {
        await this.sendRequest([batch]);
        return true;
      } catch (err) {
        this.reportFailure(err, [batch], batch.records, backoff);
        await sleepWithJitter(Math.min(backoff, this.options.maxBackoffMs));
        backoff *= 2;
      }
    }
    return false;
  }

  private settle(batch: Batch): void {
    if (batch.marks.length === 0) return;
    for (const mark of batch.marks) mark.tracker.ack(mark.ticket);
    this.undurable++;
    void this.options.whenDurable().then(() => {
      this.undurable--;
      if (!this.full && !this.closing) this.onDrain();
    });
  }

  private wake(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** Spool figures for the metrics, when there is a spool. */
  spoolStats(): { entries: number; bytes: number; oldestAgeMs: number | undefined } | undefined {
    return this.spool?.stats();
  }

  /**
   * Waits until every submitted batch is acked or spooled, or `timeoutMs`
   * passes. Returns whether all were; lines of the others are not
   * checkpointed, so they are read again on the next start.
   */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length > 0 || this.spooling.length > 0) {
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
    return this.queue.length === 0 && this.spooling.length === 0;
  }
}

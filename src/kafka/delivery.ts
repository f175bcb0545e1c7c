import { messagesByTopic, recordsByTopic } from '../batch/encoded-records.ts';
import type { Batch } from '../batch/types.ts';
import type { Logger } from '../observe/logger.ts';
import type { Stats } from '../observe/stats.ts';
import { EpisodeLog } from '../observe/episode-log.ts';
import { SpoolClosedError, SpoolFullError, type Spool, type SpoolEntry, type SpoolStats } from '../spool/index.ts';
import type { BatchProducer } from './batch-producer.ts';
import { describeKafkaError, type KafkaErrorKind } from './describe-error.ts';
import { Backoff, pause } from './retry-policy.ts';
import { routeFor, waitBefore, type Route } from './route.ts';

/** While sending keeps failing the same way, the error is logged again at most this often. */
const REPEAT_LOG_MS = 60_000;

function topicsOf(batches: readonly Batch[]): string[] {
  return [...new Set(batches.flatMap((b) => [...b.topics.keys()]))];
}

function recordsOf(batches: readonly Batch[]): number {
  let records = 0;
  for (const batch of batches) records += batch.records;
  return records;
}

export interface DeliveryOptions {
  /** Batches handed over and not yet acked (or spooled); when reached, the pipeline is full. */
  maxInFlight: number;
  /** A batch's most records (batch.max_records): the unit in which acked lines awaiting their checkpoint count as in flight. */
  maxRecords: number;
  /** Batches waiting together are merged into one request up to this many value bytes. */
  maxRequestBytes: number;
  /** First retry delay after a failed send; doubles up to maxBackoffMs, with jitter. */
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** For error messages. */
  brokers: string[];
  /** How log lines name the output (OUTPUT_NAMES); Kafka when absent. */
  outputName?: string;
  /**
   * Resolves when the checkpoints of everything settled so far are on disk.
   * Until then a settled batch's records still count as in flight, in
   * slots of maxRecords, so a crash repeats at most max_in_flight x
   * max_records lines, however slow the disk.
   */
  whenDurable: () => Promise<void>;
  /**
   * Called when the head lane has sent (or spooled) every batch submitted
   * and one more would not fill the pipeline (see idle): the batcher's
   * open batch may go now instead of at linger_ms.
   */
  onFree?: () => void;
}

/**
 * Delivers closed batches in order, through two lanes:
 *
 * - The head lane takes the oldest batches waiting and hands them to Kafka
 *   (one produce request at a time: kafkajs does not keep concurrent
 *   requests in order, and a file's lines must land in the order they
 *   were written; batches that close meanwhile go out together in the next
 *   request, up to maxRequestBytes) or to the spool, as route.ts decides
 *   before every try: to the spool while it holds older entries or while
 *   Kafka fails, to Kafka otherwise, and to Kafka also when the spool
 *   refuses them (disk full) while it holds nothing older.
 * - The replay lane, while the spool holds entries, sends them to Kafka
 *   oldest first and acks them, which frees the spool's disk space.
 *
 * When it becomes idle it calls onFree, so the batcher's open batch goes at
 * once rather than at linger_ms.
 *
 * Both retry with the one policy of retry-policy.ts; a wait for spool
 * room ends early when the spool has room again. Without a spool a failed
 * request is retried and keeps its batches: the queue fills, the tailer
 * stops reading, the log files are the buffer. A batch is settled (its
 * lines may be checkpointed) only once Kafka acknowledged it or the spool
 * holds it durably.
 */
export class Delivery {
  private readonly producer: BatchProducer;
  private readonly options: DeliveryOptions;
  private readonly stats: Stats;
  private readonly log: Logger;
  private readonly onDrain: () => void;
  /** Batches not yet settled, oldest first; the head lane works on the first ones. */
  private readonly queue: Batch[] = [];
  private headRunning = false;
  /** Where the head lane's try under way goes (undefined between tries). */
  private headOn: Route | undefined;
  private replaying = false;
  private closing = false;
  private readonly stopping = new AbortController();
  private kafkaFailing = false;
  /** Kafka took a request, or the first contact succeeded, at least once. */
  private worked = false;
  /** Why the last request (or the first contact) failed, while failing. */
  private failure: { kind: KafkaErrorKind; message: string } | undefined;
  private lastError = '';
  private lastErrorAt = 0;
  private readonly waiters: (() => void)[] = [];
  private spool: Spool | undefined;
  /** New batches go through the spool while it holds older ones (unless order need not be kept). */
  private keepOrder = true;
  /** Why the spool refused the last batches offered, '' when it took them. */
  private spoolError = '';
  private readonly spoolLog = new EpisodeLog();
  /** The spool refused batches while holding none, and Kafka was tried instead (logged once per episode). */
  private bypassing = false;
  /** Records of settled batches whose checkpoints are not on disk yet: they still count as in flight. */
  private undurable = 0;

  private get outputName(): string {
    return this.options.outputName ?? 'Kafka';
  }

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
      this.replay();
    }
  }

  /** Kafka refuses or cannot be reached right now (the last request failed and is being retried). */
  get failing(): boolean {
    return this.kafkaFailing;
  }

  /** How Kafka fails right now (the last request, or the first contact), undefined while it works. */
  get failingHow(): { kind: KafkaErrorKind; message: string } | undefined {
    return this.kafkaFailing ? this.failure : undefined;
  }

  /** Kafka works: the last request (or the first contact) succeeded. False until one did. */
  get up(): boolean {
    return this.worked && !this.kafkaFailing;
  }

  /** The outcome of the producer's first contact (connect): counts as a request's for failing/failingHow. */
  contacted(failure: { kind: KafkaErrorKind; message: string } | undefined): void {
    this.kafkaFailing = failure !== undefined;
    this.failure = failure;
    if (failure === undefined) this.worked = true;
  }

  /** The spool takes batches now (so the pipeline can go on while Kafka fails). */
  get spoolAccepting(): boolean {
    return this.spool !== undefined && this.spoolError === '' && this.queue.length < this.options.maxInFlight;
  }

  /**
   * In-flight slots taken by acked records whose checkpoints are not on
   * disk yet. Counted in records (maxRecords a slot), not in batches: at a
   * steady rate batches are small, and a checkpoint save (fsync) stalled
   * for a few hundred ms must not fill every slot with a few lines each
   * and hold up the next request. The repeat bound after a crash is the
   * same, max_in_flight x max_records lines.
   */
  private get undurableSlots(): number {
    return this.undurable / this.options.maxRecords;
  }

  /**
   * A batch submitted now would go at once, and leave room for another:
   * nothing waits to be sent, and the records acked whose checkpoints are
   * not on disk yet leave a slot free after it. So a slow checkpoint save
   * costs no latency unless a few full batches are acked during it, and
   * small batches never fill the pipeline and pause reading: past that,
   * the open batch fills until a save completes.
   */
  get idle(): boolean {
    return this.queue.length === 0 && (this.undurable === 0 || this.undurableSlots + 2 <= this.options.maxInFlight);
  }

  /** True when no more lines should be read until batches are acked or spooled. */
  get full(): boolean {
    return this.queue.length + this.undurableSlots >= this.options.maxInFlight;
  }

  submit(batch: Batch): void {
    if (batch.records === 0) {
      // Only skipped lines: nothing to send; the ack tracker orders this after earlier batches.
      this.settle(batch);
      return;
    }
    this.queue.push(batch);
    this.countInFlight();
    this.runHead();
  }

  /** The one place that computes the in-flight gauge: every batch submitted and not settled yet. */
  private countInFlight(): void {
    this.stats.inFlight = this.queue.length;
  }

  private runHead(): void {
    if (this.headRunning || this.queue.length === 0 || this.closing) return;
    this.headRunning = true;
    void this.headLane().catch(this.laneFailed).then((stopped) => {
      this.headOn = undefined;
      this.headRunning = false;
      this.wake();
      // Batches submitted while the lane was ending.
      if (!stopped) this.runHead();
    });
  }

  /** Delivers the oldest batches until none wait; true when it stopped because the spool was closed. */
  private async headLane(): Promise<boolean> {
    const backoff = new Backoff({ initialMs: this.options.initialBackoffMs, maxMs: this.options.maxBackoffMs });
    let refused = false;
    while (this.queue.length > 0 && !this.closing) {
      const route = this.route(refused);
      this.headOn = route;
      try {
        if (route === 'kafka') await this.sendHead();
        else await this.spoolHead(this.spool!);
        this.headOn = undefined;
        refused = false;
        backoff.reset();
        continue;
      } catch (err) {
        if (err instanceof SpoolClosedError) return true; // stopping: these lines are not checkpointed, read again next start
        this.headOn = undefined;
        refused = route === 'spool';
        const next = this.route(refused);
        if (refused && next === 'kafka' && !this.bypassing && this.spool?.isEmpty) {
          this.bypassing = true;
          this.log.warn({ reason: this.spoolError }, `the spool cannot take batches and holds none: trying ${this.outputName} with them directly`);
        }
        if (!waitBefore(route, next)) continue;
        const delay = backoff.next();
        // A wait for spool room ends as soon as there is room (acks, drops, or the filesystem freed by anyone).
        await pause(delay, { wake: refused ? this.spool!.whenRoom() : undefined, signal: this.stopping.signal });
      }
    }
    return false;
  }

  /** Not expected (each lane handles its errors): logged, and the lane stops rather than spin or crash the agent. */
  private readonly laneFailed = (err: unknown): boolean => {
    this.log.error({ err }, 'delivery failed unexpectedly; batches left wait for a restart');
    return true;
  };

  private route(spoolRefused: boolean): Route {
    const spool = this.spool;
    return routeFor({ spool: spool !== undefined, spoolHolds: spool !== undefined && !spool.isEmpty, keepOrder: this.keepOrder, kafkaFailing: this.kafkaFailing, spoolRefused });
  }

  /** One produce request for the oldest batches (merged up to maxRequestBytes); throws when Kafka did not take them. */
  private async sendHead(): Promise<void> {
    let count = 1;
    let bytes = this.queue[0]!.bytes;
    while (count < this.queue.length && bytes + this.queue[count]!.bytes <= this.options.maxRequestBytes) {
      bytes += this.queue[count]!.bytes;
      count++;
    }
    await this.sendRequest(this.queue.slice(0, count));
    this.bypassing = false;
    this.settleHead(count);
  }

  /**
   * Appends the batches waiting to the spool, all at once so that they
   * share fdatasyncs (group commit). The spool keeps what it took a prefix
   * of them, in order; that prefix is settled, and the first refusal is
   * thrown for the rest.
   */
  private async spoolHead(spool: Spool): Promise<void> {
    const batches = this.queue.slice(0, this.options.maxInFlight);
    const results = await Promise.allSettled(batches.map((batch) => spool.append(messagesByTopic(batch.topics), batch.records)));
    let taken = 0;
    while (taken < results.length && results[taken]!.status === 'fulfilled') taken++;
    if (taken > 0) {
      this.spoolTakesAgain();
      this.bypassing = false;
      let records = 0;
      for (let i = 0; i < taken; i++) records += batches[i]!.records;
      this.stats.inc('batches_spooled', taken);
      this.stats.inc('records_spooled', records);
      this.settleHead(taken);
      this.replay();
    }
    if (taken < results.length) {
      const err = (results[taken] as PromiseRejectedResult).reason as unknown;
      if (!(err instanceof SpoolClosedError)) this.reportSpoolFailure(err);
      throw err;
    }
  }

  /** The first `count` batches of the queue were acked or spooled. */
  private settleHead(count: number): void {
    const done = this.queue.splice(0, count);
    this.countInFlight();
    for (const batch of done) this.settle(batch);
    if (!this.full && !this.closing) this.onDrain();
    this.wake();
    this.freed();
  }

  /** Tells the batcher when it may send its open batch (see idle). */
  private freed(): void {
    // A batch submitted now joins the head lane's loop, or starts it again if it is ending (runHead's then).
    if (this.idle && !this.closing) this.options.onFree?.();
  }

  /** One produce request; bookkeeping of success (timing, counters, recovery) or failure here. */
  private async sendRequest(batches: readonly Batch[]): Promise<void> {
    const started = performance.now();
    try {
      await this.producer.send(batches);
    } catch (err) {
      this.reportFailure(err, batches);
      throw err;
    }
    this.stats.onSendDuration?.((performance.now() - started) / 1000);
    const records = recordsOf(batches);
    if (this.kafkaFailing) this.log.info({ records }, `sending to ${this.outputName} works again`);
    this.kafkaFailing = false;
    this.failure = undefined;
    this.worked = true;
    this.lastError = '';
    this.stats.inc('batches_sent', batches.length);
    // Per input, by the files' marks: spooled batches replayed have none (counted in records_replayed).
    for (const batch of batches) {
      for (const mark of batch.marks) if (mark.input !== undefined) mark.input.records_sent += mark.sent;
    }
  }

  private reportFailure(err: unknown, batches: readonly Batch[]): void {
    this.stats.inc('batch_send_errors');
    const topics = topicsOf(batches);
    const { kind, message } = this.producer.describeError?.(err, topics) ?? describeKafkaError(err, { brokers: this.options.brokers, topics });
    this.stats.error(kind);
    const now = Date.now();
    if (message !== this.lastError || now - this.lastErrorAt >= REPEAT_LOG_MS) {
      const then = this.spool ? 'spooling to disk until it works again' : 'retrying (reading pauses while batches wait)';
      this.log.error({ err, kind, batches: batches.length, records: recordsOf(batches) }, `${message}; ${then}`);
      this.lastError = message;
      this.lastErrorAt = now;
    }
    this.kafkaFailing = true;
    this.failure = { kind, message };
  }

  private reportSpoolFailure(err: unknown): void {
    let text: string;
    if (err instanceof SpoolFullError) {
      const until = err.reason === 'disk_full' ? 'replay or the filesystem frees room' : 'replay frees room';
      text = `spool full (${err.reason}): reading pauses until ${until}`;
    } else {
      text = `writing to the spool failed: ${(err as Error).message}`;
    }
    this.stats.error(err instanceof SpoolFullError ? 'spool_full' : 'spool_io');
    if (this.spoolLog.failing(text)) this.log.error({ err }, text);
    this.spoolError = text;
  }

  /** The spool took batches after refusing some. */
  private spoolTakesAgain(): void {
    const refusals = this.spoolLog.recovered();
    if (refusals !== undefined) this.log.info({ was: this.spoolError, refusals }, 'the spool takes batches again');
    this.spoolError = '';
  }

  /** Starts the replay lane, unless it runs: sends what the spool holds, oldest first, until it is empty. */
  private replay(): void {
    if (this.replaying || !this.spool || this.closing) return;
    this.replaying = true;
    const spool = this.spool;
    void this.replayLane(spool).catch(this.laneFailed).then((stopped) => {
      this.replaying = false;
      this.wake();
      // Entries appended while the lane was ending.
      if (!stopped && spool.unread > 0) this.replay();
    });
  }

  /** Replays until the spool is empty; true when it stopped because the spool was closed. */
  private async replayLane(spool: Spool): Promise<boolean> {
    const backoff = new Backoff({ initialMs: this.options.initialBackoffMs, maxMs: this.options.maxBackoffMs });
    let readError = '';
    while (!this.closing) {
      let entry: SpoolEntry | undefined;
      try {
        entry = await spool.next();
      } catch (err) {
        if (err instanceof SpoolClosedError) return true;
        // Not fatal: a read error may pass (and a corrupt entry is skipped, not thrown); try again.
        const text = (err as Error).message;
        if (text !== readError) this.log.error({ err }, 'reading the spool back failed; retrying');
        readError = text;
        this.stats.error('spool_io');
        await pause(backoff.next(), { signal: this.stopping.signal });
        continue;
      }
      readError = '';
      if (!entry) break;
      if (!(await this.sendEntry(entry, backoff))) return false;
      try {
        await spool.ack(entry);
      } catch (err) {
        if (err instanceof SpoolClosedError) return true;
        // The entry is delivered and acked in memory (its segment is freed); only the cursor on disk lags: a restart may send it again.
        this.log.error({ err, seq: entry.seq }, 'spool: cannot record a replayed entry in the cursor; a restart may send it again');
      }
      this.stats.inc('batches_replayed');
    }
    // Drained, unless the head lane is appending more right now (it starts this lane again).
    if (!this.closing && spool.isEmpty && this.headOn !== 'spool') {
      if (!this.kafkaFailing) this.log.info(`spool drained; sending straight to ${this.outputName} again`);
      this.onDrain();
      this.runHead();
    }
    return false;
  }

  /** Sends one spooled entry until Kafka takes it; false when stopping first. */
  private async sendEntry(entry: SpoolEntry, backoff: Backoff): Promise<boolean> {
    const batch: Batch = { seq: -entry.seq, topics: recordsByTopic(entry.topics), records: entry.records, bytes: entry.bytes, marks: [] };
    while (!this.closing) {
      try {
        await this.sendRequest([batch]);
        this.stats.inc('records_replayed', batch.records);
        backoff.reset();
        return true;
      } catch {
        await pause(backoff.next(), { signal: this.stopping.signal });
      }
    }
    return false;
  }

  private settle(batch: Batch): void {
    for (const records of batch.topics.values()) records.release();
    if (batch.marks.length === 0) return;
    for (const mark of batch.marks) mark.tracker.ack(mark.ticket);
    const records = batch.records;
    this.undurable += records;
    void this.options.whenDurable().then(() => {
      this.undurable -= records;
      if (!this.full && !this.closing) this.onDrain();
      this.freed();
    });
  }

  private wake(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** Spool figures for the metrics, when there is a spool. */
  spoolStats(): SpoolStats | undefined {
    return this.spool?.stats();
  }

  /**
   * Waits until every submitted batch is acked or spooled, or `timeoutMs`
   * passes. Returns whether all were; lines of the others are not
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
    this.stopping.abort();
    return this.queue.length === 0;
  }
}

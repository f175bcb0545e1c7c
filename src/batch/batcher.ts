import type { OffsetTracker } from '../checkpoint/offset-tracker.ts';
import type { InputCounters } from '../observe/stats.ts';
import { ArenaPool, EncodedRecords } from './encoded-records.ts';
import type { AckMark, Batch, OutMessage } from './types.ts';

export interface BatchLimits {
  maxRecords: number;
  maxBytes: number;
  /** The longest a batch stays open (its first record waits at most this long). */
  lingerMs: number;
  /** Batch buffers kept for reuse once delivered (ArenaPool); the batches in flight plus the open one. Default 2. */
  arenas?: number;
}

// Room past max_bytes in a batch's buffer: the bytes counted are UTF-16 lengths, exact for ASCII.
const ARENA_SLACK = 64 * 1024;

/**
 * Groups messages into batches by count, bytes and age. One batch may hold
 * several topics (one produce request carries them all), so that a file's
 * lines are always closed into batches in line order: the ack tracker
 * relies on it.
 *
 * When a batch closes adapts to the producer (as Nagle, or librdkafka's
 * batching): given `idle` (whether a batch closed now would be sent at
 * once), a batch opened while nothing is in flight closes at the end of the
 * current turn of the event loop (setImmediate: after the lines of the
 * chunk being read), so it goes without waiting; while a request is in
 * flight it fills, and closes when the producer calls sendable() or when
 * full. linger_ms stays the upper bound. Without `idle`, batches close
 * only when full or at linger_ms.
 */
export class Batcher {
  private limits: BatchLimits;
  private readonly emit: (batch: Batch) => void;
  private seq = 0;
  private current: Batch | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly idle: (() => boolean) | undefined;
  /** The end-of-turn check of the open batch, when one is pending. */
  private turnEnd: NodeJS.Immediate | undefined;
  // Last topic and file touched: most lines repeat both, so no lookup per line.
  private lastTopic = '';
  private lastRecords: EncodedRecords | undefined;
  private lastMark: AckMark | undefined;

  private readonly arenas: ArenaPool;

  constructor(limits: BatchLimits, emit: (batch: Batch) => void, idle?: () => boolean) {
    this.limits = limits;
    this.arenas = new ArenaPool(limits.maxBytes + ARENA_SLACK, limits.arenas ?? 2);
    this.emit = emit;
    this.idle = idle;
  }

  private open(): Batch {
    const batch: Batch = { seq: ++this.seq, topics: new Map(), records: 0, bytes: 0, marks: [] };
    this.current = batch;
    this.lastTopic = '';
    this.lastRecords = undefined;
    this.lastMark = undefined;
    this.timer = setTimeout(() => this.flush(), this.limits.lingerMs);
    // One check per batch, not per line: cheap at full speed, where batches mostly close full.
    if (this.idle) this.turnEnd = setImmediate(this.endOfTurn);
    return batch;
  }

  private readonly endOfTurn = (): void => {
    this.turnEnd = undefined;
    if (this.idle!()) this.flush();
  };

  /** Nothing is in flight any more: the open batch, if any, goes now rather than at linger_ms. */
  sendable(): void {
    if (this.idle) this.flush();
  }

  /** Adds a message for the line of `tracker`'s file that ends at `offset`. */
  add(topic: string, message: OutMessage, bytes: number, tracker: OffsetTracker, offset: number): void {
    this.recordsFor(topic, bytes).addMessage(message);
    this.added(bytes, tracker, offset);
  }

  /**
   * The hot path, in two steps: the records of `topic` in the batch that
   * takes the next record of `bytes` (closing the current batch first if it
   * would not fit), for the caller to write that one record into; then
   * added() with the line's file and end offset.
   */
  recordsFor(topic: string, bytes: number): EncodedRecords {
    let batch = this.current ?? this.open();
    if (batch.records > 0 && batch.bytes + bytes > this.limits.maxBytes) {
      this.flush();
      batch = this.open();
    }
    if (topic !== this.lastTopic || this.lastRecords === undefined) {
      let records = batch.topics.get(topic);
      // The batch's first topic takes a full-size buffer; others (dead letters, templates) start small.
      if (!records) batch.topics.set(topic, (records = new EncodedRecords(batch.topics.size === 0 ? this.arenas : undefined)));
      this.lastTopic = topic;
      this.lastRecords = records;
    }
    return this.lastRecords;
  }

  /**
   * The record written into recordsFor()'s records is counted, and carries
   * the line's offset; unless it is a dead letter, it counts in `input`'s
   * records_sent once acked.
   */
  added(bytes: number, tracker: OffsetTracker, offset: number, input?: InputCounters, deadLetter = false): void {
    const batch = this.current!;
    batch.records++;
    batch.bytes += bytes;
    const mark = this.advance(batch, tracker, offset, input);
    if (!deadLetter) mark.sent++;
    if (batch.records >= this.limits.maxRecords || batch.bytes >= this.limits.maxBytes) this.flush();
  }

  /** A line consumed without a message (dropped): its offset still rides with the batch. */
  skip(tracker: OffsetTracker, offset: number, input?: InputCounters): void {
    this.advance(this.current ?? this.open(), tracker, offset, input);
  }

  private advance(batch: Batch, tracker: OffsetTracker, offset: number, input: InputCounters | undefined): AckMark {
    let mark = this.lastMark;
    if (mark === undefined || mark.tracker !== tracker) {
      mark = batch.marks.find((m) => m.tracker === tracker);
      if (!mark) batch.marks.push((mark = { tracker, offset, ticket: -1, input, sent: 0 }));
      this.lastMark = mark;
    }
    mark.offset = offset;
    return mark;
  }

  /** Closes the current batch (if any) and hands it on. */
  flush(): void {
    const batch = this.current;
    if (!batch) return;
    clearTimeout(this.timer);
    if (this.turnEnd) clearImmediate(this.turnEnd);
    this.turnEnd = undefined;
    this.current = undefined;
    for (const mark of batch.marks) mark.ticket = mark.tracker.issue(mark.offset);
    this.emit(batch);
  }

  /** A new linger_ms (a reload): the batches opened from now on close by it. */
  setLinger(lingerMs: number): void {
    this.limits = { ...this.limits, lingerMs };
  }

  /** Lets the buffers kept for the next batches go (the agent is idle). */
  releaseBuffers(): void {
    this.arenas.drain();
  }

  get hasOpenBatch(): boolean {
    return this.current !== undefined;
  }
}

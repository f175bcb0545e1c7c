import type { OffsetTracker } from '../checkpoint/offset-tracker.ts';
import type { AckMark, Batch, OutMessage } from './types.ts';

export interface BatchLimits {
  maxRecords: number;
  maxBytes: number;
  lingerMs: number;
}

/**
 * Groups messages into batches by count, bytes and age. One batch may hold
 * several topics (one produce request carries them all), so that a file's
 * lines are always closed into batches in line order: the ack tracker
 * relies on it.
 */
export class Batcher {
  private readonly limits: BatchLimits;
  private readonly emit: (batch: Batch) => void;
  private seq = 0;
  private current: Batch | undefined;
  private timer: NodeJS.Timeout | undefined;
  // Last topic and file touched: most lines repeat both, so no lookup per line.
  private lastTopic = '';
  private lastList: OutMessage[] | undefined;
  private lastMark: AckMark | undefined;

  constructor(limits: BatchLimits, emit: (batch: Batch) => void) {
    this.limits = limits;
    this.emit = emit;
  }

  private open(): Batch {
    const batch: Batch = { seq: ++this.seq, topics: new Map(), records: 0, bytes: 0, marks: [] };
    this.current = batch;
    this.lastTopic = '';
    this.lastList = undefined;
    this.lastMark = undefined;
    this.timer = setTimeout(() => this.flush(), this.limits.lingerMs);
    return batch;
  }

  /** Adds a message for the line of `tracker`'s file that ends at `offset`. */
  add(topic: string, message: OutMessage, bytes: number, tracker: OffsetTracker, offset: number): void {
    let batch = this.current ?? this.open();
    if (batch.records > 0 && batch.bytes + bytes > this.limits.maxBytes) {
      this.flush();
      batch = this.open();
    }
    if (topic !== this.lastTopic || this.lastList === undefined) {
      let list = batch.topics.get(topic);
      if (!list) batch.topics.set(topic, (list = []));
      this.lastTopic = topic;
      this.lastList = list;
    }
    this.lastList.push(message);
    batch.records++;
    batch.bytes += bytes;
    this.advance(batch, tracker, offset);
    if (batch.records >= this.limits.maxRecords || batch.bytes >= this.limits.maxBytes) this.flush();
  }

  /** A line consumed without a message (dropped): its offset still rides with the batch. */
  skip(tracker: OffsetTracker, offset: number): void {
    this.advance(this.current ?? this.open(), tracker, offset);
  }

  private advance(batch: Batch, tracker: OffsetTracker, offset: number): void {
    let mark = this.lastMark;
    if (mark === undefined || mark.tracker !== tracker) {
      mark = batch.marks.find((m) => m.tracker === tracker);
      if (!mark) batch.marks.push((mark = { tracker, offset, ticket: -1 }));
      this.lastMark = mark;
    }
    mark.offset = offset;
  }

  /** Closes the current batch (if any) and hands it on. */
  flush(): void {
    const batch = this.current;
    if (!batch) return;
    clearTimeout(this.timer);
    this.current = undefined;
    for (const mark of batch.marks) mark.ticket = mark.tracker.issue(mark.offset);
    this.emit(batch);
  }

  get hasOpenBatch(): boolean {
    return this.current !== undefined;
  }
}

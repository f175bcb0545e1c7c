import type { OffsetTracker } from '../checkpoint/offset-tracker.ts';
import type { InputCounters } from '../observe/stats.ts';
import type { EncodedRecords } from './encoded-records.ts';

/** One Kafka message, as the spool keeps it and tests write it (a batch holds them encoded: EncodedRecords). */
export interface OutMessage {
  key: string | null;
  value: string;
  headers: Record<string, string>;
}

/** A file's progress carried by a batch: once the batch is acked, lines up to `ticket`'s offset are delivered. */
export interface AckMark {
  tracker: OffsetTracker;
  offset: number;
  ticket: number;
  /** The file's input's counters: `sent` is added to its records_sent once Kafka acks the batch. */
  input: InputCounters | undefined;
  /** The file's records in the batch bound for their own topic (dead letters not counted). */
  sent: number;
}

export interface Batch {
  /** Increasing per agent run; names the batch in logs. */
  seq: number;
  /** Records by topic, in line order within a topic. */
  topics: Map<string, EncodedRecords>;
  records: number;
  bytes: number;
  marks: AckMark[];
}

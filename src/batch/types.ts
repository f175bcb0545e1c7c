import type { OffsetTracker } from '../checkpoint/offset-tracker.ts';
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

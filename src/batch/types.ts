import type { OffsetTracker } from '../checkpoint/offset-tracker.ts';

/** One Kafka message as the producer sends it. */
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
  /** Messages by topic, in line order within a topic. */
  topics: Map<string, OutMessage[]>;
  records: number;
  bytes: number;
  marks: AckMark[];
}

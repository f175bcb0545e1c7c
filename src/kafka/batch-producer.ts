import type { Batch } from '../batch/types.ts';
import type { KafkaErrorKind } from './describe-error.ts';

/**
 * The narrow interface the pipeline uses to reach Kafka (or another output:
 * src/output/). send() writes the batches in one produce request and
 * resolves when every message is acknowledged (per the acks setting); it
 * rejects when they could not be delivered.
 */
export interface BatchProducer {
  connect(): Promise<void>;
  send(batches: readonly Batch[]): Promise<void>;
  close(): Promise<void>;
  /** What a failure of this output means, for the log and the error counters; Kafka's (describe-error.ts) when absent. */
  describeError?(err: unknown, topics: string[]): { kind: KafkaErrorKind; message: string };
}

import type { Batch } from '../batch/types.ts';

/**
 * The narrow interface the pipeline uses to reach Kafka. send() writes the
 * batches in one produce request and resolves when every message is
 * acknowledged (per the acks setting); it rejects when they could not be
 * delivered.
 */
export interface BatchProducer {
  connect(): Promise<void>;
  send(batches: readonly Batch[]): Promise<void>;
  close(): Promise<void>;
}

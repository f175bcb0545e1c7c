import type { Writable } from 'node:stream';
import { messagesByTopic } from '../batch/encoded-records.ts';
import type { Batch, OutMessage } from '../batch/types.ts';
import type { KafkaConfig } from '../config/types.ts';
import type { BatchProducer } from '../kafka/batch-producer.ts';
import { ndjsonMessages } from '../kafka/kafkajs-producer.ts';

/**
 * `run --dry-run`: the messages a batch would make, written to `out` (stdout)
 * as one JSON object per message, `{"topic","key","headers","value"}`,
 * instead of being sent to Kafka. The value is the exact string Kafka would
 * get (a record's JSON is not re-parsed: `jq '.value | fromjson'` reads it).
 * A send resolves once its lines are handed to the stream, so a slow reader
 * of the pipe slows the agent down as a slow broker would.
 */
export class ConsoleProducer implements BatchProducer {
  private readonly out: Writable;
  private readonly kafka: Pick<KafkaConfig, 'message_format' | 'max_message_bytes'>;

  constructor(kafka: Pick<KafkaConfig, 'message_format' | 'max_message_bytes'>, out: Writable = process.stdout) {
    this.kafka = kafka;
    this.out = out;
  }

  connect(): Promise<void> {
    return Promise.resolve();
  }

  send(batches: readonly Batch[]): Promise<void> {
    let text = '';
    for (const batch of batches) {
      for (const [topic, messages] of messagesByTopic(batch.topics)) {
        for (const message of this.shipped(messages)) text += JSON.stringify({ topic, key: message.key, headers: message.headers, value: message.value }) + '\n';
      }
    }
    return new Promise((resolve, reject) => this.out.write(text, (err) => (err ? reject(err) : resolve())));
  }

  /** The Kafka messages of a topic's records: one per record, or ndjson's records joined per key (which carry no headers). */
  private shipped(messages: OutMessage[]): readonly OutMessage[] {
    if (this.kafka.message_format !== 'ndjson') return messages;
    return ndjsonMessages(messages, this.kafka.max_message_bytes).map((m) => ({ key: m.key as string | null, value: m.value as string, headers: {} }));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

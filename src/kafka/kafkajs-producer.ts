import { Kafka, Partitioners, logLevel, type Producer, type LogEntry } from 'kafkajs';
import type { Batch, OutMessage } from '../batch/types.ts';
import type { KafkaConfig } from '../config/types.ts';
import type { Logger } from '../observe/logger.ts';
import type { BatchProducer } from './batch-producer.ts';

const ACKS = { all: -1, 1: 1, 0: 0 } as const;

/**
 * kafkajs logs onto the agent's pino logger. Its errors are mostly ones it
 * retries itself (e.g. metadata while a topic is being created), so they are
 * warnings here; a batch that really failed is logged by Delivery.
 */
function kafkajsLogger(log: Logger) {
  return () =>
    ({ level, log: entry }: LogEntry) => {
      const { message, ...rest } = entry;
      const fields = { kafkajs: rest };
      if (level === logLevel.ERROR || level === logLevel.WARN) log.warn(fields, message);
      else log.debug(fields, message);
    };
}

export class KafkajsProducer implements BatchProducer {
  private readonly producer: Producer;
  private readonly acks: number;
  private readonly timeout: number;

  constructor(config: KafkaConfig, log: Logger) {
    const kafka = new Kafka({
      clientId: config.client_id,
      brokers: config.brokers,
      connectionTimeout: config.connection_timeout_ms,
      requestTimeout: config.request_timeout_ms,
      logLevel: logLevel.WARN,
      logCreator: kafkajsLogger(log.child({ stage: 'kafka' })),
    });
    // Records have no key yet: the default (murmur2, Java-compatible) partitioner spreads them.
    this.producer = kafka.producer({ allowAutoTopicCreation: true, createPartitioner: Partitioners.DefaultPartitioner });
    this.acks = ACKS[config.acks];
    this.timeout = config.request_timeout_ms;
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  async send(batches: readonly Batch[]): Promise<void> {
    const byTopic = new Map<string, OutMessage[]>();
    for (const batch of batches) {
      for (const [topic, messages] of batch.topics) {
        const list = byTopic.get(topic);
        if (list) for (const m of messages) list.push(m);
        else byTopic.set(topic, batches.length === 1 ? messages : messages.slice());
      }
    }
    const topicMessages = [];
    for (const [topic, messages] of byTopic) topicMessages.push({ topic, messages });
    await this.producer.sendBatch({ topicMessages, acks: this.acks, timeout: this.timeout });
  }

  close(): Promise<void> {
    return this.producer.disconnect();
  }
}

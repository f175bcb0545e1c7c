import { Kafka, Partitioners, logLevel, type LogEntry, type Message, type Producer, type TopicMessages } from 'kafkajs';
import type { EncodedRecords } from '../batch/encoded-records.ts';
import type { Batch, OutMessage } from '../batch/types.ts';
import type { KafkaConfig } from '../config/types.ts';
import type { Logger } from '../observe/logger.ts';
import type { BatchProducer } from './batch-producer.ts';
import { clientSecurity } from './client-security.ts';
import { compressionType } from './compression.ts';

const ACKS = { all: -1, 1: 1, 0: 0 } as const;

/**
 * kafkajs logs onto the agent's pino logger at debug level: it logs every
 * attempt it retries itself (dozens a second while a broker is down), while
 * the agent logs one line per state that matters (Delivery, Pipeline).
 */
function kafkajsLogger(log: Logger) {
  return () =>
    ({ level, log: entry }: LogEntry) => {
      const { message, ...rest } = entry;
      log.debug({ kafkajs: rest, kafkajs_level: logLevel[level] }, message);
    };
}

/** ndjson: one message per topic and key, records joined by newlines, split to stay under maxBytes. */
export function ndjsonMessages(messages: readonly OutMessage[], maxBytes: number): Message[] {
  const byKey = new Map<string | null, string[]>();
  for (const m of messages) {
    let list = byKey.get(m.key);
    if (!list) byKey.set(m.key, (list = []));
    list.push(m.value);
  }
  const out: Message[] = [];
  for (const [key, values] of byKey) {
    let value = '';
    for (const v of values) {
      if (value.length > 0 && value.length + 1 + v.length > maxBytes) {
        out.push({ key, value });
        value = '';
      }
      value = value.length === 0 ? v : `${value}\n${v}`;
    }
    if (value.length > 0) out.push({ key, value });
  }
  return out;
}

/** Records [from, to) of `records`, as the patched kafkajs takes them (`encoded`); `key` only for the partitioner. */
function encodedMessage(key: string | null, records: EncodedRecords, from: number, to: number): Message {
  return { key, value: null, encoded: records, from, to } as Message;
}

export class KafkajsProducer implements BatchProducer {
  private readonly producer: Producer;
  private readonly config: KafkaConfig;
  private readonly acks: number;
  private readonly compression;
  private connecting: Promise<void> | undefined;

  constructor(config: KafkaConfig, log: Logger) {
    this.config = config;
    const kafka = new Kafka({
      clientId: config.client_id,
      brokers: config.brokers,
      ...clientSecurity(config),
      connectionTimeout: config.connection_timeout_ms,
      requestTimeout: config.request_timeout_ms,
      // kafkajs retries briefly itself (leader moves, topic creation); longer outages are Delivery's backoff.
      retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 2000 },
      logLevel: log.isLevelEnabled('debug') ? logLevel.INFO : logLevel.WARN,
      logCreator: kafkajsLogger(log.child({ stage: 'kafka' })),
    });
    // Records without a key spread with the default (murmur2, Java-compatible) partitioner.
    this.producer = kafka.producer({
      allowAutoTopicCreation: true,
      createPartitioner: Partitioners.DefaultPartitioner,
      idempotent: config.idempotent,
      ...(config.idempotent ? { maxInFlightRequests: 1 } : {}),
    });
    this.acks = ACKS[config.acks];
    this.compression = compressionType(config.compression);
  }

  /** Connects once; a failed attempt is forgotten, so the next send tries again. */
  connect(): Promise<void> {
    this.connecting ??= this.producer.connect().catch((err: unknown) => {
      this.connecting = undefined;
      throw err;
    });
    return this.connecting;
  }

  async send(batches: readonly Batch[]): Promise<void> {
    await this.connect();
    const byTopic = new Map<string, Message[]>();
    for (const batch of batches) {
      for (const [topic, records] of batch.topics) {
        let list = byTopic.get(topic);
        if (!list) byTopic.set(topic, (list = []));
        this.messagesOf(records, list);
      }
    }
    const topicMessages: TopicMessages[] = [];
    for (const [topic, messages] of byTopic) topicMessages.push({ topic, messages });
    await this.producer.sendBatch({ topicMessages, acks: this.acks, timeout: this.config.request_timeout_ms, compression: this.compression });
  }

  /**
   * What kafkajs gets for a batch's records: records already encoded ride
   * in one message (the patch's records.js writes them as they are), which
   * the partitioner places as a whole, like Kafka's sticky partitioner;
   * with keys, or with the idempotent producer (which counts messages for
   * its sequence numbers), one message per record.
   */
  private messagesOf(records: EncodedRecords, out: Message[]): void {
    if (this.config.message_format === 'ndjson') {
      for (const m of ndjsonMessages(records.toMessages(), this.config.max_message_bytes)) out.push(m);
    } else if (records.keys === undefined && !this.config.idempotent) {
      out.push(encodedMessage(null, records, 0, records.count));
    } else {
      for (let i = 0; i < records.count; i++) out.push(encodedMessage(records.keys?.[i] ?? null, records, i, i + 1));
    }
  }

  async close(): Promise<void> {
    if (this.connecting) await this.producer.disconnect();
  }
}

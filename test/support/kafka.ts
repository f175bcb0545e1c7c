import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { waitFor } from './wait.ts';

const run = promisify(execFile);

/** The broker the tests use: KAFKA_BROKERS, set by the global setup or by the caller. */
export function testBrokers(): string[] {
  const brokers = process.env.KAFKA_BROKERS;
  if (!brokers) throw new Error('KAFKA_BROKERS is not set: run the tests with `npm test` (which starts a local Kafka) or set it');
  return brokers.split(',');
}

/** `brokers`: the shared test broker unless a test runs one of its own. */
export async function withAdmin<T>(fn: (admin: Admin) => Promise<T>, brokers = testBrokers()): Promise<T> {
  const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/** A new topic for one test, created explicitly so the tests work where auto-create is off. */
/** A new one-partition topic; `configs` are topic configs (e.g. max.message.bytes). */
export async function createTopic(prefix = 'test', configs: Record<string, string> = {}): Promise<string> {
  const topic = `${prefix}-${randomUUID().slice(0, 8)}`;
  await createTopicNamed(topic, testBrokers(), configs);
  return topic;
}

export async function createTopicNamed(topic: string, brokers = testBrokers(), configs: Record<string, string> = {}): Promise<void> {
  const configEntries = Object.entries(configs).map(([name, value]) => ({ name, value }));
  await withAdmin(async (admin) => {
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1, configEntries }], waitForLeaders: true });
    } catch (err) {
      // kafkajs waits for leaders only through "leader not available"; a broker that has not caught up with the new topic says this instead.
      const e = err as { type?: string; originalError?: { type?: string } };
      if (e.type !== 'UNKNOWN_TOPIC_OR_PARTITION' && e.originalError?.type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw err;
    }
    await waitFor(`a leader for the new topic ${topic}`, async () => {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      return topics[0]?.partitions.every((p) => p.leader >= 0) && topics[0].partitions.length > 0;
    }, 30_000, 100);
  }, brokers);
}

/** Messages in the topic now (the sum of the partitions' high watermarks). */
export async function topicSize(topic: string, brokers = testBrokers()): Promise<number> {
  const offsets = await withAdmin((admin) => admin.fetchTopicOffsets(topic), brokers);
  return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
}

export interface ConsumedMessage {
  /** null for a message without a key. */
  key: string | null;
  value: string;
  headers: Record<string, string>;
}

/** Reads a whole topic with kcat, an independent Kafka client, from the start to its current end. */
export async function readTopic(topic: string, brokers = testBrokers()): Promise<ConsumedMessage[]> {
  const { stdout } = await run('kcat', ['-C', '-b', brokers.join(','), '-t', topic, '-o', 'beginning', '-e', '-q', '-J'], {
    maxBuffer: 1 << 30,
  });
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const envelope = JSON.parse(line) as { payload: string; key?: string | null; headers?: string[] };
      const headers: Record<string, string> = {};
      const list = envelope.headers ?? [];
      for (let i = 0; i + 1 < list.length; i += 2) headers[list[i]!] = list[i + 1]!;
      return { key: envelope.key ?? null, value: envelope.payload, headers };
    });
}

/**
 * Starts one real Kafka broker for the whole test run (node --test
 * --test-global-setup), unless KAFKA_BROKERS names an existing one. Test
 * files inherit KAFKA_BROKERS through the environment.
 */
import { LocalKafka } from '../../scripts/kafka/local-kafka.ts';

let kafka: LocalKafka | undefined;

export async function globalSetup(): Promise<void> {
  if (process.env.KAFKA_BROKERS) return;
  kafka = new LocalKafka();
  const brokers = await kafka.start();
  process.env.KAFKA_BROKERS = brokers.join(',');
  process.env.LOGSHIP_TEST_OWNS_KAFKA = '1';
}

export async function globalTeardown(): Promise<void> {
  await kafka?.stop();
}

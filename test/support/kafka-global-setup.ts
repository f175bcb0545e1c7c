/**
 * Starts one real Kafka broker for the whole test run (node --test
 * --test-global-setup), unless KAFKA_BROKERS names an existing one. Test
 * files inherit KAFKA_BROKERS through the environment. The broker's version
 * is LOGSHIP_KAFKA_VERSION's, else LocalKafka's default; test files that start
 * brokers of their own get the same one, since they read the same variable.
 */
import { LocalKafka } from '../../scripts/kafka/local-kafka.ts';

let kafka: LocalKafka | undefined;

export async function globalSetup(): Promise<void> {
  if (process.env.KAFKA_BROKERS) {
    process.stderr.write(`# tests use the Kafka at KAFKA_BROKERS=${process.env.KAFKA_BROKERS}\n`);
    return;
  }
  kafka = new LocalKafka();
  const brokers = await kafka.start();
  // Said once at the top of the output, so a run's log tells which Kafka it tested.
  process.stderr.write(`# tests use a local Apache Kafka ${kafka.version} at ${brokers.join(',')}\n`);
  process.env.KAFKA_BROKERS = brokers.join(',');
  process.env.LOGSHIP_TEST_OWNS_KAFKA = '1';
}

export async function globalTeardown(): Promise<void> {
  await kafka?.stop();
}

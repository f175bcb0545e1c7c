import type { Config, OutputType } from '../config/types.ts';
import type { BatchProducer } from '../kafka/batch-producer.ts';
import { KafkajsProducer } from '../kafka/kafkajs-producer.ts';
import type { Logger } from '../observe/logger.ts';
import type { Stats } from '../observe/stats.ts';
import { RabbitmqProducer } from './rabbitmq/rabbitmq-producer.ts';
import { RedisProducer } from './redis/redis-producer.ts';

/** How logs and messages name each output. */
export const OUTPUT_NAMES: Readonly<Record<OutputType, string>> = { kafka: 'Kafka', rabbitmq: 'RabbitMQ', redis: 'Redis' };

/**
 * The producer of the configured output (output.type), behind the one
 * interface Delivery drives. Records a stream or exchange could not route
 * are counted (records_unroutable: they go to the dead-letter
 * destination). Throws a ConfigError for credentials or TLS files that
 * cannot be used.
 */
export function createProducer(config: Config, log: Logger, stats?: Stats): BatchProducer {
  const unroutable = (count: number) => {
    if (stats) stats.agent.records_unroutable += count;
  };
  switch (config.output.type) {
    case 'rabbitmq':
      return new RabbitmqProducer(config.output.rabbitmq!, log.child({ output: 'rabbitmq' }), unroutable);
    case 'redis':
      return new RedisProducer(config.output.redis!, log.child({ output: 'redis' }), unroutable);
    default:
      return new KafkajsProducer(config.kafka, log);
  }
}

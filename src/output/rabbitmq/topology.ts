import type { Channel } from 'amqplib';
import type { RabbitmqConfig } from '../../config/types.ts';

/** The dead-letter exchange: its own setting, or the records' exchange. */
export function deadLetterExchange(config: RabbitmqConfig): string {
  return config.dead_letter_exchange ?? config.exchange;
}

/**
 * output.rabbitmq.declare, at every (re)connection: the exchange (durable),
 * a durable queue bound to it, and a dead-letter queue bound to the
 * dead-letter exchange. Declarations are idempotent; one that differs from
 * what exists closes the channel with 406, which the error names.
 */
export async function declareTopology(channel: Channel, config: RabbitmqConfig): Promise<void> {
  const declare = config.declare;
  if (!declare) return;
  // The default exchange ("") exists and cannot be declared.
  if (config.exchange !== '') await channel.assertExchange(config.exchange, declare.exchange_type, { durable: true });
  const dlx = deadLetterExchange(config);
  if (dlx !== config.exchange && dlx !== '') await channel.assertExchange(dlx, declare.exchange_type, { durable: true });
  if (declare.queue !== undefined) {
    await channel.assertQueue(declare.queue, { durable: true });
    if (config.exchange !== '') await channel.bindQueue(declare.queue, config.exchange, declare.binding_key);
  }
  if (declare.dead_letter_queue !== undefined) {
    await channel.assertQueue(declare.dead_letter_queue, { durable: true });
    if (dlx !== '') await channel.bindQueue(declare.dead_letter_queue, dlx, config.dead_letter_routing_key);
  }
}

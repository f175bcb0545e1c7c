import type { ChannelModel } from 'amqplib';
import { ConfigError } from '../../config/load.ts';
import type { RabbitmqConfig } from '../../config/types.ts';
import { CHECK_TIMEOUT_MS, type Verdict } from '../check-verdict.ts';
import { amqpTarget } from './amqp-target.ts';
import { describeRabbitmqError } from './describe-error.ts';
import { deadLetterExchange } from './topology.ts';

/** Whether `exchange` exists (a passive declare, on a channel of its own: a 404 closes it). */
async function exchangeVerdict(model: ChannelModel, config: RabbitmqConfig, exchange: string, role: string): Promise<Verdict> {
  const item = `rabbitmq ${role} "${exchange}"`;
  if (exchange === '') return { ok: true, item, detail: 'the default exchange: routing keys name queues' };
  if (config.declare) return { ok: true, item, detail: `declared at start-up (output.rabbitmq.declare, type ${config.declare.exchange_type}), durable` };
  const channel = await model.createChannel();
  channel.on('error', () => undefined);
  try {
    await channel.checkExchange(exchange);
    await channel.close();
    return { ok: true, item, detail: 'exists (write permission shows at the first publish: AMQP has no dry run)' };
  } catch (err) {
    return { ok: false, item, detail: describeRabbitmqError(err, { broker: '', exchange, topics: [] }).message.replace(/^RabbitMQ at : /, '') };
  }
}

/** `check` for output.rabbitmq: the broker reachable, the credentials accepted, the exchanges there. */
export async function checkRabbitmq(config: RabbitmqConfig, out: Verdict[]): Promise<void> {
  let target;
  try {
    target = amqpTarget(config);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    out.push({ ok: false, item: 'rabbitmq', detail: err.problems.join('; '), fix: true });
    return;
  }
  const item = `rabbitmq ${target.display}`;
  const { connect } = await import('amqplib');
  let model: ChannelModel;
  try {
    model = await connect(target.connect, { ...target.socket, timeout: Math.min(config.connection_timeout_ms, CHECK_TIMEOUT_MS) });
  } catch (err) {
    out.push({ ok: false, item, detail: describeRabbitmqError(err, { broker: target.display, exchange: config.exchange, topics: [] }).message });
    return;
  }
  model.on('error', () => undefined);
  try {
    const server = model.connection.serverProperties;
    out.push({ ok: true, item, detail: `reachable, authenticated: ${server.product ?? 'RabbitMQ'} ${server.version ?? ''}`.trim() });
    out.push(await exchangeVerdict(model, config, config.exchange, 'exchange'));
    const dlx = deadLetterExchange(config);
    if (dlx !== config.exchange) out.push(await exchangeVerdict(model, config, dlx, 'dead-letter exchange'));
  } finally {
    await model.close().catch(() => undefined);
  }
}

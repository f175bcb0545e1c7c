import type { ChannelModel, ConfirmChannel, Message } from 'amqplib';
import type { Batch } from '../../batch/types.ts';
import type { RabbitmqConfig } from '../../config/types.ts';
import { RECORD_ID_HEADER } from '../../encode/record-json.ts';
import type { BatchProducer } from '../../kafka/batch-producer.ts';
import type { KafkaErrorKind } from '../../kafka/describe-error.ts';
import { pause } from '../../kafka/retry-policy.ts';
import type { Logger } from '../../observe/logger.ts';
import { amqpTarget, type AmqpTarget } from './amqp-target.ts';
import { CorkedWrites } from './corked-writes.ts';
import { describeRabbitmqError, RabbitmqOutputError } from './describe-error.ts';
import { deadLetterExchange, declareTopology } from './topology.ts';

/** Why a dead letter is one: a header beside the record's own (id, host, path). */
export const REASON_HEADER = 'logship-reason';
/** The routing key an unroutable record had. */
export const ROUTING_KEY_HEADER = 'logship-routing-key';

/** An unroutable routing key is logged again at most this often. */
const REPEAT_LOG_MS = 60_000;

/** One connection and its confirm channel; `failure` keeps why the broker closed either (callbacks only say "closed"). */
interface Link {
  model: ChannelModel;
  channel: ConfirmChannel;
  failure: Error | undefined;
  /** Messages the broker returned during the publish under way on this channel. */
  returns: Message[];
}

interface Outgoing {
  exchange: string;
  routingKey: string;
  content: Buffer;
  headers: Record<string, string>;
}

/**
 * RabbitMQ behind the producer interface (AMQP 0-9-1, amqplib): a batch is
 * published on a confirm channel, persistent and mandatory, and send()
 * resolves only once the broker confirmed every message. Then:
 *
 * - a nack, a lost connection or channel, or no confirm within
 *   confirm_timeout_ms (a broker under a resource alarm blocks publishers)
 *   rejects: Delivery retries the batch or spools it, as for Kafka;
 * - a message the broker returned as unroutable (mandatory, no queue bound
 *   for its routing key) is published again to the dead-letter exchange
 *   with its reason (logship-reason header); if that is unroutable too, the
 *   batch is rejected: never dropped silently.
 *
 * Recovery: a connection or channel the broker closes (restart, 404, 403)
 * is dropped, and the next send (Delivery's retry, with its backoff) opens
 * a new one, declaring the topology again when asked to.
 */
export class RabbitmqProducer implements BatchProducer {
  private readonly config: RabbitmqConfig;
  private readonly log: Logger;
  private readonly target: AmqpTarget;
  private readonly onUnroutable: (count: number) => void;
  private link: Link | undefined;
  private opening: Promise<Link> | undefined;
  /** connection.blocked's reason while the broker blocks publishers (resource alarm). */
  private blocked: string | undefined;
  private readonly unroutableLogged = new Map<string, number>();
  private closed = false;

  /** Throws a ConfigError for a password or TLS file that cannot be used. */
  constructor(config: RabbitmqConfig, log: Logger, onUnroutable: (count: number) => void = () => undefined) {
    this.config = config;
    this.log = log;
    this.target = amqpTarget(config);
    this.onUnroutable = onUnroutable;
  }

  get broker(): string {
    return this.target.display;
  }

  async connect(): Promise<void> {
    await this.open();
  }

  private open(): Promise<Link> {
    if (this.link) return Promise.resolve(this.link);
    this.opening ??= this.dial().finally(() => (this.opening = undefined));
    return this.opening;
  }

  private async dial(): Promise<Link> {
    // Loaded on first use: amqplib costs ~13 MiB of RSS, which an agent shipping to another output does not pay.
    const { connect } = await import('amqplib');
    const model = await connect(this.target.connect, this.target.socket);
    const link: Link = { model, channel: undefined as unknown as ConfirmChannel, failure: undefined, returns: [] };
    // 'error' comes before 'close' with the broker's reason (320 on a restart, 404/403 from a channel); kept for the error message.
    model.on('error', (err: Error) => (link.failure = err));
    model.on('close', (err?: Error) => this.drop(link, err));
    model.on('blocked', (reason: string) => {
      this.blocked = reason;
      this.log.warn({ broker: this.target.display, reason }, 'RabbitMQ blocks publishers (resource alarm): batches go to the spool until it unblocks');
    });
    model.on('unblocked', () => {
      this.blocked = undefined;
      this.log.info({ broker: this.target.display }, 'RabbitMQ unblocked publishers');
    });
    try {
      const channel = await model.createConfirmChannel();
      link.channel = channel;
      channel.on('error', (err: Error) => (link.failure = err));
      // A channel the broker closed (404 no exchange, 403 no write permission): the connection goes with it, the next send opens both again.
      channel.on('close', () => this.drop(link, link.failure));
      channel.on('return', (message: Message) => link.returns.push(message));
      await declareTopology(channel, this.config);
    } catch (err) {
      const reason = link.failure;
      this.drop(link, err as Error);
      throw reason && reason !== err ? new Error((err as Error).message, { cause: reason }) : err;
    }
    if (this.closed) {
      this.drop(link, undefined);
      throw new RabbitmqOutputError('other', 'the producer is closed');
    }
    this.link = link;
    return link;
  }

  /** Forgets a connection (closing it if it is not closed yet): the next send opens a new one. */
  private drop(link: Link, err: Error | undefined): void {
    if (err && !link.failure) link.failure = err;
    if (this.link === link) {
      this.link = undefined;
      this.blocked = undefined;
    }
    link.model.close().catch(() => undefined);
  }

  async send(batches: readonly Batch[]): Promise<void> {
    if (this.blocked !== undefined) throw new RabbitmqOutputError('timeout', `the broker blocks publishers (${this.blocked}): a resource alarm (memory or disk) is on`);
    const link = await this.open();
    const outgoing: Outgoing[] = [];
    const dlx = deadLetterExchange(this.config);
    for (const batch of batches) {
      for (const [routingKey, records] of batch.topics) {
        // Lines that did not parse, records too large: the encoder routes them to the dead-letter routing key.
        const exchange = routingKey === this.config.dead_letter_routing_key ? dlx : this.config.exchange;
        records.eachValue((content, headers) => outgoing.push({ exchange, routingKey, content, headers }));
      }
    }
    const returned = await this.publish(link, outgoing);
    if (returned.length > 0) await this.deadLetter(link, returned);
  }

  /** Publishes and waits for every confirm; returns the messages the broker returned as unroutable. */
  private async publish(link: Link, outgoing: readonly Outgoing[]): Promise<Message[]> {
    const { channel } = link;
    link.returns = [];
    // One promise for the lot (not one per message): settled by the last confirm, or the first failure.
    let unconfirmed = outgoing.length;
    let settle!: (err?: Error) => void;
    const confirmed = new Promise<void>((resolve, reject) => (settle = (err) => (err ? reject(err) : resolve())));
    const onConfirm = (err: unknown): void => {
      if (err) settle(this.failed(link, err));
      else if (--unconfirmed === 0) settle();
    };
    if (unconfirmed === 0) settle();
    // A failure while publishing (awaiting drain below) is seen by the race after the loop, not an unhandled rejection.
    confirmed.catch(() => undefined);
    const timeoutMs = this.config.confirm_timeout_ms;
    const done = new AbortController();
    // Resolves true when confirm_timeout_ms passed (false once the batch is settled): bounds the wait for drain as well as for confirms.
    const deadline = pause(timeoutMs, { signal: done.signal }).then(() => !done.signal.aborted);
    // The AMQP timestamp property (POSIX seconds): when the batch was sent, as Kafka's message timestamp says.
    const timestamp = Math.floor(Date.now() / 1000);
    const writes = new CorkedWrites(link.model);
    writes.cork();
    try {
      for (const o of outgoing) {
        const writable = channel.publish(
          o.exchange,
          o.routingKey,
          o.content,
          { persistent: true, mandatory: true, contentType: 'application/json', timestamp, messageId: o.headers[RECORD_ID_HEADER], headers: o.headers },
          onConfirm,
        );
        // The socket's buffer is full: wait until it drains (or the channel goes), so a batch costs its size once.
        if (!writable) {
          writes.uncork();
          const late = await Promise.race([drained(channel).then(() => false), deadline]);
          writes.cork();
          if (late) this.timedOut(link, timeoutMs);
        }
      }
      writes.uncork();
      if (await Promise.race([confirmed.then(() => false), deadline])) this.timedOut(link, timeoutMs);
    } finally {
      writes.uncork();
      done.abort();
    }
    // A return comes before its message's confirm: every one is in by now.
    const returned = link.returns;
    link.returns = [];
    return returned;
  }

  /** No confirm in time: confirms may still come, or never (a blocked broker reads nothing); this connection's state is unknown, a new one is opened next time. */
  private timedOut(link: Link, timeoutMs: number): never {
    this.drop(link, undefined);
    const why = this.blocked !== undefined ? `; the broker blocks publishers (${this.blocked})` : '';
    throw new RabbitmqOutputError('timeout', `no publisher confirm within output.rabbitmq.confirm_timeout_ms (${timeoutMs} ms)${why}`);
  }

  /** The error of a confirm that failed: a nack, or the channel closed (with the broker's reason when it gave one). */
  private failed(link: Link, err: unknown): Error {
    if (err instanceof Error && /nack/i.test(err.message)) return new RabbitmqOutputError('other', 'the broker refused (nacked) messages: the queue may be full (x-overflow: reject-publish) or the broker failed to store them; retrying');
    return link.failure ? new Error(String((err as Error)?.message ?? err), { cause: link.failure }) : (err as Error);
  }

  /** Unroutable messages go to the dead-letter exchange with their reason; if those are unroutable too, the batch fails. */
  private async deadLetter(link: Link, returned: readonly Message[]): Promise<void> {
    this.onUnroutable(returned.length);
    const exchange = deadLetterExchange(this.config);
    const letters: Outgoing[] = returned.map((m) => {
      const { replyCode, replyText, exchange: from, routingKey } = m.fields as unknown as { replyCode: number; replyText: string; exchange: string; routingKey: string };
      const reason = `unroutable (${replyCode} ${replyText}): exchange "${from}" routes routing key "${routingKey}" to no queue`;
      this.logUnroutable(routingKey, reason);
      const headers: Record<string, string> = { ...(m.properties.headers as Record<string, string>), [REASON_HEADER]: reason, [ROUTING_KEY_HEADER]: routingKey };
      return { exchange, routingKey: this.config.dead_letter_routing_key, content: m.content, headers };
    });
    const lost = await this.publish(link, letters);
    if (lost.length > 0) {
      throw new RabbitmqOutputError(
        'unknown_topic',
        `${returned.length} unroutable record(s), and the dead-letter exchange "${exchange}" routes routing key "${this.config.dead_letter_routing_key}" to no queue either: bind a queue to it (output.rabbitmq.declare.dead_letter_queue); retrying`,
      );
    }
  }

  private logUnroutable(routingKey: string, reason: string): void {
    const now = Date.now();
    if (now - (this.unroutableLogged.get(routingKey) ?? 0) < REPEAT_LOG_MS) return;
    this.unroutableLogged.set(routingKey, now);
    this.log.warn({ routing_key: routingKey, dead_letter_exchange: deadLetterExchange(this.config), dead_letter_routing_key: this.config.dead_letter_routing_key }, `${reason}: records sent to the dead-letter exchange (said at most once a minute per routing key)`);
  }

  describeError(err: unknown, topics: string[]): { kind: KafkaErrorKind; message: string } {
    return describeRabbitmqError(err, { broker: this.target.display, exchange: this.config.exchange, topics });
  }

  async close(): Promise<void> {
    this.closed = true;
    const link = this.link;
    this.link = undefined;
    // A broker that blocks publishers may never answer close: not waited for longer than a connection.
    if (link) await Promise.race([link.model.close().catch(() => undefined), pause(this.config.connection_timeout_ms)]);
  }
}

/** Resolves when the channel can take more, or is gone (its pending confirms fail then). */
function drained(channel: ConfirmChannel): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      channel.off('drain', done);
      channel.off('close', done);
      resolve();
    };
    channel.once('drain', done);
    channel.once('close', done);
  });
}

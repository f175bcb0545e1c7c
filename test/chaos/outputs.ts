/**
 * What a chaos run ships to (`--output kafka|rabbitmq|redis`): a real
 * server of that kind, started by the run on free loopback ports, the
 * agent's settings that point at it, the faults of the broker lane applied
 * to it, and the read-back of what arrived, with a client independent of
 * the agent's:
 *
 * - Kafka: stop = controlled shutdown of the JVM, freeze = SIGSTOP; read
 *   back with kcat.
 * - RabbitMQ: stop = SIGKILL of the Erlang VM (a crash: only what it made
 *   durable survives), freeze = SIGSTOP, or, every other freeze, a memory
 *   alarm (the node blocks publishers); a durable queue bound to the
 *   exchange (and one to the dead-letter routing key), drained with amqplib.
 * - Redis: stop = SIGKILL (append-only file fsynced on every write),
 *   freeze = SIGSTOP; read back with XRANGE.
 */
import type { Channel, ConsumeMessage } from 'amqplib';
import type { Redis } from 'ioredis';
import { LocalKafka } from '../../scripts/kafka/local-kafka.ts';
import { LocalRabbitmq } from '../../scripts/outputs/local-rabbitmq.ts';
import { LocalRedis } from '../../scripts/outputs/local-redis.ts';
import { OUTPUT_NAMES } from '../../src/output/create-producer.ts';
import { createTopicNamed, topicSize } from '../support/kafka.ts';
import { requireTool } from '../support/nginx.ts';
import { addDelivered, deadLetterOf, newDelivered, readDeadLetters, readDelivered, type DeadLetter, type Delivered } from './ground-truth.ts';

export const OUTPUT_KINDS = ['kafka', 'rabbitmq', 'redis'] as const;
export type OutputKind = (typeof OUTPUT_KINDS)[number];

/** The delivery settings every output gets (scenario.ts's AGENT_SETTINGS). */
export interface DeliverySettings {
  maxInFlight: number;
  requestTimeoutMs: number;
}

/** Where one scenario's records and dead letters go. */
export interface Destination {
  /** The agent's settings for it: a `kafka` or an `output` section. */
  settings: Record<string, unknown>;
  /** For the run's progress output. */
  describe: string;
}

export interface ChaosOutput {
  readonly kind: OutputKind;
  /** As logs and reports name it. */
  readonly name: string;
  /** The client the count reads back with. */
  readonly reader: string;
  /** How fine the send times of the messages read back are (to tell which agent process sent a copy). */
  readonly timestampResolutionMs: number;
  start(): Promise<void>;
  close(): Promise<void>;
  /** Creates a scenario's destinations (topics, queues) named after `suffix`. */
  prepare(suffix: string, delivery: DeliverySettings): Promise<Destination>;
  /** The broker-stop fault: down until restart(). */
  stop(): Promise<void>;
  restart(): Promise<void>;
  /** The n-th broker-freeze fault: what it did (thaw() undoes it). */
  freeze(n: number): Promise<string>;
  thaw(): Promise<void>;
  /** Running and not frozen, whatever a failed run left (idempotent). */
  ensureUp(): Promise<void>;
  /** Messages in the destinations so far (the settle watches it move), -1 when unknown. */
  size(): Promise<number>;
  readDelivered(): Promise<Delivered>;
  readDeadLetters(): Promise<DeadLetter[]>;
}

export function chaosOutput(kind: OutputKind): ChaosOutput {
  switch (kind) {
    case 'rabbitmq':
      return new RabbitmqOutput();
    case 'redis':
      return new RedisOutput();
    default:
      return new KafkaOutput();
  }
}

class KafkaOutput implements ChaosOutput {
  readonly kind = 'kafka';
  readonly name = OUTPUT_NAMES.kafka;
  readonly reader = 'kcat';
  readonly timestampResolutionMs = 1;
  private readonly kafka = new LocalKafka();
  private topic = '';
  private deadTopic = '';

  async start(): Promise<void> {
    await requireTool('kcat', '-V');
    await this.kafka.start();
  }

  close(): Promise<void> {
    return this.kafka.stop();
  }

  async prepare(suffix: string, delivery: DeliverySettings): Promise<Destination> {
    this.topic = `chaos-${suffix}`;
    this.deadTopic = `chaos-${suffix}-dead`;
    await Promise.all([createTopicNamed(this.topic, this.kafka.brokers), createTopicNamed(this.deadTopic, this.kafka.brokers)]);
    return {
      settings: {
        kafka: {
          brokers: this.kafka.brokers,
          topic: this.topic,
          dead_letter_topic: this.deadTopic,
          max_in_flight: delivery.maxInFlight,
          request_timeout_ms: delivery.requestTimeoutMs,
          connection_timeout_ms: 3_000,
          retry_backoff_ms: 100,
          retry_backoff_max_ms: 2_000,
        },
      },
      describe: `Kafka ${this.kafka.brokers.join(',')}, topics ${this.topic} and ${this.deadTopic}`,
    };
  }

  stop(): Promise<void> {
    return this.kafka.pause();
  }

  restart(): Promise<void> {
    return this.kafka.resume();
  }

  async freeze(): Promise<string> {
    this.kafka.freeze();
    return 'SIGSTOP';
  }

  async thaw(): Promise<void> {
    this.kafka.thaw();
  }

  async ensureUp(): Promise<void> {
    try {
      this.kafka.thaw();
    } catch {
      // not running: resume() starts it
    }
    await this.kafka.resume();
  }

  async size(): Promise<number> {
    const sizes = await Promise.all([this.topic, this.deadTopic].map((t) => topicSize(t, this.kafka.brokers).catch(() => -1)));
    return sizes.includes(-1) ? -1 : sizes[0]! + sizes[1]!;
  }

  readDelivered(): Promise<Delivered> {
    return readDelivered(this.kafka.brokers, this.topic);
  }

  readDeadLetters(): Promise<DeadLetter[]> {
    return readDeadLetters(this.kafka.brokers, this.deadTopic);
  }
}

class RabbitmqOutput implements ChaosOutput {
  readonly kind = 'rabbitmq';
  readonly name = OUTPUT_NAMES.rabbitmq;
  readonly reader = 'amqplib (a consumer of durable queues)';
  /** The AMQP timestamp property: seconds. */
  readonly timestampResolutionMs = 1_000;
  private readonly server = new LocalRabbitmq();
  private queue = '';
  private deadQueue = '';
  private frozen: 'SIGSTOP' | 'memory alarm' | undefined;

  async start(): Promise<void> {
    await this.server.start();
  }

  async close(): Promise<void> {
    this.server.thaw();
    await this.server.close();
  }

  async prepare(suffix: string, delivery: DeliverySettings): Promise<Destination> {
    const exchange = `chaos-${suffix}`;
    this.queue = `${exchange}-q`;
    this.deadQueue = `${exchange}-dead`;
    return {
      // The agent declares them (direct exchange: the records' routing key reaches the queue, the dead letters' the dead-letter queue).
      settings: {
        output: {
          type: 'rabbitmq',
          rabbitmq: {
            url: this.server.url,
            exchange,
            routing_key: 'access',
            dead_letter_routing_key: 'dead',
            declare: { exchange_type: 'direct', queue: this.queue, binding_key: 'access', dead_letter_queue: this.deadQueue },
            max_in_flight: delivery.maxInFlight,
            confirm_timeout_ms: delivery.requestTimeoutMs,
            connection_timeout_ms: 3_000,
            retry_backoff_ms: 100,
            retry_backoff_max_ms: 2_000,
          },
        },
      },
      describe: `RabbitMQ ${this.server.url} (node ${this.server.nodename}), exchange ${exchange}, queues ${this.queue} and ${this.deadQueue}`,
    };
  }

  stop(): Promise<void> {
    this.server.thaw();
    return this.server.kill();
  }

  async restart(): Promise<void> {
    await this.server.start();
  }

  async freeze(n: number): Promise<string> {
    if (n % 2 === 0) {
      this.server.freeze();
      this.frozen = 'SIGSTOP';
    } else {
      await this.server.memoryAlarm(true);
      this.frozen = 'memory alarm';
    }
    return this.frozen;
  }

  async thaw(): Promise<void> {
    if (this.frozen === 'SIGSTOP') this.server.thaw();
    if (this.frozen === 'memory alarm') await this.server.memoryAlarm(false);
    this.frozen = undefined;
  }

  async ensureUp(): Promise<void> {
    this.server.thaw();
    if (!(await this.size().then((n) => n >= 0))) {
      await this.server.kill().catch(() => undefined);
      await this.server.start();
    }
    if (this.frozen === 'memory alarm') await this.server.memoryAlarm(false);
    this.frozen = undefined;
  }

  private async channel<T>(fn: (channel: Channel) => Promise<T>): Promise<T> {
    const { connect } = await import('amqplib');
    const model = await connect(this.server.url, { timeout: 3_000 });
    try {
      return await fn(await model.createChannel());
    } finally {
      await model.close().catch(() => undefined);
    }
  }

  async size(): Promise<number> {
    if (!this.queue) return 0;
    // Before the agent declared them, the queues do not exist: declared here as the agent will (idempotent).
    return this.channel(async (ch) => {
      let n = 0;
      for (const q of [this.queue, this.deadQueue]) n += (await ch.assertQueue(q, { durable: true })).messageCount;
      return n;
    }).catch(() => -1);
  }

  /** Every message of a queue (the agent has stopped: its count holds still), each handed to `onMessage`. */
  private drain(queue: string, onMessage: (m: ConsumeMessage) => void): Promise<number> {
    return this.channel(async (ch) => {
      const { messageCount } = await ch.assertQueue(queue, { durable: true });
      if (messageCount === 0) return 0;
      await ch.prefetch(5_000);
      let seen = 0;
      await new Promise<void>((resolve, reject) => {
        ch.on('close', () => reject(new Error(`the channel closed while draining ${queue} (${seen} of ${messageCount} read)`)));
        void ch.consume(queue, (m) => {
          if (!m) return reject(new Error(`the broker cancelled the consumer of ${queue}`));
          onMessage(m);
          ch.ack(m);
          if (++seen === messageCount) resolve();
        });
      });
      return seen;
    });
  }

  async readDelivered(): Promise<Delivered> {
    const result = newDelivered();
    await this.drain(this.queue, (m) => {
      const headers = (m.properties.headers ?? {}) as Record<string, unknown>;
      // timestamp: the AMQP property the agent sets, in seconds.
      const ts = typeof m.properties.timestamp === 'number' ? m.properties.timestamp * 1000 : NaN;
      addDelivered(result, m.content.toString('utf8'), String(headers['logship-id'] ?? ''), ts);
    });
    return result;
  }

  async readDeadLetters(): Promise<DeadLetter[]> {
    const letters: DeadLetter[] = [];
    await this.drain(this.deadQueue, (m) => {
      const reason = (m.properties.headers as Record<string, unknown> | undefined)?.['logship-reason'];
      letters.push(deadLetterOf(m.content.toString('utf8'), reason === undefined ? undefined : String(reason)));
    });
    return letters;
  }
}

class RedisOutput implements ChaosOutput {
  readonly kind = 'redis';
  readonly name = OUTPUT_NAMES.redis;
  readonly reader = 'ioredis XRANGE';
  readonly timestampResolutionMs = 1;
  private readonly server = new LocalRedis({ durable: true });
  private stream = '';
  private deadStream = '';

  async start(): Promise<void> {
    await this.server.start();
  }

  close(): Promise<void> {
    return this.server.close();
  }

  async prepare(suffix: string, delivery: DeliverySettings): Promise<Destination> {
    this.stream = `chaos-${suffix}`;
    this.deadStream = `chaos-${suffix}-dead`;
    return {
      settings: {
        output: {
          type: 'redis',
          redis: {
            url: this.server.url,
            stream: this.stream,
            dead_letter_stream: this.deadStream,
            max_in_flight: delivery.maxInFlight,
            command_timeout_ms: delivery.requestTimeoutMs,
            connection_timeout_ms: 3_000,
            retry_backoff_ms: 100,
            retry_backoff_max_ms: 2_000,
          },
        },
      },
      describe: `Redis ${this.server.url} (append-only file, fsync always), streams ${this.stream} and ${this.deadStream}`,
    };
  }

  stop(): Promise<void> {
    return this.server.kill();
  }

  async restart(): Promise<void> {
    await this.server.start();
  }

  async freeze(): Promise<string> {
    this.server.freeze();
    return 'SIGSTOP';
  }

  async thaw(): Promise<void> {
    this.server.thaw();
  }

  async ensureUp(): Promise<void> {
    this.server.thaw();
    if ((await this.size()) < 0) await this.server.start();
  }

  private async client<T>(fn: (redis: Redis) => Promise<T>): Promise<T> {
    const { Redis } = await import('ioredis');
    const redis = new Redis(this.server.url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 3_000, retryStrategy: () => null });
    try {
      await redis.connect();
      return await fn(redis);
    } finally {
      redis.disconnect();
    }
  }

  async size(): Promise<number> {
    return this.client(async (r) => (await r.xlen(this.stream)) + (await r.xlen(this.deadStream))).catch(() => -1);
  }

  /** Every entry of a stream, oldest first, in pages of XRANGE. */
  private each(stream: string, onEntry: (id: string, fields: Map<string, string>) => void): Promise<void> {
    return this.client(async (r) => {
      let start = '-';
      while (true) {
        const page = await r.xrange(stream, start, '+', 'COUNT', 10_000);
        for (const [id, flat] of page) {
          const fields = new Map<string, string>();
          for (let i = 0; i + 1 < flat.length; i += 2) fields.set(flat[i]!, flat[i + 1]!);
          onEntry(id, fields);
        }
        if (page.length < 10_000) return;
        start = `(${page[page.length - 1]![0]}`;
      }
    });
  }

  async readDelivered(): Promise<Delivered> {
    const result = newDelivered();
    // An entry id is `<ms>-<seq>`, the server's clock when it added the entry.
    await this.each(this.stream, (id, f) => addDelivered(result, f.get('record') ?? '', f.get('logship-id') ?? '', Number(id.slice(0, id.indexOf('-')))));
    return result;
  }

  async readDeadLetters(): Promise<DeadLetter[]> {
    const letters: DeadLetter[] = [];
    await this.each(this.deadStream, (_id, f) => letters.push(deadLetterOf(f.get('record') ?? '', f.get('logship-reason'))));
    return letters;
  }
}

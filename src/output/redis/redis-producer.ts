import type { Redis, RedisOptions } from 'ioredis';
import { messagesByTopic } from '../../batch/encoded-records.ts';
import type { Batch, OutMessage } from '../../batch/types.ts';
import type { RedisConfig } from '../../config/types.ts';
import type { BatchProducer } from '../../kafka/batch-producer.ts';
import type { KafkaErrorKind } from '../../kafka/describe-error.ts';
import type { Logger } from '../../observe/logger.ts';
import { describeRedisError } from './describe-error.ts';
import { redisClient, redisDisplay, redisTarget } from './redis-client.ts';

/** The field holding the record's JSON; the others are the record's headers (logship-id, logship-host, logship-path). */
export const RECORD_FIELD = 'record';
/** Why a dead letter is one (beside the record's fields). */
export const REASON_FIELD = 'logship-reason';
/** The stream a dead letter was meant for. */
export const STREAM_FIELD = 'logship-stream';

/** A stream name a key refused is logged again at most this often. */
const REPEAT_LOG_MS = 60_000;

interface Entry {
  stream: string;
  fields: string[];
}

/**
 * Redis Streams behind the producer interface (ioredis): a batch is one
 * pipeline of XADDs (`MAXLEN ~ n` when maxlen is set), and send() resolves
 * only when every XADD's reply is an entry id. A reply that is an error
 * rejects the batch (Delivery retries or spools it), except WRONGTYPE (the
 * key exists and is not a stream), which no retry fixes: those records go
 * to dead_letter_stream with the reason. While the connection is down,
 * sends fail at once (the spool takes the batches) and ioredis reconnects.
 */
export class RedisProducer implements BatchProducer {
  private readonly config: RedisConfig;
  private readonly log: Logger;
  private readonly target: { url: string; options: RedisOptions };
  /** Created on first use (connect or send): see redisClient. */
  private client: Promise<Redis> | undefined;
  private readonly display: string;
  private readonly onUnroutable: (count: number) => void;
  /** The connection's last error: sends failing while it is down say why (auth, TLS, refused). */
  private lastError: Error | undefined;
  private readonly refusedLogged = new Map<string, number>();

  /** Throws a ConfigError for a password or TLS file that cannot be used. */
  constructor(config: RedisConfig, log: Logger, onUnroutable: (count: number) => void = () => undefined) {
    this.config = config;
    this.log = log;
    this.display = redisDisplay(config);
    this.onUnroutable = onUnroutable;
    this.target = redisTarget(config, { retry: true });
  }

  private redis(): Promise<Redis> {
    this.client ??= redisClient(this.target).then((redis) => {
      // Each reconnection attempt fails the same way while the server is down: Delivery logs the state, here it is kept for that.
      redis.on('error', (err: Error) => {
        this.lastError = err;
        this.log.debug({ err }, 'Redis connection error');
      });
      redis.on('ready', () => (this.lastError = undefined));
      return redis;
    });
    return this.client;
  }

  async connect(): Promise<void> {
    await this.ensureConnected(await this.redis());
  }

  /** connect() again after a first attempt failed for good (ioredis reconnects by itself once it was connected). */
  private async ensureConnected(redis: Redis): Promise<void> {
    const status = redis.status;
    if (status === 'wait' || status === 'end') {
      try {
        await redis.connect();
      } catch (err) {
        throw this.lastError && this.lastError !== err ? new Error((err as Error).message, { cause: this.lastError }) : err;
      }
    }
  }

  async send(batches: readonly Batch[]): Promise<void> {
    const redis = await this.redis();
    await this.ensureConnected(redis);
    const entries: Entry[] = [];
    for (const batch of batches) {
      for (const [stream, messages] of messagesByTopic(batch.topics)) for (const m of messages) entries.push({ stream, fields: fieldsOf(m) });
    }
    const refused = await this.add(redis, entries);
    if (refused.length > 0) await this.deadLetter(redis, refused);
  }

  /** One pipeline of XADDs; throws on any error but WRONGTYPE, whose entries it returns with the reason. */
  private async add(redis: Redis, entries: readonly Entry[]): Promise<{ entry: Entry; reason: string }[]> {
    const pipeline = redis.pipeline();
    const trim = this.config.maxlen === undefined ? [] : ['MAXLEN', '~', String(this.config.maxlen)];
    for (const e of entries) pipeline.xadd(e.stream, ...trim, '*', ...e.fields);
    let replies: [Error | null, unknown][] | null;
    try {
      replies = await pipeline.exec();
    } catch (err) {
      throw this.lastError && this.lastError !== err ? new Error((err as Error).message, { cause: this.lastError }) : err;
    }
    if (replies === null || replies.length !== entries.length) throw new Error(`Redis answered ${replies?.length ?? 0} of ${entries.length} XADDs`);
    const refused: { entry: Entry; reason: string }[] = [];
    for (const [i, [err, id]] of replies.entries()) {
      if (err && /^WRONGTYPE/.test(err.message)) refused.push({ entry: entries[i]!, reason: `key "${entries[i]!.stream}" is not a stream (${err.message})` });
      else if (err) throw this.lastError && !/^[A-Z]+ /.test(err.message) ? new Error(err.message, { cause: this.lastError }) : err;
      else if (typeof id !== 'string') throw new Error(`Redis answered XADD ${entries[i]!.stream} with ${JSON.stringify(id)}, not an entry id`);
    }
    return refused;
  }

  private async deadLetter(redis: Redis, refused: readonly { entry: Entry; reason: string }[]): Promise<void> {
    this.onUnroutable(refused.length);
    const stream = this.config.dead_letter_stream;
    for (const { entry, reason } of refused) this.logRefused(entry.stream, reason);
    const letters = refused.map(({ entry, reason }) => ({ stream, fields: [...entry.fields, REASON_FIELD, reason, STREAM_FIELD, entry.stream] }));
    const again = await this.add(redis, letters);
    if (again.length > 0) throw new Error(`WRONGTYPE dead_letter_stream "${stream}" is not a stream either: ${again[0]!.reason}`);
  }

  private logRefused(stream: string, reason: string): void {
    const now = Date.now();
    if (now - (this.refusedLogged.get(stream) ?? 0) < REPEAT_LOG_MS) return;
    this.refusedLogged.set(stream, now);
    this.log.warn({ stream, dead_letter_stream: this.config.dead_letter_stream }, `${reason}: records sent to the dead-letter stream (said at most once a minute per stream)`);
  }

  describeError(err: unknown, topics: string[]): { kind: KafkaErrorKind; message: string } {
    return describeRedisError(err, { server: this.display, topics });
  }

  async close(): Promise<void> {
    if (!this.client) return;
    const redis = await this.client;
    await redis.quit().catch(() => redis.disconnect());
  }
}

/** An entry's fields: the record's JSON, then its headers (id, host, path) as they are. */
function fieldsOf(m: OutMessage): string[] {
  const fields = [RECORD_FIELD, m.value];
  for (const name in m.headers) fields.push(name, m.headers[name]!);
  return fields;
}

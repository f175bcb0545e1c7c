import type { Redis, RedisOptions } from 'ioredis';
import type { Batch } from '../../batch/types.ts';
import type { RedisConfig } from '../../config/types.ts';
import type { BatchProducer } from '../../kafka/batch-producer.ts';
import type { KafkaErrorKind } from '../../kafka/describe-error.ts';
import { pause } from '../../kafka/retry-policy.ts';
import type { Logger } from '../../observe/logger.ts';
import { describeRedisError } from './describe-error.ts';
import { redisClient, redisDisplay, redisTarget } from './redis-client.ts';

/** The field holding the record's JSON; the others are the record's headers (logship-id, logship-host, logship-path). */
export const RECORD_FIELD = 'record';
/** Why a dead letter is one (beside the record's fields). */
export const REASON_FIELD = 'logship-reason';
/** The stream a dead letter was meant for. */
export const STREAM_FIELD = 'logship-stream';

/** What the race of a pipeline against command_timeout_ms gives when the time is up. */
const TIMED_OUT: unique symbol = Symbol('timed out');

/** A stream name a key refused is logged again at most this often. */
const REPEAT_LOG_MS = 60_000;

interface Entry {
  stream: string;
  /** Names, and values: the record's JSON as bytes (see send). */
  fields: (string | Buffer)[];
}

/**
 * Redis Streams behind the producer interface (ioredis): a batch is one
 * pipeline of XADDs (`MAXLEN ~ n` when maxlen is set), and send() resolves
 * only when every XADD's reply is an entry id. A reply that is an error
 * rejects the batch (Delivery retries or spools it), except WRONGTYPE (the
 * key exists and is not a stream), which no retry fixes: those records go
 * to dead_letter_stream with the reason. While the connection is down,
 * sends fail at once (the spool takes the batches) and ioredis reconnects.
 *
 * A pipeline that gets no (complete) answer within command_timeout_ms
 * rejects, and the connection is dropped and opened again (replies to it
 * may still come: they must not be taken for the next batch's). One timer
 * for the pipeline, not ioredis' commandTimeout, which arms and clears one
 * per XADD.
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
    const target = redisTarget(config, { retry: true });
    // add() times each pipeline with one timer of its own.
    delete target.options.commandTimeout;
    this.target = target;
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
      // The record's JSON goes as the batch's bytes (ioredis writes Buffers as they are): not decoded to a string and encoded back.
      for (const [stream, records] of batch.topics) records.eachValue((value, headers) => entries.push({ stream, fields: fieldsOf(value, headers) }));
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
    const done = new AbortController();
    const timeoutMs = this.config.command_timeout_ms;
    try {
      const answered = pipeline.exec();
      answered.catch(() => undefined); // a pipeline that timed out may still fail later
      const answer = await Promise.race([answered, pause(timeoutMs, { signal: done.signal }).then((): typeof TIMED_OUT => TIMED_OUT)]);
      if (answer === TIMED_OUT) {
        // The answers may still come: a new connection, so they are not read as the next pipeline's.
        redis.disconnect(true);
        throw new Error(`no answer to ${entries.length} XADDs within output.redis.command_timeout_ms (${timeoutMs} ms): timed out`);
      }
      replies = answer;
    } catch (err) {
      throw this.lastError && this.lastError !== err ? new Error((err as Error).message, { cause: this.lastError }) : err;
    } finally {
      done.abort();
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
    // A server that does not answer QUIT (frozen) is not waited for longer than a command.
    const quit = redis.quit().then(() => true, () => false);
    const done = new AbortController();
    if (!(await Promise.race([quit, pause(this.config.command_timeout_ms, { signal: done.signal }).then(() => false)]))) redis.disconnect();
    done.abort();
  }
}

/** An entry's fields: the record's JSON, then its headers (id, host, path) as they are. */
function fieldsOf(value: Buffer, headers: Record<string, string>): (string | Buffer)[] {
  const fields: (string | Buffer)[] = [RECORD_FIELD, value];
  for (const name in headers) fields.push(name, headers[name]!);
  return fields;
}

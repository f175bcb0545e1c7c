import type { Redis } from 'ioredis';
import { ConfigError } from '../../config/load.ts';
import type { RedisConfig } from '../../config/types.ts';
import { CHECK_TIMEOUT_MS, type Verdict } from '../check-verdict.ts';
import { describeRedisError } from './describe-error.ts';
import { redisClient, redisDisplay, redisTarget } from './redis-client.ts';

/** Whether the user may XADD to `stream` (ACL DRYRUN, Redis 7), and whether the key is a stream. */
async function streamVerdict(redis: Redis, config: RedisConfig, stream: string, role: string): Promise<Verdict> {
  const item = `redis ${role} ${stream}`;
  if (stream.includes('{{')) return { ok: true, item, detail: 'a template: the streams it names are checked as records come' };
  const type = await redis.type(stream);
  if (type !== 'none' && type !== 'stream') return { ok: false, item, detail: `the key holds a ${type}, not a stream: its records would go to the dead-letter stream` };
  const what = type === 'none' ? 'does not exist yet (the first XADD creates it)' : `exists (${await redis.xlen(stream)} entries)`;
  let may: string;
  try {
    const reply = await redis.call('ACL', ['DRYRUN', config.username ?? 'default', 'XADD', stream, '*', 'logship', 'check']);
    if (reply !== 'OK') return { ok: false, item, detail: `${what}; the user may not write it: ${String(reply)}` };
    may = 'the user may XADD to it';
  } catch (err) {
    // ACL DRYRUN needs Redis 7 and the right to run ACL: without them, the first XADD tells.
    may = `write permission shows at the first XADD (ACL DRYRUN: ${(err as Error).message})`;
  }
  return { ok: true, item, detail: `${what}; ${may}` };
}

/** `check` for output.redis: the server reachable, the credentials accepted, the streams writable. */
export async function checkRedis(config: RedisConfig, out: Verdict[]): Promise<void> {
  const display = redisDisplay(config);
  let target;
  try {
    target = redisTarget(config, { retry: false, timeoutMs: Math.min(config.connection_timeout_ms, CHECK_TIMEOUT_MS) });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    out.push({ ok: false, item: 'redis', detail: err.problems.join('; '), fix: true });
    return;
  }
  const redis = await redisClient(target);
  let lastError: Error | undefined;
  redis.on('error', (err: Error) => (lastError = err));
  const item = `redis ${display}`;
  try {
    await redis.connect();
    const info = await redis.info('server');
    const version = /^redis_version:(.*)$/m.exec(info)?.[1]?.trim() ?? '?';
    out.push({ ok: true, item, detail: `reachable, authenticated${config.username ? ` as ${config.username}` : ''}: Redis ${version}` });
    out.push(await streamVerdict(redis, config, config.stream, 'stream'));
    out.push(await streamVerdict(redis, config, config.dead_letter_stream, 'dead-letter stream'));
  } catch (err) {
    const cause = lastError && lastError !== err ? new Error((err as Error).message, { cause: lastError }) : err;
    out.push({ ok: false, item, detail: describeRedisError(cause, { server: display, topics: [config.stream] }).message });
  } finally {
    redis.disconnect();
  }
}

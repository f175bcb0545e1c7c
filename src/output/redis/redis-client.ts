import { hostname } from 'node:os';
import type { Redis, RedisOptions } from 'ioredis';
import { ConfigError } from '../../config/load.ts';
import type { RedisConfig } from '../../config/types.ts';
import { connectionSecrets } from '../connection-secrets.ts';
import { safeUrl } from '../delivery-view.ts';

/** How messages name the server: its URL without credentials, and the user. */
export function redisDisplay(config: RedisConfig): string {
  return `${safeUrl(config.url)}${config.username ? ` (user ${config.username})` : ''}`;
}

/** How to reach output.redis: its URL and ioredis' options (see redisClient). Throws a ConfigError for a bad URL, password or TLS setting. */
export function redisTarget(config: RedisConfig, options: { retry: boolean; timeoutMs?: number }, env: NodeJS.ProcessEnv = process.env): { url: string; options: RedisOptions } {
  try {
    new URL(config.url);
  } catch {
    throw new ConfigError('output.redis.url', [`output.redis.url: not a URL (got ${JSON.stringify(config.url)})`]);
  }
  const { password, tls } = connectionSecrets(config, 'output.redis', env);
  const redisOptions: RedisOptions = {
    lazyConnect: true,
    enableOfflineQueue: false,
    // A batch that failed is Delivery's to send again (or spool), not the client's behind its back.
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    connectTimeout: options.timeoutMs ?? config.connection_timeout_ms,
    commandTimeout: options.timeoutMs ?? config.command_timeout_ms,
    connectionName: `logship@${hostname()}`.replace(/[^\x21-\x7e]/g, '_'),
    retryStrategy: options.retry ? (times) => Math.min(config.retry_backoff_max_ms, config.retry_backoff_ms * 2 ** Math.min(times, 20)) : () => null,
  };
  if (config.username !== undefined) redisOptions.username = config.username;
  if (password !== undefined) redisOptions.password = password;
  if (tls !== undefined) redisOptions.tls = tls;
  return { url: config.url, options: redisOptions };
}

/**
 * An ioredis client (not connected yet: connect() does). Commands fail at
 * once while the connection is down (no offline queue): Delivery then
 * spools the batch, while ioredis reconnects in the background, backing
 * off as delivery does; `retry: false` (check) tries once. ioredis is
 * loaded here, on first use: it costs ~20 MiB of RSS, which an agent
 * shipping to another output does not pay.
 */
export async function redisClient(target: { url: string; options: RedisOptions }): Promise<Redis> {
  const { Redis } = await import('ioredis');
  return new Redis(target.url, target.options);
}

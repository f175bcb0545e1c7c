import type { Options, SocketOptions } from 'amqplib';
import { hostname } from 'node:os';
import { ConfigError } from '../../config/load.ts';
import type { RabbitmqConfig } from '../../config/types.ts';
import { connectionSecrets } from '../connection-secrets.ts';
import { safeUrl } from '../delivery-view.ts';

/** Where and how to connect, as amqplib takes it; `display` names the broker in messages (no credentials). */
export interface AmqpTarget {
  connect: Options.Connect;
  socket: SocketOptions;
  display: string;
  vhost: string;
}

/**
 * output.rabbitmq's url, credentials and TLS as amqplib's connect options.
 * The password comes from password_env or password_file (a bad one is a
 * ConfigError naming the setting); amqps:// or tls.enabled speaks TLS.
 */
export function amqpTarget(config: RabbitmqConfig, env: NodeJS.ProcessEnv = process.env): AmqpTarget {
  let url: URL;
  try {
    url = new URL(config.url);
  } catch {
    throw new ConfigError('output.rabbitmq.url', [`output.rabbitmq.url: not a URL (got ${JSON.stringify(config.url)})`]);
  }
  const { password, tls } = connectionSecrets(config, 'output.rabbitmq', env);
  const secure = url.protocol === 'amqps:' || tls !== undefined;
  const vhost = url.pathname.length > 1 ? decodeURIComponent(url.pathname.slice(1)) : '/';
  const connect: Options.Connect = {
    protocol: secure ? 'amqps' : 'amqp',
    hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port ? Number(url.port) : secure ? 5671 : 5672,
    // The URL's own credentials only when the settings give none (the README says to keep them out of the URL).
    username: config.username ?? (decodeURIComponent(url.username) || 'guest'),
    password: password ?? (decodeURIComponent(url.password) || 'guest'),
    vhost,
  };
  // net.Socket takes the stream options (writableHighWaterMark) that amqplib passes on but does not type.
  const socket: SocketOptions & { writableHighWaterMark: number } = {
    ...(tls ?? {}),
    timeout: config.connection_timeout_ms,
    // A batch's last frames go at once: the confirm waits for them.
    noDelay: true,
    // Room for a batch's frames while publish corks the socket (corked-writes.ts): they go out in one writev, not a write each.
    writableHighWaterMark: 1 << 20,
    // Names the connection in the management UI and `rabbitmqctl list_connections`.
    clientProperties: { connection_name: `logship@${hostname()}` },
  };
  return { connect, socket, display: `${safeUrl(config.url)} (user ${connect.username}, vhost ${vhost})`, vhost };
}

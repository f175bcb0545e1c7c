/**
 * The first contact with Kafka, made to fail fast: `check`, and `run` at
 * start-up, wait a few seconds for the brokers, not request_timeout_ms. A
 * port that accepts TCP connections and never answers (another service, a
 * TLS listener spoken to in plaintext or the reverse, a hung proxy) is
 * named as such, instead of a bare timeout after half a minute.
 */
import { connect } from 'node:net';
import { Kafka, logLevel } from 'kafkajs';
import type { KafkaConfig } from '../config/types.ts';
import { clientSecurity } from '../kafka/client-security.ts';
import type { Logger } from '../observe/logger.ts';

/** How long a first contact waits: to connect, then for each answer. */
export const FIRST_CONTACT_MS = 5000;

/** A kafkajs client with the configuration's security, short timeouts, no retries. Throws ConfigError for a bad SASL or TLS setting. */
export function firstContactClient(kafka: KafkaConfig): Kafka {
  return new Kafka({
    clientId: kafka.client_id,
    brokers: kafka.brokers,
    ...clientSecurity(kafka),
    connectionTimeout: Math.min(kafka.connection_timeout_ms, FIRST_CONTACT_MS),
    requestTimeout: Math.min(kafka.request_timeout_ms, FIRST_CONTACT_MS),
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  });
}

/** Whether kafkajs gave up waiting (for the TLS handshake or an answer), as opposed to being refused. */
function waitedInVain(err: unknown): boolean {
  for (let e = err as { name?: string; message?: string; originalError?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 8; depth++) {
    if (e.name === 'KafkaJSRequestTimeoutError' || /Connection timeout|timed out|not connected/i.test(e.message ?? '')) return true;
    e = (e.originalError ?? e.cause) as typeof e;
  }
  return false;
}

/** Whether `broker` (host:port) accepts a TCP connection within `timeoutMs`. */
function acceptsTcp(broker: string, timeoutMs: number): Promise<boolean> {
  const colon = broker.lastIndexOf(':');
  return new Promise((resolve) => {
    const socket = connect({ host: broker.slice(0, colon), port: Number(broker.slice(colon + 1)), timeout: timeoutMs });
    const done = (accepted: boolean) => {
      socket.destroy();
      resolve(accepted);
    };
    socket.once('connect', () => done(true)).once('timeout', () => done(false)).once('error', () => done(false));
  });
}

/**
 * When a first contact failed by waiting in vain and brokers accept TCP: the
 * message naming them and what to look at. Undefined otherwise (the error
 * says what it is).
 */
export async function silentBrokers(err: unknown, kafka: KafkaConfig): Promise<{ brokers: string[]; message: string } | undefined> {
  if (!waitedInVain(err)) return undefined;
  const accepting = (await Promise.all(kafka.brokers.map(async (b) => ((await acceptsTcp(b, FIRST_CONTACT_MS)) ? b : undefined)))).filter((b): b is string => b !== undefined);
  if (accepting.length === 0) return undefined;
  const tls = kafka.tls?.enabled === true;
  const message =
    `${accepting.join(', ')} ${accepting.length === 1 ? 'accepts' : 'accept'} TCP connections but does not answer as Kafka (nothing within ${FIRST_CONTACT_MS / 1000} s): ` +
    `is it a Kafka listener's host:port (kafka.brokers)? ${tls ? 'kafka.tls is on: does that listener speak TLS?' : 'kafka.tls is off: does that listener expect TLS?'}`;
  return { brokers: accepting, message };
}

/**
 * `run`'s own first contact, beside the producer's (which waits
 * request_timeout_ms and keeps trying): logs, within seconds, brokers that
 * accept and never answer. Other failures are the producer's to report.
 */
export async function reportSilentBrokers(kafka: KafkaConfig, log: Logger): Promise<void> {
  const admin = firstContactClient(kafka).admin();
  try {
    await admin.connect();
  } catch (err) {
    const silent = await silentBrokers(err, kafka);
    if (silent) log.error({ brokers: silent.brokers }, `${silent.message}; will keep trying`);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * What amqplib throws (or a channel or connection closes with), as one line
 * an operator can act on and a kind for logship_errors_total: the same kinds
 * as Kafka's (src/kafka/describe-error.ts).
 */
import type { KafkaErrorKind } from '../../kafka/describe-error.ts';

interface ErrorLike {
  message?: string;
  code?: string | number;
  cause?: unknown;
}

function chain(err: unknown): ErrorLike[] {
  const out: ErrorLike[] = [];
  for (let e: unknown = err; e && typeof e === 'object' && out.length < 8; e = (e as ErrorLike).cause) out.push(e as ErrorLike);
  return out;
}

/** The AMQP reply code in a message amqplib wrote ("... 404 (NOT-FOUND) with message ..."), with its text. */
function replyOf(message: string): { code: number; text: string } | undefined {
  const match = /\b(\d{3}) \(([A-Z-]+)\)(?: with message "([^"]*)")?/.exec(message);
  return match ? { code: Number(match[1]), text: match[3] ?? match[2]! } : undefined;
}

export function describeRabbitmqError(err: unknown, context: { broker: string; exchange: string; topics: string[] }): { kind: KafkaErrorKind; message: string } {
  const errors = chain(err);
  const at = `RabbitMQ at ${context.broker}`;
  const named = errors.find((e) => e instanceof RabbitmqOutputError) as RabbitmqOutputError | undefined;
  for (const e of errors) {
    const reply = replyOf(e.message ?? '');
    if (!reply) continue;
    if (reply.code === 403 || reply.code === 530) return { kind: 'auth', message: `${at} refused access (${reply.code} ${reply.text}): check output.rabbitmq.username, the password, and the user's permissions on the vhost` };
    if (reply.code === 404) return { kind: 'unknown_topic', message: `${at}: ${reply.text}: declare it, or set output.rabbitmq.declare` };
    if (reply.code === 406) return { kind: 'other', message: `${at} refused a declaration (${reply.code} ${reply.text}): output.rabbitmq.declare differs from what exists` };
    if (reply.code === 320) return { kind: 'unreachable', message: `${at} closed the connection (${reply.code} ${reply.text})` };
    return { kind: 'other', message: `${at}: ${reply.code} ${reply.text}` };
  }
  if (named) return { kind: named.kind, message: `${at}: ${named.message}` };
  const tls = errors.find((e) => typeof e.code === 'string' && /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY/.test(e.code));
  if (tls) return { kind: 'tls', message: `TLS handshake with ${at} failed (${tls.code}: ${tls.message}): check output.rabbitmq.tls (ca_file, server_name, client certificate)` };
  const down = errors.find((e) => e.code === 'ECONNREFUSED' || e.code === 'ENOTFOUND' || e.code === 'EHOSTUNREACH' || e.code === 'ECONNRESET' || e.code === 'EPIPE');
  if (down) return { kind: 'unreachable', message: `cannot reach ${at} (${down.message})` };
  const timeout = errors.find((e) => e.code === 'ETIMEDOUT' || /timeout|timed out/i.test(e.message ?? ''));
  if (timeout) return { kind: 'timeout', message: `${at} did not answer in time (${timeout.message})` };
  if (errors.some((e) => /Socket closed abruptly|Connection closed|Channel closed|channel ended/i.test(e.message ?? ''))) {
    return { kind: 'unreachable', message: `${at}: the connection was lost (${errors[0]?.message})` };
  }
  return { kind: 'other', message: `publishing to ${at} failed: ${errors[errors.length - 1]?.message ?? String(err)}` };
}

/** A failure the producer itself names (confirm timeout, nack, blocked publishers, dead letters refused), with its kind. */
export class RabbitmqOutputError extends Error {
  readonly kind: KafkaErrorKind;
  constructor(kind: KafkaErrorKind, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RabbitmqOutputError';
    this.kind = kind;
  }
}

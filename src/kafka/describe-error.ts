/**
 * Turns what kafkajs throws into one line an operator can act on, and a
 * kind for the error counters. kafkajs wraps causes (retries exceeded →
 * original error → Node's socket error), so the chain is walked.
 */
import { isLegalTopicName, TOPIC_NAME_RULE } from '../config/patterns.ts';

export type KafkaErrorKind = 'auth' | 'tls' | 'authorization' | 'unreachable' | 'unknown_topic' | 'invalid_topic' | 'too_large' | 'timeout' | 'other';

interface ErrorLike {
  name?: string;
  message?: string;
  type?: string;
  code?: string;
  originalError?: unknown;
  cause?: unknown;
}

function chain(err: unknown): ErrorLike[] {
  const out: ErrorLike[] = [];
  let current: unknown = err;
  while (current && typeof current === 'object' && out.length < 8) {
    const e = current as ErrorLike;
    out.push(e);
    current = e.originalError ?? e.cause;
  }
  return out;
}

export function describeKafkaError(err: unknown, context: { brokers: string[]; topics: string[] }): { kind: KafkaErrorKind; message: string } {
  const errors = chain(err);
  const has = (test: (e: ErrorLike) => boolean) => errors.find(test);
  const brokers = context.brokers.join(', ');
  const sasl = has((e) => e.name === 'KafkaJSSASLAuthenticationError');
  if (sasl) return { kind: 'auth', message: `Kafka rejected the credentials (${sasl.message}): check kafka.sasl (mechanism, username, password)` };
  const tls = has((e) => typeof e.code === 'string' && /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY/.test(e.code));
  if (tls) return { kind: 'tls', message: `TLS handshake with ${brokers} failed (${tls.code}: ${tls.message}): check kafka.tls (ca_file, server_name, client certificate)` };
  const denied = has((e) => typeof e.type === 'string' && e.type.endsWith('_AUTHORIZATION_FAILED'));
  if (denied) {
    return { kind: 'authorization', message: `Kafka denies ${context.topics.length > 0 ? `writing to ${context.topics.join(', ')}` : 'access'} (${denied.type}): grant the ACLs to the SASL or TLS principal of kafka.sasl / kafka.tls` };
  }
  // A name Kafka refuses (from a template: empty, "." or ".."), said before kafkajs (client side, "Invalid topic") or by the broker.
  const invalid = has((e) => e.type === 'INVALID_TOPIC_EXCEPTION' || /invalid topic/i.test(e.message ?? ''));
  if (invalid) {
    const illegal = context.topics.filter((t) => !isLegalTopicName(t));
    const names = (illegal.length > 0 ? illegal : context.topics).map((t) => JSON.stringify(t)).join(', ');
    return { kind: 'invalid_topic', message: `illegal topic name ${names}: ${TOPIC_NAME_RULE}; check the topic template (kafka.topic, inputs[].topic) and the fields it takes` };
  }
  const topic = has((e) => e.type === 'UNKNOWN_TOPIC_OR_PARTITION');
  if (topic) {
    return {
      kind: 'unknown_topic',
      message: `topic ${context.topics.join(', ')} does not exist and the brokers do not create it (auto.create.topics.enable=false): create it, or fix kafka.topic`,
    };
  }
  const large = has((e) => e.type === 'MESSAGE_TOO_LARGE' || e.type === 'RECORD_LIST_TOO_LARGE');
  if (large) return { kind: 'too_large', message: `Kafka refused a batch as too large (${large.message}): lower batch.max_bytes or kafka.max_message_bytes to the broker's limit` };
  const down = has((e) => e.name === 'KafkaJSConnectionError' || e.name === 'KafkaJSBrokerNotFound' || e.code === 'ECONNREFUSED' || e.code === 'ENOTFOUND' || e.code === 'EHOSTUNREACH');
  if (down) return { kind: 'unreachable', message: `cannot reach Kafka at ${brokers} (${down.message})` };
  const timeout = has((e) => e.name === 'KafkaJSRequestTimeoutError' || e.name === 'KafkaJSTimeout' || e.type === 'REQUEST_TIMED_OUT');
  if (timeout) return { kind: 'timeout', message: `Kafka at ${brokers} did not answer in time (${timeout.message})` };
  const last = errors[errors.length - 1];
  return { kind: 'other', message: `sending to Kafka failed: ${last?.message ?? String(err)}` };
}

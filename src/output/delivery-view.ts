import type { Config, KafkaConfig, OutputDeliveryConfig } from '../config/types.ts';

/** A URL as logs and messages may show it: without credentials. */
export function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

interface Destination {
  url: string;
  /** The template records go to (routing key, stream). */
  topic: string;
  deadLetter: string;
  /** How long a batch may wait for its acknowledgement. */
  timeoutMs: number;
}

function view(settings: OutputDeliveryConfig, to: Destination): KafkaConfig {
  return {
    brokers: [safeUrl(to.url)],
    client_id: 'logship',
    topic: to.topic,
    dead_letter_topic: to.deadLetter,
    message_format: 'record',
    acks: 'all',
    idempotent: false,
    compression: 'none',
    max_message_bytes: settings.max_message_bytes,
    request_timeout_ms: to.timeoutMs,
    connection_timeout_ms: settings.connection_timeout_ms,
    retry_backoff_ms: settings.retry_backoff_ms,
    retry_backoff_max_ms: settings.retry_backoff_max_ms,
    max_in_flight: settings.max_in_flight,
  };
}

/**
 * For an output other than Kafka, `config.kafka` becomes the delivery
 * settings it shares with Kafka's (topic template, dead-letter name,
 * in-flight and backoff limits, largest record), taken from its section:
 * the parser, encoder, batcher, spool and delivery read them there, as
 * they always have, and stay the same code for every output. A kafka
 * section given beside another output is not used.
 */
export function applyOutputView(config: Config): void {
  const { output } = config;
  if (output.type === 'rabbitmq') {
    const r = output.rabbitmq!;
    config.kafka = view(r, { url: r.url, topic: r.routing_key, deadLetter: r.dead_letter_routing_key, timeoutMs: r.confirm_timeout_ms });
  } else if (output.type === 'redis') {
    const r = output.redis!;
    config.kafka = view(r, { url: r.url, topic: r.stream, deadLetter: r.dead_letter_stream, timeoutMs: r.command_timeout_ms });
  }
}

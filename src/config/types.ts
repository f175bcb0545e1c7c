/**
 * The configuration as validated (schema.ts) with defaults filled in. Keys
 * keep the YAML's snake_case so that a setting has one name everywhere:
 * the file, the schema, the code and the error messages.
 */

export type StartAt = 'beginning' | 'end';
export type OnParseError = 'dead_letter' | 'raw' | 'drop';
export type OnLongLine = 'truncate' | 'skip';
export type ContainerMode = 'none' | 'cri' | 'docker' | 'auto';
export type Acks = 'all' | 1 | 0;

export interface InputConfig {
  /** Names the input in logs and metrics; defaults to input-<index>. */
  name: string;
  /** file: follow `paths`; syslog: receive nginx's `access_log syslog:` messages (`syslog`). */
  type: 'file' | 'syslog';
  /** Empty for a syslog input. */
  paths: string[];
  exclude: string[];
  /** A preset name or a log_format string. */
  format?: string;
  nginx_conf?: string;
  format_name?: string;
  /** Overrides kafka.topic for this input. */
  topic?: string;
  start_at: StartAt;
  on_error: OnParseError;
  max_line_bytes: number;
  on_long_line: OnLongLine;
  /** How often a changing file is checked for growth, rotation and truncation when no event arrived. */
  poll_interval_ms: number;
  /** The longest a quiet file goes unchecked (the interval doubles from poll_interval_ms while nothing changes). */
  idle_poll_interval_ms: number;
  /** How often globs are re-expanded to find files that events missed. */
  scan_interval_ms: number;
  /** How long a rotated-away or deleted file is kept open for late writes. */
  rotate_wait_ms: number;
  /** Bytes of the first line hashed into a file's identity. */
  fingerprint_bytes: number;
  /** Descriptors this input may hold; idle files beyond it are closed and reopened when they grow. */
  max_open_files: number;
  /** Files not modified for this long are not followed unless they have a checkpoint; 0 = off. */
  ignore_older_ms: number;
  /** Ship a partial last line after this long without growth; 0 = wait for its newline. */
  partial_line_flush_ms: number;
  /** Ship partial last lines when the agent stops. */
  flush_partial_on_stop: boolean;
  /** Unwrap container runtime lines (Kubernetes CRI, Docker json-file) and add pod metadata. */
  container: ContainerMode;
  syslog?: SyslogConfig;
  /** Per-record transforms, applied in a fixed order (src/transform/compile.ts). */
  transforms?: TransformsConfig;
}

/** A syslog tag's own format (and topic), for several nginx access logs on one port. */
export interface SyslogTagConfig {
  format?: string;
  nginx_conf?: string;
  format_name?: string;
  topic?: string;
}

export interface SyslogConfig {
  /** host:port to receive datagrams on (what nginx sends). */
  udp?: string;
  /** host:port to accept connections on (relays: rsyslog, syslog-ng), octet-counted or newline-framed. */
  tcp?: string;
  /** SO_RCVBUF of the UDP socket (the kernel caps it at net.core.rmem_max). */
  receive_buffer_bytes?: number;
  /** UDP messages held while the pipeline is full; more are dropped and counted. */
  queue_messages: number;
  max_connections: number;
  tags: Record<string, SyslogTagConfig>;
}

/** `inputs[].transforms`: applied filter → sample → privacy → enrich → fields, whatever the order in the file. */
export interface TransformsConfig {
  /** One of the two (checked at compile): an expression (src/transform/expression.ts). */
  filter?: { drop_when?: string; keep_when?: string };
  sample?: { rate: number; key?: string; always_keep?: string };
  privacy?: PrivacyConfig;
  enrich?: { user_agent: boolean; user_agent_field: string };
  fields?: FieldsConfig;
}

export interface PrivacyConfig {
  /** The key of every keyed hash (ip mode hash, headers.hash): HMAC-SHA256. */
  secret_env?: string;
  secret_file?: string;
  ip?: { fields?: string[]; mode: 'truncate' | 'hash'; ipv4_prefix: number; ipv6_prefix: number };
  redact_query?: { params?: string[]; fields?: string[]; replacement: string };
  headers?: { drop?: string[]; hash?: string[] };
  /** A line that did not parse: shipped redacted (query parameters, IP addresses), or without its text. */
  dead_letter_raw: 'redact' | 'omit';
}

export interface FieldsConfig {
  keep?: string[];
  drop?: string[];
  rename?: Record<string, string>;
  add?: Record<string, string | number | boolean>;
  /** Where the file's `source` goes: the record (body), Kafka headers, or both (the default). */
  source: 'body' | 'headers' | 'both';
}

export interface TlsConfig {
  enabled: boolean;
  ca_file?: string;
  cert_file?: string;
  key_file?: string;
  server_name?: string;
  verify: boolean;
}

export interface SaslConfig {
  mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  username: string;
  password_env?: string;
  password_file?: string;
}

export interface KafkaConfig {
  brokers: string[];
  client_id: string;
  /** A template: `{{ field }}`, `{{ source.field }}`. */
  topic: string;
  key?: string;
  dead_letter_topic: string;
  message_format: 'record' | 'ndjson';
  acks: Acks;
  idempotent: boolean;
  compression: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
  max_message_bytes: number;
  request_timeout_ms: number;
  connection_timeout_ms: number;
  retry_backoff_ms: number;
  retry_backoff_max_ms: number;
  max_in_flight: number;
  tls?: TlsConfig;
  sasl?: SaslConfig;
}

/** What outputs other than Kafka share with kafka.* (same names and defaults). */
export interface OutputDeliveryConfig {
  username?: string;
  password_env?: string;
  password_file?: string;
  tls?: TlsConfig;
  max_message_bytes: number;
  connection_timeout_ms: number;
  retry_backoff_ms: number;
  retry_backoff_max_ms: number;
  max_in_flight: number;
}

export interface RabbitmqConfig extends OutputDeliveryConfig {
  url: string;
  exchange: string;
  /** A template, as kafka.topic. */
  routing_key: string;
  dead_letter_exchange?: string;
  dead_letter_routing_key: string;
  confirm_timeout_ms: number;
  declare?: { exchange_type: 'direct' | 'topic' | 'fanout' | 'headers'; queue?: string; binding_key: string; dead_letter_queue?: string };
}

export interface RedisConfig extends OutputDeliveryConfig {
  url: string;
  /** A template, as kafka.topic. */
  stream: string;
  dead_letter_stream: string;
  maxlen?: number;
  command_timeout_ms: number;
}

export type OutputType = 'kafka' | 'rabbitmq' | 'redis';

export interface OutputConfig {
  type: OutputType;
  rabbitmq?: RabbitmqConfig;
  redis?: RedisConfig;
}

export interface SpoolConfig {
  enabled: boolean;
  /** Default: <state_dir>/spool. */
  dir: string;
  max_bytes: number;
  segment_bytes: number;
  fsync: 'always' | 'batch' | 'interval';
  fsync_interval_ms: number;
  when_full: 'block' | 'drop_oldest';
  /** New batches go through the spool while it holds older ones (order per source kept), or straight to Kafka. */
  keep_order: boolean;
}

export interface BatchConfig {
  max_records: number;
  max_bytes: number;
  linger_ms: number;
}

export interface Config {
  inputs: InputConfig[];
  /**
   * For output.type kafka, the file's kafka section; for another output, the
   * delivery settings it shares with Kafka's, taken from its section
   * (src/output/delivery-view.ts), so that the stages before the output
   * read one place whatever the output.
   */
  kafka: KafkaConfig;
  output: OutputConfig;
  batch: BatchConfig;
  state_dir: string;
  /** Host name recorded in each record's source; defaults to the machine's. */
  host: string;
  log_level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** tap: serve `logship tap` on /tap; unset = on for a loopback listen address only (observe/tap.ts). */
  metrics: { enabled: boolean; listen: string; tap?: boolean };
  spool: SpoolConfig;
  shutdown_timeout_ms: number;
}

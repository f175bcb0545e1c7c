/**
 * JSON Schema of the configuration file: the single source of validation,
 * defaults (filled in by Ajv's useDefaults) and editor completion.
 */
import { transformsSchema } from '../transform/schema.ts';
import { BROKER_ADDRESS, DURATION_PATTERN, LISTEN_ADDRESS, SIZE_PATTERN, TOPIC_NAME, TOPIC_NAME_OR_TEMPLATE } from './patterns.ts';

const positiveInt = { type: 'integer', minimum: 1 } as const;

/** Milliseconds, or a duration with a unit (`30s`): src/config/units.ts turns it into milliseconds before validation. */
function duration(minimum: number) {
  return { anyOf: [{ type: 'integer', minimum }, { type: 'string', pattern: DURATION_PATTERN }] } as const;
}

/** Bytes, or a size with a unit (`64MiB`): src/config/units.ts turns it into bytes before validation. */
function size(minimum: number, maximum?: number) {
  return { anyOf: [{ type: 'integer', minimum, ...(maximum === undefined ? {} : { maximum }) }, { type: 'string', pattern: SIZE_PATTERN }] } as const;
}

/** TLS to an output's server (RabbitMQ, Redis): kafka.tls' shape. */
const outputTls = {
  type: 'object',
  additionalProperties: false,
  properties: {
    enabled: { type: 'boolean', default: true },
    ca_file: { type: 'string', minLength: 1, description: "PEM CA bundle to trust (default: Node's)." },
    cert_file: { type: 'string', minLength: 1, description: 'PEM client certificate (mTLS).' },
    key_file: { type: 'string', minLength: 1, description: 'PEM client key (mTLS).' },
    server_name: { type: 'string', minLength: 1, description: "Name to check the server certificate against (default: the URL's host)." },
    verify: { type: 'boolean', default: true, description: 'Check the server certificate and its name. Off only for tests.' },
  },
  dependencies: { cert_file: ['key_file'], key_file: ['cert_file'] },
} as const;

/** What every output other than Kafka shares with kafka.*: the same names, meanings and defaults. */
const outputDelivery = {
  username: { type: 'string', minLength: 1, description: 'User to authenticate as (RabbitMQ user, Redis ACL user).' },
  password_env: { type: 'string', minLength: 1, description: 'Environment variable holding the password.' },
  password_file: { type: 'string', minLength: 1, description: 'File holding the password (trailing newline ignored).' },
  tls: outputTls,
  max_message_bytes: { ...size(1), default: 1000000, description: 'A larger record is dead-lettered with its reason instead of retried forever.' },
  connection_timeout_ms: { ...duration(1), default: 10000 },
  retry_backoff_ms: { ...duration(1), default: 100, description: 'First delay before a failed batch is sent again; doubles, with jitter.' },
  retry_backoff_max_ms: { ...duration(1), default: 30000, description: 'Longest delay between two tries.' },
  max_in_flight: { ...positiveInt, default: 4, description: 'Batches handed to the output and not yet acknowledged; when reached, reading pauses.' },
} as const;

/** One password source at most, never the password itself (as kafka.sasl). */
const onePassword = { not: { required: ['password_env', 'password_file'] } } as const;

/** Where records go: Kafka (kafka:, the default), RabbitMQ or Redis Streams (src/output/). */
const outputSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    type: { enum: ['kafka', 'rabbitmq', 'redis'], default: 'kafka', description: 'kafka (settings under kafka:), rabbitmq or redis (settings under output.<type>).' },
    rabbitmq: {
      type: 'object',
      additionalProperties: false,
      required: ['url', 'exchange', 'routing_key'],
      properties: {
        url: { type: 'string', pattern: '^amqps?://', description: 'amqp://host:5672/vhost, or amqps:// for TLS; credentials go in username and password_env / password_file.' },
        exchange: { type: 'string', description: 'Exchange records are published to ("" is the default exchange: the routing key names a queue).' },
        routing_key: { type: 'string', minLength: 1, description: 'Routing key for records; a template: {{ field }} or {{ source.field }} (inputs[].topic overrides it).' },
        dead_letter_exchange: { type: 'string', description: 'Exchange for lines that did not parse, records too large and unroutable records (default: exchange).' },
        dead_letter_routing_key: { type: 'string', minLength: 1, default: 'logship-dead-letter', description: 'Routing key of dead letters; the reason rides in the logship-reason header.' },
        confirm_timeout_ms: { ...duration(1), default: 30000, description: 'Longest wait for the publisher confirms of a batch (a broker under a resource alarm blocks publishers); then it goes to the spool.' },
        declare: {
          type: 'object',
          additionalProperties: false,
          description: 'Declare the exchange (durable), and a durable queue bound to it, at start-up: for a quick start.',
          properties: {
            exchange_type: { enum: ['direct', 'topic', 'fanout', 'headers'], default: 'topic' },
            queue: { type: 'string', minLength: 1, description: 'A durable queue to declare and bind.' },
            binding_key: { type: 'string', default: '#', description: "The queue's binding key." },
            dead_letter_queue: { type: 'string', minLength: 1, description: 'A durable queue bound to the dead-letter exchange with dead_letter_routing_key.' },
          },
        },
        ...outputDelivery,
      },
      ...onePassword,
    },
    redis: {
      type: 'object',
      additionalProperties: false,
      required: ['url', 'stream'],
      properties: {
        url: { type: 'string', pattern: '^rediss?://', description: 'redis://host:6379/db, or rediss:// for TLS; credentials go in username and password_env / password_file.' },
        stream: { type: 'string', minLength: 1, description: 'Stream (key) for records; a template: {{ field }} or {{ source.field }} (inputs[].topic overrides it).' },
        dead_letter_stream: { type: 'string', minLength: 1, default: 'logship-dead-letter', description: 'Stream for lines that did not parse, records too large, and records a stream key refuses.' },
        maxlen: { ...positiveInt, description: 'Trim each stream to about this many entries (XADD MAXLEN ~); none: no trimming.' },
        command_timeout_ms: { ...duration(1), default: 30000, description: 'Longest wait for the replies of a batch; then it goes to the spool.' },
        ...outputDelivery,
      },
      ...onePassword,
    },
  },
  allOf: [
    { if: { type: 'object', properties: { type: { const: 'rabbitmq' } }, required: ['type'] }, then: { required: ['rabbitmq'] } },
    { if: { type: 'object', properties: { type: { const: 'redis' } }, required: ['type'] }, then: { required: ['redis'] } },
  ],
} as const;

export const configSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://logship.dev/schema/config.json',
  title: 'logship configuration',
  type: 'object',
  additionalProperties: false,
  required: ['inputs'],
  // kafka is required unless another output is chosen (output.type).
  if: { properties: { output: { type: 'object', properties: { type: { const: 'kafka' } } } } },
  then: { required: ['kafka'] },
  properties: {
    inputs: {
      description: 'Log files to follow; each input has its own format.',
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        properties: {
          name: { type: 'string', minLength: 1, description: 'Names the input in logs and metrics.' },
          type: { enum: ['file', 'syslog'], default: 'file', description: 'file: follow paths; syslog: receive what nginx sends with access_log syslog:server=... (settings under syslog).' },
          paths: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 }, description: 'Files or globs.' },
          exclude: { type: 'array', items: { type: 'string', minLength: 1 }, default: [], description: 'Globs of files to leave alone.' },
          format: { type: 'string', minLength: 1, description: 'A preset (combined, common, main, upstreaminfo, ...) or a log_format string.' },
          nginx_conf: { type: 'string', minLength: 1, description: 'Read the log_format from this nginx.conf (includes followed).' },
          format_name: { type: 'string', minLength: 1, description: 'The log_format name to read from nginx_conf.' },
          topic: { type: 'string', pattern: TOPIC_NAME_OR_TEMPLATE, description: 'Overrides kafka.topic for this input.' },
          start_at: { enum: ['beginning', 'end'], default: 'beginning', description: 'Where to start in a file seen for the first time.' },
          on_error: { enum: ['dead_letter', 'raw', 'drop'], default: 'dead_letter', description: 'What to do with a line that does not match the format.' },
          max_line_bytes: { ...size(1), default: 65536, description: 'Longest line kept whole; bounds memory for a runaway line.' },
          on_long_line: { enum: ['truncate', 'skip'], default: 'truncate', description: 'Cut a longer line to max_line_bytes, or skip it.' },
          poll_interval_ms: { ...duration(1), default: 250, description: 'Check of a changing file (growth, rotation, truncation) when no file event arrived.' },
          idle_poll_interval_ms: {
            ...duration(1),
            default: 5000,
            description: 'Longest a quiet file goes unchecked when no file event arrived: the check interval doubles from poll_interval_ms up to this while nothing changes, so thousands of idle files cost little.',
          },
          scan_interval_ms: { ...duration(1), default: 10000, description: 'Glob re-scan, the safety net for missed events.' },
          rotate_wait_ms: { ...duration(0), default: 5000, description: 'Keep a rotated or deleted file open this long for late writes.' },
          fingerprint_bytes: { ...size(16, 65536), default: 256, description: "Bytes of a file's first line hashed into its identity." },
          max_open_files: { type: 'integer', minimum: 2, default: 1024, description: 'Descriptors this input may hold; idle files beyond it are closed and reopened when they grow.' },
          ignore_older_ms: { ...duration(0), default: 0, description: 'Leave files not modified for this long (and without a checkpoint) alone; 0 = off.' },
          partial_line_flush_ms: { ...duration(0), default: 0, description: 'Ship a last line without newline after this long without growth; 0 = wait for the newline.' },
          flush_partial_on_stop: { type: 'boolean', default: false, description: 'Ship last lines without newline when the agent stops.' },
          container: { enum: ['none', 'cri', 'docker', 'auto'], default: 'none', description: 'Unwrap container runtime lines (CRI, Docker json-file) and add pod metadata from the file name.' },
          syslog: {
            type: 'object',
            additionalProperties: false,
            description: 'For type: syslog (udp, tcp or both). The message of each syslog message is parsed with the input format, or its tag\'s.',
            properties: {
              udp: { type: 'string', pattern: LISTEN_ADDRESS, description: 'host:port for datagrams, as nginx sends them (access_log syslog:server=host:port).' },
              tcp: { type: 'string', pattern: LISTEN_ADDRESS, description: 'host:port for TCP from relays (rsyslog, syslog-ng): octet-counted or newline-framed.' },
              receive_buffer_bytes: { ...size(1024), description: 'SO_RCVBUF of the UDP socket: what the kernel holds while the agent is busy (capped by net.core.rmem_max).' },
              queue_messages: { ...positiveInt, default: 10000, description: 'UDP messages held while Kafka is slow (and at most 16 MiB of them); more are dropped and counted (UDP has no backpressure).' },
              max_connections: { ...positiveInt, default: 256, description: 'TCP connections at once; more are refused.' },
              tags: {
                type: 'object',
                default: {},
                description: 'Formats (and topics) by syslog tag, for several access logs on one port; other tags use the input format.',
                additionalProperties: {
                  type: 'object',
                  additionalProperties: false,
                  properties: {
                    format: { type: 'string', minLength: 1 },
                    nginx_conf: { type: 'string', minLength: 1 },
                    format_name: { type: 'string', minLength: 1 },
                    topic: { type: 'string', pattern: TOPIC_NAME_OR_TEMPLATE },
                  },
                },
              },
            },
          },
          transforms: transformsSchema,
        },
        if: { properties: { type: { const: 'syslog' } }, required: ['type'] },
        then: { required: ['syslog'] },
        else: { required: ['paths'] },
        oneOf: [
          { required: ['format'], not: { anyOf: [{ required: ['nginx_conf'] }, { required: ['format_name'] }] } },
          { required: ['nginx_conf', 'format_name'], not: { required: ['format'] } },
        ],
      },
    },
    kafka: {
      type: 'object',
      additionalProperties: false,
      required: ['brokers', 'topic'],
      properties: {
        brokers: { type: 'array', minItems: 1, items: { type: 'string', pattern: BROKER_ADDRESS }, description: 'host:port of bootstrap brokers.' },
        client_id: { type: 'string', minLength: 1, default: 'logship' },
        topic: { type: 'string', pattern: TOPIC_NAME_OR_TEMPLATE, description: 'Topic for records; a template: {{ field }} or {{ source.field }}.' },
        key: { type: 'string', minLength: 1, description: 'Message key template, e.g. "{{ remote_addr }}"; none: no key (records spread over partitions).' },
        dead_letter_topic: { type: 'string', pattern: TOPIC_NAME, default: 'logship-dead-letter', description: 'Topic for lines that did not parse (on_error: dead_letter) and records too large to send.' },
        message_format: { enum: ['record', 'ndjson'], default: 'record', description: 'One JSON record per message, or one message per batch and key of newline-joined records.' },
        acks: { enum: ['all', 1, 0], default: 'all', description: 'all waits for every in-sync replica: the only setting that cannot lose acked data.' },
        idempotent: { type: 'boolean', default: false, description: "kafkajs' idempotent producer (needs acks: all): no duplicates from its own retries." },
        compression: { enum: ['none', 'gzip', 'snappy', 'lz4', 'zstd'], default: 'none' },
        max_message_bytes: { ...size(1), default: 1000000, description: 'A larger record is dead-lettered with its reason instead of retried forever.' },
        request_timeout_ms: { ...duration(1), default: 30000 },
        connection_timeout_ms: { ...duration(1), default: 10000 },
        retry_backoff_ms: { ...duration(1), default: 100, description: 'First delay before a failed request is sent again; doubles, with jitter.' },
        retry_backoff_max_ms: { ...duration(1), default: 30000, description: 'Longest delay between two tries.' },
        max_in_flight: { ...positiveInt, default: 4, description: 'Batches handed to Kafka and not yet acked (acked lines whose checkpoint is not on disk yet count too, batch.max_records to a batch); when reached, reading pauses.' },
        tls: {
          type: 'object',
          additionalProperties: false,
          properties: {
            enabled: { type: 'boolean', default: true },
            ca_file: { type: 'string', minLength: 1, description: "PEM CA bundle to trust (default: Node's)." },
            cert_file: { type: 'string', minLength: 1, description: 'PEM client certificate (mTLS).' },
            key_file: { type: 'string', minLength: 1, description: 'PEM client key (mTLS).' },
            server_name: { type: 'string', minLength: 1, description: 'Name to check the broker certificate against (default: the broker host).' },
            verify: { type: 'boolean', default: true, description: 'Check the broker certificate and its name. Off only for tests.' },
          },
          dependencies: { cert_file: ['key_file'], key_file: ['cert_file'] },
        },
        sasl: {
          type: 'object',
          additionalProperties: false,
          required: ['mechanism', 'username'],
          properties: {
            mechanism: { enum: ['plain', 'scram-sha-256', 'scram-sha-512'] },
            username: { type: 'string', minLength: 1 },
            password_env: { type: 'string', minLength: 1, description: 'Environment variable holding the password.' },
            password_file: { type: 'string', minLength: 1, description: 'File holding the password (trailing newline ignored).' },
          },
          oneOf: [{ required: ['password_env'] }, { required: ['password_file'] }],
        },
      },
      if: { properties: { idempotent: { const: true } }, required: ['idempotent'] },
      then: { properties: { acks: { const: 'all' } } },
    },
    output: outputSchema,
    batch: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        max_records: { ...positiveInt, default: 1000 },
        max_bytes: {
          ...size(1),
          default: 1000000,
          description: "Bytes of records per batch: values, keys, headers and Kafka's per-record framing. Keep it under the topic's max.message.bytes (broker default 1048588), which refuses a larger record batch.",
        },
        linger_ms: {
          ...duration(0),
          default: 200,
          description:
            'Longest a batch stays open. Not a wait: when nothing is in flight the lines just read go at once; while a request is in flight (until acked and checkpointed) the next batch fills, and goes when that request is done, when full, or after linger_ms, whichever comes first.',
        },
      },
    },
    state_dir: { type: 'string', minLength: 1, default: '/var/lib/logship', description: 'Checkpoints live here.' },
    host: { type: 'string', minLength: 1, description: 'Host name in each record; defaults to the machine name.' },
    log_level: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' },
    spool: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { type: 'boolean', default: true, description: 'Write batches Kafka cannot take now to disk, and replay them when it can.' },
        dir: { type: 'string', minLength: 1, description: 'Default: <state_dir>/spool.' },
        max_bytes: { ...size(1048576), default: 1073741824, description: 'Bound on all segment files.' },
        segment_bytes: { ...size(65536), default: 67108864 },
        fsync: { enum: ['always', 'batch', 'interval'], default: 'batch' },
        fsync_interval_ms: { ...duration(1), default: 1000 },
        when_full: { enum: ['block', 'drop_oldest'], default: 'block' },
        keep_order: { type: 'boolean', default: true, description: 'New batches go through the spool while it holds older ones.' },
      },
    },
    metrics: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { type: 'boolean', default: true },
        listen: { type: 'string', pattern: LISTEN_ADDRESS, default: '127.0.0.1:9598', description: 'host:port for /metrics, /healthz and /readyz.' },
        tap: {
          type: 'boolean',
          description: 'Serve `logship tap` (sample messages as Kafka gets them, which may hold personal data) on /tap. Unset: on when listen is a loopback address, off otherwise.',
        },
      },
    },
    shutdown_timeout_ms: { ...duration(1), default: 30000, description: 'Longest a SIGTERM drain may take.' },
  },
} as const;

/**
 * JSON Schema of the configuration file: the single source of validation,
 * defaults (filled in by Ajv's useDefaults) and editor completion.
 */
const positiveInt = { type: 'integer', minimum: 1 } as const;
const durationMs = { type: 'integer', minimum: 0 } as const;

export const configSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://logship.dev/schema/config.json',
  title: 'logship configuration',
  type: 'object',
  additionalProperties: false,
  required: ['inputs', 'kafka'],
  properties: {
    inputs: {
      description: 'Log files to follow; each input has its own format.',
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['paths'],
        properties: {
          name: { type: 'string', minLength: 1, description: 'Names the input in logs and metrics.' },
          paths: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 }, description: 'Files or globs.' },
          exclude: { type: 'array', items: { type: 'string', minLength: 1 }, default: [], description: 'Globs of files to leave alone.' },
          format: { type: 'string', minLength: 1, description: 'A preset (combined, common, main, upstreaminfo, ...) or a log_format string.' },
          nginx_conf: { type: 'string', minLength: 1, description: 'Read the log_format from this nginx.conf (includes followed).' },
          format_name: { type: 'string', minLength: 1, description: 'The log_format name to read from nginx_conf.' },
          topic: { type: 'string', minLength: 1, description: 'Overrides kafka.topic for this input.' },
          start_at: { enum: ['beginning', 'end'], default: 'beginning', description: 'Where to start in a file seen for the first time.' },
          on_error: { enum: ['dead_letter', 'raw', 'drop'], default: 'dead_letter', description: 'What to do with a line that does not match the format.' },
          max_line_bytes: { ...positiveInt, default: 65536, description: 'Longest line kept whole; bounds memory for a runaway line.' },
          on_long_line: { enum: ['truncate', 'skip'], default: 'truncate', description: 'Cut a longer line to max_line_bytes, or skip it.' },
          poll_interval_ms: { ...positiveInt, default: 250, description: 'Growth check when no file event arrived.' },
          scan_interval_ms: { ...positiveInt, default: 10000, description: 'Glob re-scan, the safety net for missed events.' },
          rotate_wait_ms: { ...durationMs, default: 5000, description: 'Keep a rotated or deleted file open this long for late writes.' },
          fingerprint_bytes: { type: 'integer', minimum: 16, maximum: 65536, default: 256, description: "Bytes of a file's first line hashed into its identity." },
          max_open_files: { type: 'integer', minimum: 2, default: 1024, description: 'Descriptors this input may hold; idle files beyond it are closed and reopened when they grow.' },
          ignore_older_ms: { ...durationMs, default: 0, description: 'Leave files not modified for this long (and without a checkpoint) alone; 0 = off.' },
          partial_line_flush_ms: { ...durationMs, default: 0, description: 'Ship a last line without newline after this long without growth; 0 = wait for the newline.' },
          flush_partial_on_stop: { type: 'boolean', default: false, description: 'Ship last lines without newline when the agent stops.' },
          container: { enum: ['none', 'cri', 'docker', 'auto'], default: 'none', description: 'Unwrap container runtime lines (CRI, Docker json-file) and add pod metadata from the file name.' },
        },
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
        brokers: { type: 'array', minItems: 1, items: { type: 'string', pattern: '^[^\\s:]+:[0-9]+$' }, description: 'host:port of bootstrap brokers.' },
        client_id: { type: 'string', minLength: 1, default: 'logship' },
        topic: { type: 'string', minLength: 1, description: 'Topic for parsed records.' },
        dead_letter_topic: { type: 'string', minLength: 1, default: 'logship-dead-letter', description: 'Topic for lines that did not parse (on_error: dead_letter).' },
        acks: { enum: ['all', 1, 0], default: 'all', description: 'all waits for every in-sync replica: the only setting that cannot lose acked data.' },
        request_timeout_ms: { ...positiveInt, default: 30000 },
        connection_timeout_ms: { ...positiveInt, default: 10000 },
        max_in_flight: { ...positiveInt, default: 4, description: 'Batches handed to Kafka and not yet acked; when reached, reading pauses.' },
      },
    },
    batch: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        max_records: { ...positiveInt, default: 1000 },
        max_bytes: { ...positiveInt, default: 1048576 },
        linger_ms: { ...durationMs, default: 200, description: 'Longest a record waits for its batch to fill.' },
      },
    },
    state_dir: { type: 'string', minLength: 1, default: '/var/lib/logship', description: 'Checkpoints live here.' },
    host: { type: 'string', minLength: 1, description: 'Host name in each record; defaults to the machine name.' },
    log_level: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' },
    shutdown_timeout_ms: { ...positiveInt, default: 30000, description: 'Longest a SIGTERM drain may take.' },
  },
} as const;
